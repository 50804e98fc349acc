package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store"
)

// crlMargin: a CRL is re-issued when its NextUpdate is closer than this.
const crlMargin = time.Hour

// CRL returns the CA's current CRL (DER) for the public endpoint, building
// one first if the CA has none yet.
func (s *Service) CRL(ctx context.Context, identifier string) ([]byte, error) {
	p, err := s.publicCA(ctx, identifier)
	if err != nil {
		return nil, err
	}
	rec, err := s.store.GetCRL(ctx, p.ca.ID)
	if errors.Is(err, store.ErrNotFound) {
		if rec, err = s.buildCRL(ctx, p); err != nil {
			return nil, internal(err)
		}
	} else if err != nil {
		return nil, internal(err)
	}
	return rec.DER, nil
}

// CRLInfo is what GetCaInstanceCrlAddress reports.
type CRLInfo struct {
	URL        string
	HashCode   string // changes when the CRL's entries change
	NextUpdate time.Time
	Entries    int64
}

// CRLInfo returns the CRL address and state of a CA of the caller's account.
func (s *Service) CRLInfo(ctx context.Context, a Actor, param, identifier string) (CRLInfo, error) {
	ca, err := s.GetCA(ctx, a, param, identifier)
	if err != nil {
		return CRLInfo{}, err
	}
	if ca.KeyRef == "" {
		return CRLInfo{}, pca.StateError("NoCRL", "The CA %q is external: pcad holds no key to sign its CRL.", identifier)
	}
	p, err := s.publicCA(ctx, ca.Identifier)
	if err != nil {
		return CRLInfo{}, err
	}
	rec, err := s.store.GetCRL(ctx, ca.ID)
	if errors.Is(err, store.ErrNotFound) {
		rec, err = s.buildCRL(ctx, p)
	}
	if err != nil {
		return CRLInfo{}, internal(err)
	}
	return CRLInfo{URL: s.CRLURL(ca), HashCode: fmt.Sprintf("%x", crlHash(ca.ID, rec.BuiltSeq)), NextUpdate: rec.NextUpdate,
		Entries: rec.Entries}, nil
}

// crlHash identifies the set of revocations a CRL was built from.
func crlHash(caID, seq int64) []byte {
	h := sha256.Sum256([]byte(fmt.Sprintf("pcad-crl:%d:%d", caID, seq)))
	return h[:16]
}

// buildCRL signs a new CRL for the CA from its revocations and stores it.
// The entries stream from the store twice (to size, then to write) and are
// never all in memory; a revocation committed during the build lands in the
// next CRL, which the poller starts at once because the sequence moved.
func (s *Service) buildCRL(ctx context.Context, p *pkiCA) (store.CRLRecord, error) {
	if p.ca.KeyRef == "" {
		return store.CRLRecord{}, errors.New("service: external CA has no CRL")
	}
	signer, err := s.signer(ctx, p.ca.AccountID, p.ca.KeyRef)
	if err != nil {
		return store.CRLRecord{}, err
	}
	seq, err := s.store.RevocationSeq(ctx, p.ca.ID)
	if err != nil {
		return store.CRLRecord{}, err
	}
	prev, err := s.store.CRLNumber(ctx, p.ca.ID)
	if err != nil {
		return store.CRLRecord{}, err
	}
	number := prev + 1
	cutoff := s.now().UTC()
	now := cutoff.Truncate(time.Second) // CRL times have whole seconds, and so do the entries' dates
	days := p.ca.CRLDays
	if days <= 0 {
		days = 7
	}
	tmpl := pki.CRLTemplate{Number: big.NewInt(number), ThisUpdate: now, NextUpdate: now.AddDate(0, 0, days)}
	var count int64
	entries := func(fn func(pki.CRLEntry) error) error {
		count = 0
		return s.store.Revocations(ctx, p.ca.ID, now, func(r store.Revocation) error {
			if r.RevokedAt.After(cutoff) {
				return nil // committed after the build started: the next CRL has it
			}
			serial, ok := new(big.Int).SetString(r.Serial, 16)
			if !ok {
				return fmt.Errorf("service: revocation with a bad serial %q", r.Serial)
			}
			count++
			return fn(pki.CRLEntry{Serial: serial, RevokedAt: r.RevokedAt, Reason: int(r.Reason)})
		})
	}
	var buf bytes.Buffer
	if _, err := pki.WriteCRL(&buf, s.rand, tmpl, p.cert, signer, entries); err != nil {
		return store.CRLRecord{}, err
	}
	rec := store.CRLRecord{CAID: p.ca.ID, Number: number, BuiltSeq: seq, ThisUpdate: now, NextUpdate: tmpl.NextUpdate,
		Entries: count, DER: buf.Bytes()}
	if err := s.store.PutCRL(ctx, rec); errors.Is(err, store.ErrConflict) {
		// Another builder stored a newer CRL meanwhile: serve that one.
		return s.store.GetCRL(ctx, p.ca.ID)
	} else if err != nil {
		return store.CRLRecord{}, err
	}
	return rec, nil
}

// Poll brings the public side up to date once: it notices revocations and
// CA status changes made by any replica (dropping stale OCSP answers) and,
// on the one replica that holds the background lease (leader.go), rebuilds
// CRLs that are stale or near their NextUpdate.
func (s *Service) Poll(ctx context.Context) error {
	states, err := s.store.CAStates(ctx)
	if err != nil {
		return err
	}
	st := s.pki
	st.mu.Lock()
	statusChanged := false
	for _, cs := range states {
		if p := st.byID[cs.CAID]; p == nil || p.ca.Status != cs.Status {
			statusChanged = true
		}
		if st.seq[cs.CAID] < cs.RevocationSeq {
			st.seq[cs.CAID] = cs.RevocationSeq
		}
	}
	if statusChanged {
		st.caGen++
	}
	st.mu.Unlock()
	if statusChanged {
		if err := s.reloadCAs(ctx); err != nil {
			return err
		}
	}
	if !s.leadNow(ctx) {
		return nil // another replica rebuilds CRLs; this one serves what it stores
	}
	now := s.now()
	var errs []error
	for _, cs := range states {
		stale := !cs.HasCRL || cs.CRLBuiltSeq < cs.RevocationSeq || cs.CRLNextUpdate.Sub(now) < crlMargin
		if !stale {
			continue
		}
		st.mu.RLock()
		p := st.byID[cs.CAID]
		st.mu.RUnlock()
		if p == nil || p.ca.KeyRef == "" || (!cs.HasCRL && !p.ca.EnableCRL && p.ca.Type != pca.CARoot) {
			continue // external CAs have no CRL; CRLs of CAs that publish none are built on demand only
		}
		if _, err := s.buildCRL(ctx, p); err != nil {
			errs = append(errs, fmt.Errorf("CRL of %s: %w", p.ca.Identifier, err))
		}
	}
	return errors.Join(errs...)
}

// RunPKI keeps CRLs and the OCSP cache fresh until ctx ends: it polls every
// interval, and at once when a local revocation wakes it.
func (s *Service) RunPKI(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	defer s.releaseLead()
	for {
		if err := s.Poll(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("pki poll", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.pki.crlWake:
		}
	}
}
