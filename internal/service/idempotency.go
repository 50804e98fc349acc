package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/pcad-dev/pcad/internal/pca"
)

// IdempotencyKey names one idempotent call: the action, the caller's
// token and a fingerprint of the call's parameters (computed by the
// protocol layer, which knows which parameters belong to the call).
type IdempotencyKey struct {
	Action      string
	Token       string
	Fingerprint string
}

// Idempotent runs fn at most once per account, action and token, and
// stores its result (bytes the protocol layer can send again):
//
//   - a new token runs fn; a result is stored and returned; an error
//     releases the token (a retry runs fn again) and is returned;
//   - a token whose first call completed with the same fingerprint returns
//     the stored result without running fn;
//   - a token used with another fingerprint is a KindIdempotencyMismatch
//     error (IdempotentParameterMismatch);
//   - a token whose first call is still running is a KindExists error
//     (Detail "ClientTokenInProgress").
//
// Tokens are kept without expiry. If the process stops while fn runs, the
// token stays "in progress" (the store records no claim time).
func (s *Service) Idempotent(ctx context.Context, a Actor, key IdempotencyKey, fn func(ctx context.Context) ([]byte, error)) ([]byte, error) {
	if key.Action == "" || key.Token == "" || key.Fingerprint == "" {
		return nil, pca.Internal(errors.New("service: idempotency key without action, token or fingerprint"))
	}
	rec, claimed, err := s.store.ClaimIdempotency(ctx, a.AccountID, key.Action, key.Token, key.Fingerprint, s.now().UTC())
	if err != nil {
		return nil, internal(fmt.Errorf("service: claim token: %w", err))
	}
	if !claimed {
		switch {
		case rec.Fingerprint != key.Fingerprint:
			return nil, &pca.Error{Kind: pca.KindIdempotencyMismatch, Param: "ClientToken",
				Msg: fmt.Sprintf("The ClientToken %q was already used for %s with different parameters.", key.Token, key.Action)}
		case rec.Response == nil:
			return nil, &pca.Error{Kind: pca.KindExists, Param: "ClientToken", Detail: "ClientTokenInProgress",
				Msg: fmt.Sprintf("A %s request with the ClientToken %q is still in progress; retry later.", key.Action, key.Token)}
		}
		return rec.Response, nil
	}
	// The claim must be settled even if the caller goes away or fn panics.
	settle := context.WithoutCancel(ctx)
	done := false
	defer func() {
		if !done {
			if err := s.store.ReleaseIdempotency(settle, a.AccountID, key.Action, key.Token); err != nil {
				s.log.Error("service: release idempotency token", "action", key.Action, "account", a.AccountID, "error", err)
			}
		}
	}()
	out, err := fn(ctx)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 { // an empty record would read as "still running"
		return nil, pca.Internal(fmt.Errorf("service: %s gave an empty result to store", key.Action))
	}
	done = true
	if err := s.store.CompleteIdempotency(settle, a.AccountID, key.Action, key.Token, out); err != nil {
		// The call succeeded: answer it. A retry with this token will be
		// told the first call is still in progress.
		s.log.Error("service: complete idempotency token", "action", key.Action, "account", a.AccountID, "error", err)
	}
	return out, nil
}
