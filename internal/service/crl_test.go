package service

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
)

// crlWorld is replicas sharing one SQLite store, on one clock, with an
// account holding a root and a sub-CA made through the first replica.
type crlWorld struct {
	path      string
	master    []byte
	mu        sync.Mutex
	clock     time.Time
	actor     Actor
	root, sub pca.CA
	db        *sqlstore.Store // the first replica's store
}

func (w *crlWorld) now() time.Time { w.mu.Lock(); defer w.mu.Unlock(); return w.clock }

func (w *crlWorld) advance(d time.Duration) { w.mu.Lock(); w.clock = w.clock.Add(d); w.mu.Unlock() }

// replica opens the store and a Service on it; wrap, when not nil, wraps
// the store the Service uses.
func (w *crlWorld) replica(t *testing.T, wrap func(store.Store) store.Store) *Service {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, w.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var s store.Store = st
	if wrap != nil {
		s = wrap(st)
	}
	svc, err := New(ctx, Config{Store: s, Keyring: testKeyring(t, st, w.master), Now: w.now})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func newCRLWorld(t *testing.T) (*crlWorld, *Service) {
	t.Helper()
	w := &crlWorld{path: filepath.Join(t.TempDir(), "pcad.db"), master: bytes.Repeat([]byte{7}, keys.MasterKeySize),
		clock: time.Now().UTC().Truncate(time.Second).Add(500 * time.Millisecond)}
	svc := w.replica(t, nil)
	key, _, err := svc.Bootstrap(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	w.actor = Actor{AccountID: key.AccountID, PrincipalID: key.PrincipalID}
	w.root, w.sub = hierarchy(t, svc, w.actor)
	w.db = svc.store.(*sqlstore.Store)
	return w, svc
}

// revocation is a row of the revocations table, times relative to the
// world's clock.
type revocation struct {
	serial    string
	revokedAt time.Duration
	reason    pca.RevocationReason
	notAfter  time.Duration
}

// revoke writes revocations of the sub-CA straight to the store and moves
// its revocation sequence, as revoking certificates does.
func (w *crlWorld) revoke(t *testing.T, rs ...revocation) {
	t.Helper()
	ctx := context.Background()
	now := w.now()
	for _, r := range rs {
		if _, err := w.db.DB().ExecContext(ctx, "INSERT INTO revocations (ca_id, serial, account_id, revoked_at, reason, not_after) VALUES (?, ?, ?, ?, ?, ?)",
			w.sub.ID, r.serial, w.actor.AccountID, now.Add(r.revokedAt).UnixMilli(), int(r.reason), now.Add(r.notAfter).UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.db.DB().ExecContext(ctx, "UPDATE cas SET revocation_seq = revocation_seq + 1 WHERE id = ?", w.sub.ID); err != nil {
		t.Fatal(err)
	}
}

// parseCRL parses der and checks its signature by the sub-CA.
func (w *crlWorld) parseCRL(t *testing.T, der []byte) *x509.RevocationList {
	t.Helper()
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatalf("ParseRevocationList: %v", err)
	}
	sub, err := x509.ParseCertificate(w.sub.DER)
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(sub); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	return crl
}

// TestBuildCRLEntries builds the sub-CA's CRL from revocations written to
// the store and checks what it lists: the serial as the store has it, the
// revocation time in whole seconds, the reason; nothing revoked after the
// build started (the next CRL has it) nor expired before it.
func TestBuildCRLEntries(t *testing.T) {
	max20 := "7" + strings.Repeat("f", 39)
	tests := []struct {
		name   string
		rev    revocation
		listed bool
	}{
		{name: "key-compromise", rev: revocation{serial: "1a2b3c", revokedAt: -time.Hour, reason: pca.ReasonKeyCompromise, notAfter: time.Hour}, listed: true},
		{name: "unspecified", rev: revocation{serial: "4d", revokedAt: -time.Minute, reason: pca.ReasonUnspecified, notAfter: time.Hour}, listed: true},
		{name: "top-bit", rev: revocation{serial: "80ff", revokedAt: -time.Minute, reason: pca.ReasonSuperseded, notAfter: time.Hour}, listed: true},
		{name: "odd-length", rev: revocation{serial: "abc", revokedAt: -time.Minute, reason: pca.ReasonCessationOfOperation, notAfter: time.Hour}, listed: true},
		{name: "20-octets", rev: revocation{serial: max20, revokedAt: -time.Minute, reason: pca.ReasonAffiliationChanged, notAfter: time.Hour}, listed: true},
		{name: "same-second", rev: revocation{serial: "5e", revokedAt: -300 * time.Millisecond, reason: pca.ReasonKeyCompromise, notAfter: time.Hour}, listed: true},
		{name: "at-cutoff", rev: revocation{serial: "5f", revokedAt: 0, reason: pca.ReasonKeyCompromise, notAfter: time.Hour}, listed: true},
		{name: "after-cutoff", rev: revocation{serial: "60", revokedAt: time.Millisecond, reason: pca.ReasonKeyCompromise, notAfter: time.Hour}},
		{name: "expires-now", rev: revocation{serial: "61", revokedAt: -time.Hour, reason: pca.ReasonKeyCompromise, notAfter: -500 * time.Millisecond}, listed: true},
		{name: "expired", rev: revocation{serial: "62", revokedAt: -time.Hour, reason: pca.ReasonKeyCompromise, notAfter: -time.Second}},
	}
	w, svc := newCRLWorld(t)
	ctx := context.Background()
	want := map[string]revocation{}
	for _, tc := range tests {
		w.revoke(t, tc.rev)
		if tc.listed {
			want[tc.rev.serial] = tc.rev
		}
	}
	info, err := svc.CRLInfo(ctx, w.actor, "CaIdentifier", w.sub.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	der, err := svc.CRL(ctx, w.sub.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	crl := w.parseCRL(t, der)
	if info.Entries != int64(len(want)) || len(crl.RevokedCertificateEntries) != len(want) {
		t.Errorf("CRLInfo.Entries %d, CRL entries %d, want %d", info.Entries, len(crl.RevokedCertificateEntries), len(want))
	}
	thisUpdate := w.now().Truncate(time.Second)
	if !crl.ThisUpdate.Equal(thisUpdate) {
		t.Errorf("thisUpdate %v, want %v", crl.ThisUpdate, thisUpdate)
	}
	got := map[string]bool{}
	for _, e := range crl.RevokedCertificateEntries {
		serial := e.SerialNumber.Text(16)
		got[serial] = true
		r, ok := want[serial]
		if !ok {
			t.Errorf("serial %s is listed", serial)
			continue
		}
		at := w.now().Add(r.revokedAt).Truncate(time.Second)
		if !e.RevocationTime.Equal(at) || e.ReasonCode != int(r.reason) {
			t.Errorf("serial %s: revoked %v reason %d, want %v %d", serial, e.RevocationTime, e.ReasonCode, at, r.reason)
		}
	}
	for _, tc := range tests {
		if tc.listed != got[tc.rev.serial] {
			t.Errorf("%s: serial %s listed %v, want %v", tc.name, tc.rev.serial, got[tc.rev.serial], tc.listed)
		}
	}
}

// TestBuildCRLBadSerial: a serial the store holds that is not hexadecimal
// fails the build, naming it, and stores no CRL.
func TestBuildCRLBadSerial(t *testing.T) {
	w, svc := newCRLWorld(t)
	w.revoke(t, revocation{serial: "12zz", revokedAt: -time.Hour, reason: pca.ReasonKeyCompromise, notAfter: time.Hour})
	_, err := svc.CRL(context.Background(), w.sub.Identifier)
	if err == nil || !strings.Contains(err.Error(), "12zz") {
		t.Fatalf("CRL with a bad serial in the store: %v", err)
	}
	if n, err := w.db.CRLNumber(context.Background(), w.sub.ID); err != nil || n != 0 {
		t.Fatalf("CRLNumber after a failed build = %d, %v; want 0", n, err)
	}
}

// countingStore counts the CRL blobs read from the store.
type countingStore struct {
	store.Store
	gets atomic.Int64
}

func (s *countingStore) GetCRL(ctx context.Context, caID int64) (store.CRLRecord, error) {
	s.gets.Add(1)
	return s.Store.GetCRL(ctx, caID)
}

// TestCRLServedFromMemory: a replica serves the CRL it built, or read once,
// from memory, and always the one the store holds, whichever replica built
// it; a poll drops a cached CRL the store has replaced.
func TestCRLServedFromMemory(t *testing.T) {
	ctx := context.Background()
	w, _ := newCRLWorld(t)
	var countA, countB *countingStore
	a := w.replica(t, func(s store.Store) store.Store { countA = &countingStore{Store: s}; return countA })
	b := w.replica(t, func(s store.Store) store.Store { countB = &countingStore{Store: s}; return countB })
	serials := []string{"a1", "b2", "c3"}
	crlOf := func(svc *Service) (number int64, entries int) {
		t.Helper()
		der, err := svc.CRL(ctx, w.sub.Identifier)
		if err != nil {
			t.Fatal(err)
		}
		crl := w.parseCRL(t, der)
		return crl.Number.Int64(), len(crl.RevokedCertificateEntries)
	}
	steps := []struct {
		name         string
		revoke       int  // revocations to add first (serials in order)
		pollA, pollB bool // replicas polling after the revocations
		on           *Service
		number       int64
		entries      int
		getsA, getsB int64 // CRL blobs read so far
	}{
		{name: "first-build-on-a", on: a, number: 1, getsA: 0, getsB: 0},
		{name: "a-again", on: a, number: 1, getsA: 0, getsB: 0},
		{name: "b-reads-once", on: b, number: 1, getsA: 0, getsB: 1},
		{name: "b-from-memory", on: b, number: 1, getsA: 0, getsB: 1},
		{name: "a-rebuilds", revoke: 1, pollA: true, on: a, number: 2, entries: 1, getsA: 0, getsB: 1},
		{name: "b-reads-new", on: b, number: 2, entries: 1, getsA: 0, getsB: 2},
		{name: "b-polls-after-rebuild", revoke: 1, pollA: true, pollB: true, on: b, number: 3, entries: 2, getsA: 0, getsB: 3},
		{name: "a-still-from-memory", on: a, number: 3, entries: 2, getsA: 0, getsB: 3},
	}
	added := 0
	for _, st := range steps {
		for range st.revoke {
			w.revoke(t, revocation{serial: serials[added], revokedAt: -time.Minute, reason: pca.ReasonKeyCompromise, notAfter: time.Hour})
			added++
		}
		if st.pollA {
			if err := a.Poll(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if st.pollB {
			if err := b.Poll(ctx); err != nil {
				t.Fatal(err)
			}
			if _, ok := b.crls().get(w.sub.ID, 0); ok {
				t.Errorf("%s: b still caches a replaced CRL after its poll", st.name)
			}
		}
		number, entries := crlOf(st.on)
		if number != st.number || entries != st.entries {
			t.Errorf("%s: CRL number %d with %d entries, want %d with %d", st.name, number, entries, st.number, st.entries)
		}
		if ga, gb := countA.gets.Load(), countB.gets.Load(); ga != st.getsA || gb != st.getsB {
			t.Errorf("%s: CRL blobs read: a %d, b %d; want %d, %d", st.name, ga, gb, st.getsA, st.getsB)
		}
		w.advance(time.Second)
	}
	info, err := b.CRLInfo(ctx, w.actor, "CaIdentifier", w.sub.Identifier)
	if err != nil || info.Entries != 2 || countB.gets.Load() != 3 {
		t.Errorf("CRLInfo on b: %+v, %v, after %d blob reads; want 2 entries from memory", info, err, countB.gets.Load())
	}
}

// TestCRLCacheBuild checks what a request that finds no cached CRL gets
// while a build of it runs on the replica: the build's CRL when it
// succeeds, the stored one when it fails, its context's error when that
// ends first.
func TestCRLCacheBuild(t *testing.T) {
	w, _ := newCRLWorld(t)
	ctx := context.Background()
	stored := store.CRLRecord{CAID: w.sub.ID, Number: 4, BuiltSeq: 1, ThisUpdate: w.now().Truncate(time.Second),
		NextUpdate: w.now().Truncate(time.Second).Add(time.Hour), Entries: 0, DER: []byte("stored")}
	if err := w.db.PutCRL(ctx, stored); err != nil {
		t.Fatal(err)
	}
	built := stored
	built.Number, built.DER = 5, []byte("built")
	tests := []struct {
		name     string
		ok       bool // the build succeeds
		cancel   bool // the request's context ends during the build
		want     []byte
		wantErr  error
		cachedBy int64 // the number cached afterwards
	}{
		{name: "build-succeeds", ok: true, want: built.DER, cachedBy: 5},
		{name: "build-fails", want: stored.DER, cachedBy: 4},
		{name: "request-canceled", cancel: true, wantErr: context.Canceled, cachedBy: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &crlCache{byCA: map[int64]store.CRLRecord{w.sub.ID: stored}, building: map[int64]*crlBuild{}}
			b, dropped := c.startBuild(w.sub.ID)
			if dropped != len(stored.DER) {
				t.Errorf("startBuild dropped %d octets, want %d", dropped, len(stored.DER))
			}
			rctx, cancel := context.WithCancel(ctx)
			defer cancel()
			type result struct {
				rec store.CRLRecord
				err error
			}
			done := make(chan result, 1)
			go func() {
				rec, err := c.load(rctx, w.db, w.sub.ID, stored.Number)
				done <- result{rec, err}
			}()
			select {
			case r := <-done:
				t.Fatalf("load returned %q, %v during the build", r.rec.DER, r.err)
			case <-time.After(20 * time.Millisecond):
			}
			if tc.cancel {
				cancel()
				r := <-done
				if !errors.Is(r.err, tc.wantErr) {
					t.Fatalf("load: %v, want %v", r.err, tc.wantErr)
				}
			}
			c.endBuild(w.sub.ID, b, built, tc.ok)
			if !tc.cancel {
				r := <-done
				if r.err != nil || !bytes.Equal(r.rec.DER, tc.want) {
					t.Fatalf("load = %q, %v; want %q", r.rec.DER, r.err, tc.want)
				}
			}
			var cached int64
			if rec, ok := c.get(w.sub.ID, 0); ok {
				cached = rec.Number
			}
			if cached != tc.cachedBy {
				t.Errorf("cached CRL number %d, want %d", cached, tc.cachedBy)
			}
			if len(c.building) != 0 {
				t.Errorf("%d builds still recorded", len(c.building))
			}
		})
	}
}

// TestCRLRebuildThrottle: after a build that took d (crlThrottleFrom or
// more), new revocations wait for a rebuild until crlRebuildFactor x d has
// passed since it ended, unless the CRL nears its NextUpdate; a quick build
// does not hold the next one back.
func TestCRLRebuildThrottle(t *testing.T) {
	ctx := context.Background()
	w, _ := newCRLWorld(t)
	a := w.replica(t, nil)
	number := func() int64 {
		t.Helper()
		der, err := a.CRL(ctx, w.sub.Identifier)
		if err != nil {
			t.Fatal(err)
		}
		return w.parseCRL(t, der).Number.Int64()
	}
	if n := number(); n != 1 {
		t.Fatalf("first CRL number %d, want 1", n)
	}
	const took = 2 * time.Second // as if the first build had taken this long
	a.crls().builtAt(w.sub.ID, w.now(), took)
	serial := 0
	steps := []struct {
		name    string
		advance time.Duration // clock moves first
		revoke  bool
		want    int64 // CRL number after a poll
	}{
		{"revocation right after a slow build waits", 0, true, 1},
		{"still within the wait", crlRebuildFactor*took - 2*time.Second, false, 1},
		{"wait over", 2 * time.Second, false, 2},
		{"nothing new: no rebuild", time.Minute, false, 2},
	}
	for _, st := range steps {
		w.advance(st.advance)
		if st.revoke {
			serial++
			w.revoke(t, revocation{serial: fmt.Sprintf("%x", 0xa0+serial), revokedAt: -time.Second, reason: pca.ReasonKeyCompromise, notAfter: time.Hour})
		}
		if err := a.Poll(ctx); err != nil {
			t.Fatal(err)
		}
		if n := number(); n != st.want {
			t.Errorf("%s: CRL number %d, want %d", st.name, n, st.want)
		}
	}
	// A build quicker than crlThrottleFrom (as the last one: the world's
	// clock stands still during it): the next revocation is rebuilt at the
	// next poll.
	a.crls().builtAt(w.sub.ID, w.now(), crlThrottleFrom-time.Millisecond)
	serial++
	w.revoke(t, revocation{serial: fmt.Sprintf("%x", 0xa0+serial), revokedAt: -time.Second, reason: pca.ReasonKeyCompromise, notAfter: time.Hour})
	if err := a.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if n := number(); n != 3 {
		t.Errorf("after a quick build: CRL number %d, want 3", n)
	}
	// A slow build again, then the CRL near its NextUpdate: rebuilt anyway.
	a.crls().builtAt(w.sub.ID, w.now(), time.Hour)
	serial++
	w.revoke(t, revocation{serial: fmt.Sprintf("%x", 0xa0+serial), revokedAt: -time.Second, reason: pca.ReasonKeyCompromise, notAfter: 30 * 24 * time.Hour})
	rec, err := w.db.GetCRL(ctx, w.sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.advance(rec.NextUpdate.Sub(w.now()) - crlMargin/2)
	if err := a.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if n := number(); n != 4 {
		t.Errorf("near NextUpdate: CRL number %d, want 4", n)
	}
}
