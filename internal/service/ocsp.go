package service

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store"
)

// OCSP answers a DER OCSP request with a DER OCSP response (RFC 6960).
// Malformed requests and unknown issuers get the protocol's error
// responses, not Go errors. Answers to requests without a nonce are served
// from a cache until the issuer's revocations change or they age; requests
// with a nonce are signed afresh so the nonce can be echoed.
func (s *Service) OCSP(ctx context.Context, reqDER []byte) ([]byte, error) {
	req, nonce, err := pki.ParseOCSPRequest(reqDER)
	if err != nil {
		return ocsp.MalformedRequestErrorResponse, nil
	}
	key := fmt.Sprintf("%d:%x", req.HashAlgorithm, req.IssuerKeyHash)
	st := s.pki
	st.mu.RLock()
	issuer := st.byKeyHash[key]
	st.mu.RUnlock()
	if issuer == nil {
		if st.loaded.IsZero() || s.now().Sub(st.loaded) > time.Second {
			if err := s.reloadCAs(ctx); err != nil {
				return ocsp.InternalErrorErrorResponse, nil
			}
		}
		st.mu.RLock()
		issuer = st.byKeyHash[key]
		st.mu.RUnlock()
	}
	// Only CAs whose key pcad holds answer, and the name hash must match too.
	if issuer == nil || issuer.ca.KeyRef == "" || !pki.OCSPRequestFor(req, issuer.cert) {
		return ocsp.UnauthorizedErrorResponse, nil
	}
	serial := req.SerialNumber.Text(16)
	ck := ocspKey{issuer.ca.ID, serial, req.HashAlgorithm}
	st.mu.RLock()
	seq, gen := st.seq[issuer.ca.ID], st.caGen
	st.mu.RUnlock()
	now := s.now()
	// A cached entry still current (same revocation sequence and CA
	// generation, younger than ocspRefresh) answers a request without a
	// nonce as it is; a request with one gets the entry's status (no store
	// read) in a response signed for it.
	st.ocspMu.Lock()
	e, fresh := st.ocspCache[ck]
	st.ocspMu.Unlock()
	fresh = fresh && e.seq == seq && e.caGen == gen && now.Sub(e.produced) < ocspRefresh
	if fresh && nonce == nil && e.der != nil {
		return e.der, nil
	}
	answer := e.answer
	if fresh {
		// The status is current (the sequence has not moved): state it
		// as of now, as a store read would.
		answer.ThisUpdate = now.UTC().Truncate(time.Second)
		answer.NextUpdate = answer.ThisUpdate.Add(ocspValidity)
	} else {
		var err error
		answer, err = s.ocspAnswer(ctx, issuer, req.SerialNumber, serial, now)
		if err != nil {
			s.log.Error("ocsp lookup", "err", err)
			return ocsp.InternalErrorErrorResponse, nil
		}
		e = ocspEntry{answer: answer, produced: now, seq: seq, caGen: gen}
	}
	answer.Hash = req.HashAlgorithm
	signer, err := s.signer(ctx, issuer.ca.AccountID, issuer.ca.KeyRef)
	if err != nil {
		s.log.Error("ocsp signer", "err", err)
		return ocsp.InternalErrorErrorResponse, nil
	}
	der, err := pki.OCSPResponse(s.rand, answer, issuer.cert, issuer.cert, signer, nonce)
	if err != nil {
		s.log.Error("ocsp signing", "err", err)
		return ocsp.InternalErrorErrorResponse, nil
	}
	if nonce == nil || !fresh {
		if nonce == nil {
			e.der = der
		}
		st.ocspMu.Lock()
		if len(st.ocspCache) > 1_000_000 {
			clear(st.ocspCache) // crude bound; a busy responder refills it quickly
		}
		st.ocspCache[ck] = e
		st.ocspMu.Unlock()
	}
	return der, nil
}

// ocspAnswer decides the status of one serial under issuer.
func (s *Service) ocspAnswer(ctx context.Context, issuer *pkiCA, serialNum *big.Int, serial string, now time.Time) (pki.OCSPAnswer, error) {
	a := pki.OCSPAnswer{Serial: serialNum, ThisUpdate: now.UTC().Truncate(time.Second)}
	a.NextUpdate = a.ThisUpdate.Add(ocspValidity)
	rev, err := s.store.RevocationByIssuerSerial(ctx, issuer.ca.ID, serial)
	switch {
	case err == nil:
		a.Status, a.RevokedAt, a.Reason = pki.OCSPRevoked, rev.RevokedAt, int(rev.Reason)
		return a, nil
	case !errors.Is(err, store.ErrNotFound):
		return a, err
	}
	// Not revoked itself: does it exist, and is a CA above it revoked?
	exists := false
	if _, err := s.store.CertificateByIssuerSerial(ctx, issuer.ca.ID, serial); err == nil {
		exists = true
	} else if !errors.Is(err, store.ErrNotFound) {
		return a, err
	} else {
		// Sub-CA certificates issued by this CA are not in the certificate table.
		st := s.pki
		st.mu.RLock()
		for _, p := range st.byID {
			if p.ca.ParentID == issuer.ca.ID && strings.EqualFold(p.ca.SerialNumber, serial) {
				exists = true
				break
			}
		}
		st.mu.RUnlock()
	}
	if !exists {
		a.Status = pki.OCSPUnknown
		return a, nil
	}
	if revoked, at := s.chainRevoked(issuer.ca.ID); revoked {
		a.Status, a.RevokedAt, a.Reason = pki.OCSPRevoked, at, int(pca.ReasonCACompromise)
		return a, nil
	}
	a.Status = pki.OCSPGood
	return a, nil
}
