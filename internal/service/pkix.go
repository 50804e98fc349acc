package service

import (
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"sync"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
)

// The public PKI side of the service: CA certificates, CRLs and OCSP. These
// lookups are not scoped to an account: the endpoints are public, and what
// they publish (certificates, revocation state) is meant to be public.

// Paths of the public endpoints, relative to Config.PublicURL.
const (
	caPath   = "/pki/ca/"
	crlPath  = "/pki/crl/"
	ocspPath = "/pki/ocsp"
)

// OCSP response lifetimes.
const (
	ocspValidity = time.Hour        // nextUpdate - thisUpdate
	ocspRefresh  = 30 * time.Minute // cached responses older than this are re-signed
)

// CACertURL, CRLURL and OCSPURL are the public addresses certificates carry.
func (s *Service) CACertURL(ca pca.CA) string { return s.publicURL + caPath + ca.Identifier + ".crt" }

// CRLURL is the address of a CA's CRL.
func (s *Service) CRLURL(ca pca.CA) string { return s.publicURL + crlPath + ca.Identifier + ".crl" }

// OCSPURL is the address of the OCSP responder.
func (s *Service) OCSPURL() string { return s.publicURL + ocspPath }

// issuerURLs returns the CRL distribution points and AIA URLs for a
// certificate issued by ca: the CRL only when the CA publishes one.
func (s *Service) issuerURLs(ca pca.CA) (crl, ocspURLs, issuers []string) {
	if s.publicURL == "" {
		return nil, nil, nil
	}
	if ca.EnableCRL || ca.Type == pca.CARoot {
		crl = []string{s.CRLURL(ca)}
	}
	return crl, []string{s.OCSPURL()}, []string{s.CACertURL(ca)}
}

// pkiCA is a CA as the public endpoints need it.
type pkiCA struct {
	ca   pca.CA
	cert *x509.Certificate
}

// pkiState is the public side's cache, kept fresh by Poll and by local
// revocations. Safe for concurrent use.
type pkiState struct {
	mu        sync.RWMutex
	byID      map[int64]*pkiCA
	byIdent   map[string]*pkiCA
	byKeyHash map[string]*pkiCA // hash name + ":" + issuer key hash
	seq       map[int64]int64   // revocation sequence per CA, as last seen
	caGen     int64             // bumped whenever a CA's status changes
	loaded    time.Time

	ocspMu    sync.Mutex
	ocspCache map[ocspKey]ocspEntry

	crlWake chan struct{}
}

type ocspKey struct {
	caID   int64
	serial string
	hash   crypto.Hash // the request's CertID hash, which the response repeats
}

type ocspEntry struct {
	der      []byte         // the response without a nonce; nil until one was asked for
	answer   pki.OCSPAnswer // the status it (and responses with a nonce) state
	produced time.Time
	seq      int64 // the issuer's revocation sequence when signed
	caGen    int64
}

func newPKIState() *pkiState {
	return &pkiState{byID: map[int64]*pkiCA{}, byIdent: map[string]*pkiCA{}, byKeyHash: map[string]*pkiCA{},
		seq: map[int64]int64{}, ocspCache: map[ocspKey]ocspEntry{}, crlWake: make(chan struct{}, 1)}
}

// reloadCAs reads every CA into the index.
func (s *Service) reloadCAs(ctx context.Context) error {
	cas, err := s.store.AllCAs(ctx)
	if err != nil {
		return err
	}
	byID := make(map[int64]*pkiCA, len(cas))
	byIdent := make(map[string]*pkiCA, len(cas))
	byKeyHash := make(map[string]*pkiCA, 2*len(cas))
	for _, ca := range cas {
		cert, err := x509.ParseCertificate(ca.DER)
		if err != nil {
			s.log.Error("skipping a CA whose certificate does not parse", "ca", ca.Identifier, "err", err)
			continue
		}
		p := &pkiCA{ca: ca, cert: cert}
		byID[ca.ID], byIdent[ca.Identifier] = p, p
		var spki struct {
			Algorithm asn1.RawValue
			PublicKey asn1.BitString
		}
		if _, err := asn1.Unmarshal(cert.RawSubjectPublicKeyInfo, &spki); err == nil {
			h1 := sha1.Sum(spki.PublicKey.RightAlign())
			h256 := sha256.Sum256(spki.PublicKey.RightAlign())
			byKeyHash[fmt.Sprintf("%d:%x", crypto.SHA1, h1)] = p
			byKeyHash[fmt.Sprintf("%d:%x", crypto.SHA256, h256)] = p
		}
	}
	st := s.pki
	st.mu.Lock()
	st.byID, st.byIdent, st.byKeyHash, st.loaded = byID, byIdent, byKeyHash, s.now()
	st.mu.Unlock()
	return nil
}

// publicCA finds a CA by identifier for the public endpoints, reloading the
// index once on a miss (a CA made by another replica, or just now).
func (s *Service) publicCA(ctx context.Context, identifier string) (*pkiCA, error) {
	st := s.pki
	st.mu.RLock()
	p := st.byIdent[identifier]
	st.mu.RUnlock()
	if p != nil {
		return p, nil
	}
	if err := s.reloadCAs(ctx); err != nil {
		return nil, internal(err)
	}
	st.mu.RLock()
	p = st.byIdent[identifier]
	st.mu.RUnlock()
	if p == nil {
		return nil, pca.NotFound("Identifier", "CA", identifier)
	}
	return p, nil
}

// CACertificate returns a CA's certificate (DER) for the public endpoint.
func (s *Service) CACertificate(ctx context.Context, identifier string) ([]byte, error) {
	p, err := s.publicCA(ctx, identifier)
	if err != nil {
		return nil, err
	}
	return p.ca.DER, nil
}

// chainRevoked reports whether ca or any CA above it is revoked, from the
// index.
func (s *Service) chainRevoked(caID int64) (bool, time.Time) {
	st := s.pki
	st.mu.RLock()
	defer st.mu.RUnlock()
	for p := st.byID[caID]; p != nil; p = st.byID[p.ca.ParentID] {
		if p.ca.Status == pca.StatusRevoke {
			return true, p.ca.RevokedAt
		}
		if p.ca.ParentID == 0 {
			break
		}
	}
	return false, time.Time{}
}

// noteRevocation tells the public side that caID's revocations changed:
// cached OCSP answers of that CA stop being served and its CRL is rebuilt.
func (s *Service) noteRevocation(caID int64) {
	st := s.pki
	st.mu.Lock()
	st.seq[caID]++
	st.mu.Unlock()
	s.wakeCRLBuilder()
}

// noteCAStatus tells the public side that a CA's status changed: every
// cached OCSP answer is dropped and the index is reloaded.
func (s *Service) noteCAStatus(ctx context.Context, parentID int64) {
	st := s.pki
	st.mu.Lock()
	st.caGen++
	st.mu.Unlock()
	if err := s.reloadCAs(ctx); err != nil {
		s.log.Error("reloading CAs after a status change", "err", err)
	}
	if parentID != 0 {
		s.noteRevocation(parentID)
	}
}

func (s *Service) wakeCRLBuilder() {
	select {
	case s.pki.crlWake <- struct{}{}:
	default:
	}
}
