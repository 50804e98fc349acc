package service

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// Effective statuses of a certificate, in the OCSP-like words of the status
// lookups.
const (
	CertGood    = "good"
	CertRevoked = "revoked"
	CertUnknown = "unknown"
)

// maxCAChain bounds the walk from a certificate up to its root.
const maxCAChain = 8

// CertStatus is the effective status of an end-entity certificate.
type CertStatus struct {
	// Status is CertGood, CertRevoked or CertUnknown.
	Status string
	// RevokedAt, when revoked, is the earliest instant from which the
	// certificate is invalid: its own revocation or that of a CA above it.
	RevokedAt time.Time
	// Reason, when revoked, is the certificate's own revocation reason, or
	// pca.ReasonCACompromise when a revoked CA above it made it invalid first.
	Reason pca.RevocationReason
}

// CertificateStatus returns the effective status of c, a certificate of
// a's account:
//
//   - revoked when c is REVOKE; when c is not an inventory record (Status
//     neither ISSUE nor REVOKE, e.g. a record made from an issuer id and a
//     serial of a deleted certificate) and the store holds a revocation of
//     that serial under c.CAID; or when any CA above c is REVOKE;
//   - unknown when c is not an inventory record and no revocation exists;
//   - good otherwise. Expiry does not change the status (as in OCSP).
//
// Only c.CAID, c.SerialNumber, c.Status, c.RevokedAt and c.RevokeReason are
// read. The CAs are loaded through a's account: an OCSP responder passes the
// account that owns the issuing CA.
func (s *Service) CertificateStatus(ctx context.Context, a Actor, c pca.Certificate) (CertStatus, error) {
	return newStatusChecker(s, a).status(ctx, c)
}

// statusChecker computes statuses for one call, loading each CA once.
type statusChecker struct {
	s   *Service
	a   Actor
	cas map[int64]pca.CA
	// subs are the account's sub-CAs, loaded on first need (revocations of
	// deleted certificates found by serial).
	subs []pca.CA
}

func newStatusChecker(s *Service, a Actor) *statusChecker {
	return &statusChecker{s: s, a: a, cas: map[int64]pca.CA{}}
}

func (k *statusChecker) status(ctx context.Context, c pca.Certificate) (CertStatus, error) {
	var st CertStatus
	switch c.Status {
	case pca.StatusRevoke:
		st = CertStatus{Status: CertRevoked, RevokedAt: c.RevokedAt, Reason: c.RevokeReason}
	case pca.StatusIssue:
		st = CertStatus{Status: CertGood}
	default:
		rev, err := k.s.store.RevocationByIssuerSerial(ctx, c.CAID, c.SerialNumber)
		if errors.Is(err, store.ErrNotFound) {
			return CertStatus{Status: CertUnknown}, nil
		}
		if err != nil {
			return CertStatus{}, internal(fmt.Errorf("service: revocation lookup: %w", err))
		}
		st = CertStatus{Status: CertRevoked, RevokedAt: rev.RevokedAt, Reason: rev.Reason}
	}
	id := c.CAID
	for depth := 0; id != 0 && depth < maxCAChain; depth++ {
		ca, err := k.ca(ctx, id)
		if err != nil {
			return CertStatus{}, err
		}
		if ca.Status == pca.StatusRevoke && (st.Status != CertRevoked || ca.RevokedAt.Before(st.RevokedAt)) {
			st = CertStatus{Status: CertRevoked, RevokedAt: ca.RevokedAt, Reason: pca.ReasonCACompromise}
		}
		id = ca.ParentID
	}
	return st, nil
}

func (k *statusChecker) ca(ctx context.Context, id int64) (pca.CA, error) {
	if ca, ok := k.cas[id]; ok {
		return ca, nil
	}
	ca, err := k.s.store.GetCAByID(ctx, k.a.AccountID, id)
	if err != nil {
		return pca.CA{}, internal(fmt.Errorf("service: load issuing CA %d: %w", id, err))
	}
	k.cas[id] = ca
	return ca, nil
}

