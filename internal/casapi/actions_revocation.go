package casapi

import (
	"context"
	"strconv"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
)

// revocationActions returns the actions of this group: CA revocation and
// CRL addresses.
func (a *API) revocationActions() map[string]openapi.HandlerFunc {
	return map[string]openapi.HandlerFunc{
		"UpdateCACertificateStatus": a.updateCAStatus,
		"GetCaInstanceCrlAddress":   a.crlAddress,
	}
}

func (a *API) updateCAStatus(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	id := b.str("Identifier", true, 64)
	b.oneOf("Status", true, "REVOKE")
	b.str("ClientToken", false, 64)
	if b.err != nil {
		return nil, b.err
	}
	if _, err := a.svc.RevokeCA(ctx, actor(r), id); err != nil {
		return nil, err
	}
	return empty{}, nil
}

type crlAddress struct {
	CrlUrl           string `json:"CrlUrl"`
	HashCode         string `json:"HashCode"`
	NextUpdateTime   string `json:"NextUpdateTime"` // Unix milliseconds, as a string (spec)
	CaInstanceStatus string `json:"CaInstanceStatus"`
	CaType           string `json:"CaType"`
}

func (a *API) crlAddress(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	id := b.str("CaIdentifier", false, 64)
	uuid := b.str("Uuid", false, 64)
	if b.err != nil {
		return nil, b.err
	}
	act := actor(r)
	param := "CaIdentifier"
	switch {
	case id == "" && uuid == "":
		return nil, pca.Missing("CaIdentifier")
	case id == "":
		if !pca.ValidUUID(uuid) {
			return nil, pca.Invalid("Uuid", "The specified parameter Uuid is not valid: %q is not a UUID.", uuid)
		}
		ca, err := a.svc.InstanceCA(ctx, act, uuid)
		if err != nil {
			return nil, err
		}
		id, param = ca.Identifier, "Uuid"
	}
	ca, err := a.svc.GetCA(ctx, act, param, id)
	if err != nil {
		return nil, err
	}
	info, err := a.svc.CRLInfo(ctx, act, param, ca.Identifier)
	if err != nil {
		return nil, err
	}
	status := "normal"
	if ca.Status == pca.StatusRevoke {
		status = "revoked"
	}
	return crlAddress{CrlUrl: info.URL, HashCode: info.HashCode, NextUpdateTime: strconv.FormatInt(info.NextUpdate.UnixMilli(), 10),
		CaInstanceStatus: status, CaType: string(ca.Type)}, nil
}
