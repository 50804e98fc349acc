package service

import (
	"context"
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store"
)

// crlMargin: a CRL is re-issued when its NextUpdate is closer than this.
const crlMargin = time.Hour

// CRL returns the CA's current CRL (DER) for the public endpoint, building
// one first if the CA has none yet. It is the CRL the store holds, served
// from memory once this replica has built or read it; while this replica
// builds the CA's next CRL, it waits for that one (crl_cache.go). The
// caller must not modify it.
func (s *Service) CRL(ctx context.Context, identifier string) ([]byte, error) {
	p, err := s.publicCA(ctx, identifier)
	if err != nil {
		return nil, err
	}
	rec, err := s.currentCRL(ctx, p)
	if err != nil {
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
	rec, err := s.currentCRL(ctx, p)
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

// buildCRL signs a new CRL for the CA from its revocations, stores it and
// caches it. The revocations are read from the store once, into a compact
// list (pki.CRLEntries, some 26 octets an entry), from which the CRL is
// made in one buffer of its exact size. A revocation committed during the
// build lands in the next CRL, which the poller starts at once because the
// sequence moved. Requests for the CA's CRL meanwhile wait for the build
// (crlCache).
func (s *Service) buildCRL(ctx context.Context, p *pkiCA) (rec store.CRLRecord, err error) {
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

	cache := s.crls()
	build, dropped := cache.startBuild(p.ca.ID)
	defer func() { cache.endBuild(p.ca.ID, build, rec, err == nil) }()
	if dropped >= crlGCSize {
		// The previous build of this CRL left its DER (dropped now) and
		// garbage of about twice that (its entries, the driver's rows),
		// and the heap goal it set counts them all as live. Collecting
		// them now lets this build reuse their memory instead of the
		// heap growing to twice their size first. (Measured with
		// BenchmarkCRLBuild1M -benchtime 4x, a million entries rebuilt
		// again and again: peak RSS about 220 MB with this collection,
		// 270 MB without.)
		runtime.GC()
	}
	der, count, err := s.signCRL(ctx, p, signer, tmpl, cutoff)
	if err != nil {
		return store.CRLRecord{}, err
	}
	end := s.now()
	cache.builtAt(p.ca.ID, end, max(0, end.Sub(cutoff))) // for the rebuild throttle (crlRebuildFactor)
	rec = store.CRLRecord{CAID: p.ca.ID, Number: number, BuiltSeq: seq, ThisUpdate: now, NextUpdate: tmpl.NextUpdate,
		Entries: count, DER: der}
	if err := s.store.PutCRL(ctx, rec); errors.Is(err, store.ErrConflict) {
		// Another builder stored a newer CRL meanwhile: serve that one.
		return s.store.GetCRL(ctx, p.ca.ID)
	} else if err != nil {
		return store.CRLRecord{}, err
	}
	return rec, nil
}

// signCRL makes the CRL of tmpl for p from the revocations of p that were
// made at cutoff or before, and returns its DER and number of entries.
func (s *Service) signCRL(ctx context.Context, p *pkiCA, signer crypto.Signer, tmpl pki.CRLTemplate, cutoff time.Time) ([]byte, int64, error) {
	var entries pki.CRLEntries
	err := s.store.Revocations(ctx, p.ca.ID, tmpl.ThisUpdate, func(r store.Revocation) error {
		if r.RevokedAt.After(cutoff) {
			return nil // committed after the build started: the next CRL has it
		}
		if err := entries.AddHex(r.Serial, r.RevokedAt, int(r.Reason)); err != nil {
			return fmt.Errorf("service: revocation of serial %q: %w", r.Serial, err)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	der, err := pki.CreateCRL(s.rand, tmpl, p.cert, signer, &entries)
	if err != nil {
		return nil, 0, err
	}
	return der, entries.Len(), nil
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
	crls := s.crls()
	for _, cs := range states {
		crls.forget(cs.CAID, cs.CRLNumber) // another replica stored a newer one
	}
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
		expiring := !cs.HasCRL || cs.CRLNextUpdate.Sub(now) < crlMargin
		if !expiring && (cs.CRLBuiltSeq >= cs.RevocationSeq || !crls.rebuildDue(cs.CAID, now)) {
			continue // up to date, or new revocations wait for the rebuild throttle (crlRebuildFactor)
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
