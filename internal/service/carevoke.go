package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// RevokeCA revokes a CA of the caller's account. It can no longer issue,
// its serial goes on its parent's CRL (for a sub-CA), and every certificate
// under it reports revoked through OCSP and the status calls.
func (s *Service) RevokeCA(ctx context.Context, a Actor, identifier string) (pca.CA, error) {
	ca, err := s.store.RevokeCA(ctx, a.AccountID, identifier, s.now().UTC())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return pca.CA{}, pca.NotFound("Identifier", "CA", identifier)
	case errors.Is(err, store.ErrState):
		return pca.CA{}, pca.StateError("CARevoked", "The CA %q is already revoked.", identifier)
	case err != nil:
		return pca.CA{}, internal(err)
	}
	if err := s.store.AddCAEvent(ctx, store.CAEvent{AccountID: a.AccountID, CAID: ca.ID, OpType: "UPDATE",
		Content: fmt.Sprintf("revoked %s CA %s at %s UTC", ca.Type, ca.SubjectDN, ca.RevokedAt.Format(time.DateTime)),
		Created: s.now().UTC(), RequestID: requestID(ctx)}); err != nil {
		s.log.Error("recording a CA event", "ca", ca.Identifier, "err", err)
	}
	s.noteCAStatus(ctx, ca.ParentID)
	return ca, nil
}

// InstanceCA returns the CA owning an instance of the caller's account.
func (s *Service) InstanceCA(ctx context.Context, a Actor, uuid string) (pca.CA, error) {
	in, err := s.Instance(ctx, a, uuid)
	if err != nil {
		return pca.CA{}, err
	}
	ca, err := s.store.GetCAByID(ctx, a.AccountID, in.CAID)
	if err != nil {
		return pca.CA{}, internal(err)
	}
	return ca, nil
}