// deletedRevoked looks for a revocation of serial under the account's
// sub-CAs: the trace a revoked certificate leaves once it is deleted. It
// returns a record carrying the issuer and serial, or ok false.
func (k *statusChecker) deletedRevoked(ctx context.Context, serial string) (pca.Certificate, bool, error) {
	if k.subs == nil {
		k.subs = []pca.CA{}
		for offset := int64(0); ; {
			page, total, err := k.s.store.ListCAs(ctx, k.a.AccountID, store.CAQuery{Type: pca.CASub, Offset: offset, Limit: 2000})
			if err != nil {
				return pca.Certificate{}, false, internal(err)
			}
			k.subs = append(k.subs, page...)
			offset += int64(len(page))
			if len(page) == 0 || offset >= total {
				break
			}
		}
	}
	for _, ca := range k.subs {
		_, err := k.s.store.RevocationByIssuerSerial(ctx, ca.ID, serial)
		if err == nil {
			return pca.Certificate{CAID: ca.ID, ParentIdentifier: ca.Identifier, SerialNumber: serial}, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return pca.Certificate{}, false, internal(err)
		}
	}
	return pca.Certificate{}, false, nil
}

// StatusEntry is one answer of a status lookup.
type StatusEntry struct {
	// SerialNumber is the certificate's serial (lower-case hex); for an
	// unknown identifier it is empty, for an unknown serial the serial asked.
	SerialNumber string
	CertStatus
}

// MaxStatusItems caps the identifiers or serials of one status lookup.
const MaxStatusItems = 100

// StatusByIdentifiers returns the effective status of each certificate of
// the caller's account named by ids, in order: CertUnknown (with an empty
// serial) for an identifier that names no certificate of the account,
// including a deleted one.
func (s *Service) StatusByIdentifiers(ctx context.Context, a Actor, ids []string) ([]StatusEntry, error) {
	if len(ids) > MaxStatusItems {
		return nil, pca.Invalid("Identifier", "The specified parameter Identifier is not valid: at most %d identifiers per call.", MaxStatusItems)
	}
	k := newStatusChecker(s, a)
	out := make([]StatusEntry, 0, len(ids))
	for _, id := range ids {
		c, err := s.store.GetCertificate(ctx, a.AccountID, id)
		if errors.Is(err, store.ErrNotFound) {
			out = append(out, StatusEntry{CertStatus: CertStatus{Status: CertUnknown}})
			continue
		}
		if err != nil {
			return nil, internal(err)
		}
		st, err := k.status(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, StatusEntry{SerialNumber: c.SerialNumber, CertStatus: st})
	}
	return out, nil
}

// StatusBySerials returns the effective status of the caller's certificates
// with the given hexadecimal serials (see NormalizeSerial), in request order
// without repeats: one entry per matching certificate (a serial may match
// certificates of several issuers), or one CertUnknown entry. SerialNumber
// is the normalized serial. A revoked certificate that was deleted is still
// reported revoked.
func (s *Service) StatusBySerials(ctx context.Context, a Actor, serials []string) ([]StatusEntry, error) {
	serials, err := normalizeSerials("SerialNumber", serials)
	if err != nil {
		return nil, err
	}
	bySerial, err := s.certificatesBySerial(ctx, a, serials)
	if err != nil {
		return nil, err
	}
	k := newStatusChecker(s, a)
	out := make([]StatusEntry, 0, len(serials))
	for _, sn := range serials {
		certs := bySerial[sn]
		if len(certs) == 0 {
			c, found, err := k.deletedRevoked(ctx, sn)
			if err != nil {
				return nil, err
			}
			if !found {
				out = append(out, StatusEntry{SerialNumber: sn, CertStatus: CertStatus{Status: CertUnknown}})
				continue
			}
			certs = []pca.Certificate{c}
		}
		for _, c := range certs {
			st, err := k.status(ctx, c)
			if err != nil {
				return nil, err
			}
			out = append(out, StatusEntry{SerialNumber: sn, CertStatus: st})
		}
	}
	return out, nil
}

// NormalizeSerial checks a hexadecimal serial number given in param and
// returns it as the store keeps serials: lower-case, without leading zeros.
// At most 40 hex digits (20 octets, RFC 5280) are accepted.
func NormalizeSerial(param, v string) (string, error) {
	if v == "" || len(v) > 40 {
		return "", pca.Invalid(param, "The specified parameter %s is not valid: a serial number is 1 to 40 hexadecimal digits.", param)
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return "", pca.Invalid(param, "The specified parameter %s is not valid: %q is not a hexadecimal serial number.", param, v)
		}
	}
	v = strings.TrimLeft(strings.ToLower(v), "0")
	if v == "" {
		v = "0"
	}
	return v, nil
}

// normalizeSerials normalizes and de-duplicates at most MaxStatusItems
// serials given in param, keeping the first occurrence's position.
func normalizeSerials(param string, in []string) ([]string, error) {
	if len(in) > MaxStatusItems {
		return nil, pca.Invalid(param, "The specified parameter %s is not valid: at most %d serial numbers per call.", param, MaxStatusItems)
	}
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, v := range in {
		n, err := NormalizeSerial(param, v)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}
