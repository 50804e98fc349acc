package service

import (
	"bytes"
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
)

// TestBackgroundLease runs two replicas on one store: only the lease holder
// rebuilds CRLs; a replica that stops cleanly hands the work over at once,
// and one that dies hands it over once its lease has expired.
func TestBackgroundLease(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pcad.db")
	var mu sync.Mutex
	clock := time.Now().Truncate(time.Second)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	master := bytes.Repeat([]byte{5}, keys.MasterKeySize)
	replica := func() *Service {
		st, err := sqlstore.OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svc, err := New(ctx, Config{Store: st, Keyring: testKeyring(t, st, master), Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	a, b := replica(), replica()
	if a.ReplicaID() == b.ReplicaID() {
		t.Fatalf("two replicas share the id %q", a.ReplicaID())
	}
	key, _, err := a.Bootstrap(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	actor := Actor{AccountID: key.AccountID, PrincipalID: key.PrincipalID}
	root, sub := hierarchy(t, a, actor)
	crlNumber := func() int64 {
		t.Helper()
		n, err := a.store.CRLNumber(ctx, root.ID)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	poll := func(s *Service) {
		t.Helper()
		if err := s.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}

	poll(a)
	if !a.Leading() || crlNumber() != 1 {
		t.Fatalf("first poller: leading %v, root CRL number %d; want true, 1", a.Leading(), crlNumber())
	}
	// The root's CRL goes stale on B's side; B does not lead, so only A rebuilds it.
	if _, err := b.RevokeCA(ctx, actor, sub.Identifier); err != nil {
		t.Fatal(err)
	}
	advance(time.Second)
	poll(b)
	if b.Leading() || crlNumber() != 1 {
		t.Fatalf("second replica while the first leads: leading %v, CRL number %d; want false, 1", b.Leading(), crlNumber())
	}
	poll(a)
	if crlNumber() != 2 {
		t.Fatalf("leader did not rebuild the stale CRL: number %d, want 2", crlNumber())
	}

	// A stops cleanly (RunPKI returns): B takes over at its next poll.
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	a.RunPKI(stopped, time.Hour)
	if a.Leading() {
		t.Fatal("a stopped replica still reports leading")
	}
	advance(time.Second)
	poll(b)
	if !b.Leading() {
		t.Fatal("the lease did not move after the leader stopped cleanly")
	}

	// B dies without releasing: A waits for the lease to expire.
	advance(leaseTTL - time.Second)
	poll(a)
	if a.Leading() {
		t.Fatal("a replica took a lease that had not expired")
	}
	advance(2 * time.Second)
	poll(a)
	if !a.Leading() {
		t.Fatal("the lease of a dead replica did not move after it expired")
	}
}

// TestBackgroundLeaseSameReplica: a replica restarted under the same name
// (Config.ReplicaID) takes back the lease its dead predecessor held, at
// once; one under another name waits for it to expire.
func TestBackgroundLeaseSameReplica(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pcad.db")
	now := time.Now()
	master := bytes.Repeat([]byte{6}, keys.MasterKeySize)
	replica := func(id string) *Service {
		st, err := sqlstore.OpenSQLite(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svc, err := New(ctx, Config{Store: st, Keyring: testKeyring(t, st, master), Now: func() time.Time { return now }, ReplicaID: id})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	first := replica("node-a")
	if !first.leadNow(ctx) {
		t.Fatal("the first replica did not take the free lease")
	}
	// first dies without releasing; a stranger must wait, the same name need not.
	if replica("node-b").leadNow(ctx) {
		t.Fatal("another replica took a lease that had not expired")
	}
	again := replica("node-a")
	if again.ReplicaID() != "node-a" {
		t.Fatalf("ReplicaID = %q, want node-a", again.ReplicaID())
	}
	if !again.leadNow(ctx) {
		t.Fatal("a replica restarted under its name did not take its lease back")
	}
}
