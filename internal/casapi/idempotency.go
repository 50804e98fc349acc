package casapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// idempotentActions are the actions whose ClientToken is honoured (spec
// C.17). An action of the list that the table does not serve is skipped.
var idempotentActions = []string{
	"CreateRootCACertificate",
	"CreateSubCACertificate",
	"CreateClientCertificate",
	"UpdatePcaCertificate",
	"UpdateCACertificateStatus",
}

// protocolParams are the parameters that belong to the request, not to the
// call: they are left out of the fingerprint, so that a retry signed anew
// (or in the other signature mode) still matches.
var protocolParams = map[string]bool{
	"Action": true, "Version": true, "Format": true, "RegionId": true,
	"AccessKeyId": true, "Signature": true, "SignatureMethod": true, "SignatureVersion": true,
	"SignatureNonce": true, "SignatureType": true, "Timestamp": true,
	"SecurityToken": true, "BearerToken": true,
	"ClientToken": true,
}

// withIdempotency wraps the actions that take a ClientToken so that a
// repeated token returns the first result (see service.Idempotent):
//
//   - same token, same parameters: the first answer again (same
//     Identifier), without running the action;
//   - same token, other parameters: IdempotentParameterMismatch (400);
//   - same token while the first call still runs:
//     AlreadyExists.ClientTokenInProgress (409);
//   - a first call that fails leaves no trace: the token can be used again.
//
// Tokens are per account and action. Without ClientToken nothing changes.
func (a *API) withIdempotency(table map[string]openapi.HandlerFunc) map[string]openapi.HandlerFunc {
	for _, name := range idempotentActions {
		if fn, ok := table[name]; ok {
			table[name] = a.idempotent(name, fn)
		}
	}
	return table
}

func (a *API) idempotent(action string, fn openapi.HandlerFunc) openapi.HandlerFunc {
	return func(ctx context.Context, r *openapi.Request) (any, error) {
		b := newBinder(r)
		token := b.str("ClientToken", false, 64)
		if b.err != nil {
			return nil, b.err
		}
		if token == "" {
			return fn(ctx, r)
		}
		for i := 0; i < len(token); i++ {
			if token[i] < 0x20 || token[i] > 0x7e {
				return nil, pca.Invalid("ClientToken", "The specified parameter ClientToken is not valid: use at most 64 printable ASCII characters.")
			}
		}
		key := service.IdempotencyKey{Action: action, Token: token, Fingerprint: fingerprint(r.Params)}
		out, err := a.svc.Idempotent(ctx, actor(r), key, func(ctx context.Context) ([]byte, error) {
			res, err := fn(ctx, r)
			if err != nil {
				return nil, err
			}
			body, err := json.Marshal(res)
			if err != nil {
				return nil, pca.Internal(fmt.Errorf("casapi: encode %s answer: %w", action, err))
			}
			return body, nil
		})
		if err != nil {
			return nil, err
		}
		return json.RawMessage(out), nil
	}
}

// fingerprint is the hex SHA-256 of the call's parameters: every name not
// in protocolParams, in sorted order, with its value (the first one: the
// only one handlers read), each length-prefixed so that no two parameter
// sets encode alike.
func fingerprint(p openapi.Params) string {
	h := sha256.New()
	for _, name := range p.Names() {
		if protocolParams[name] {
			continue
		}
		v, _ := p.Get(name)
		fmt.Fprintf(h, "%d:%s=%d:%s;", len(name), name, len(v), v)
	}
	return "v1:" + hex.EncodeToString(h.Sum(nil))
}
