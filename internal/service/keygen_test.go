package service

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
)

// The gate tests use a fake generator and observe order, never durations:
// every RSA generation blocks until the test releases it, and reports its
// start with the name its caller passed as the random source.

// callerTag names a request; it is passed where the random source goes.
type callerTag string

func (callerTag) Read(p []byte) (int, error) { return 0, io.ErrUnexpectedEOF }

type fakeKeygen struct {
	started chan string   // name of each RSA generation, when it starts
	release chan struct{} // one value lets one RSA generation finish
	key     crypto.Signer
}

func newFakeKeygen(t *testing.T) *fakeKeygen {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeKeygen{started: make(chan string, 100), release: make(chan struct{}), key: k}
}

func (f *fakeKeygen) newKey(alg pca.Algorithm, r io.Reader) (crypto.Signer, error) {
	if expensiveKey(alg) {
		f.started <- string(r.(callerTag))
		<-f.release
	}
	return f.key, nil
}

// next returns the name of the next generation to start.
func (f *fakeKeygen) next(t *testing.T) string {
	t.Helper()
	select {
	case name := <-f.started:
		return name
	case <-time.After(10 * time.Second): // a hang, not a timing threshold
		t.Fatal("no key generation started")
		return ""
	}
}

// finishOne lets one generation in progress finish.
func (f *fakeKeygen) finishOne(t *testing.T) {
	t.Helper()
	select {
	case f.release <- struct{}{}:
	case <-time.After(10 * time.Second):
		t.Fatal("no key generation in progress to finish")
	}
}

// drain lets every generation finish until stop is called.
func (f *fakeKeygen) drain() (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case f.release <- struct{}{}:
			case <-done:
				return
			}
		}
	}()
	return func() { close(done); <-exited }
}

// noneStarted checks that no generation has started (yet).
func (f *fakeKeygen) noneStarted(t *testing.T) {
	t.Helper()
	select {
	case name := <-f.started:
		t.Fatalf("generation for %s started, want none", name)
	default:
	}
}

// pending returns how many requests of who are admitted and not finished.
func (g *keygenGate) pending(who keygenCaller) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ct := g.callers[who]; ct != nil {
		return ct.pending
	}
	return 0
}

// waiting returns how many acquire calls are blocked on s.
func (s *fifoSem) waiting() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waiters)
}

// turnWaiting returns how many requests of who wait for its turn.
func (g *keygenGate) turnWaiting(who keygenCaller) int {
	g.mu.Lock()
	ct := g.callers[who]
	g.mu.Unlock()
	if ct == nil {
		return 0
	}
	return ct.turn.waiting()
}

// waitUntil polls cond until it holds (goroutines reaching their queue).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

type genResult struct {
	name string
	err  error
}

// goGenerate starts one generation for who in the background.
func goGenerate(ctx context.Context, g *keygenGate, who keygenCaller, name string, alg pca.Algorithm, out chan<- genResult) {
	go func() {
		_, err := g.generate(ctx, who, alg, callerTag(name))
		out <- genResult{name, err}
	}()
}

var (
	callerA = keygenCaller{account: 1, principal: 10}
	callerB = keygenCaller{account: 1, principal: 11} // same account, another principal
	callerC = keygenCaller{account: 2, principal: 20}
)

// TestKeygenGateFairness: principal A sends a burst of 10 RSA requests;
// B's single request, sent after all of A's are queued, starts no later
// than A's second generation, whatever the number of slots.
func TestKeygenGateFairness(t *testing.T) {
	for _, slots := range []int{1, 2, 3} {
		t.Run(map[int]string{1: "one-slot", 2: "two-slots", 3: "three-slots"}[slots], func(t *testing.T) {
			f := newFakeKeygen(t)
			g := newKeygenGate(slots, 16, f.newKey)
			ctx := context.Background()
			results := make(chan genResult, 11)
			for range 10 {
				goGenerate(ctx, g, callerA, "A", pca.RSA2048, results)
			}
			if got := f.next(t); got != "A" {
				t.Fatalf("first generation for %s, want A", got)
			}
			queued := func() int { return g.turnWaiting(callerA) + g.turnWaiting(callerB) + g.slots.waiting() }
			waitUntil(t, "A's 9 others wait", func() bool { return queued() == 9 })
			f.noneStarted(t) // A's burst holds one slot, however many are free

			goGenerate(ctx, g, callerB, "B", pca.RSA4096, results)
			if slots == 1 {
				waitUntil(t, "B waits", func() bool { return queued() == 10 })
				f.noneStarted(t)
				f.finishOne(t) // A's first
			}
			// With a free slot B starts at once; with one slot, right after
			// A's first generation: before A's second either way.
			if got := f.next(t); got != "B" {
				t.Errorf("second generation for %s, want B", got)
			}
			stop := f.drain()
			for range 11 {
				if r := <-results; r.err != nil {
					t.Errorf("%s: %v", r.name, r.err)
				}
			}
			stop()
			if n := len(g.callers); n != 0 {
				t.Errorf("%d principals still tracked after all finished", n)
			}
			if g.slots.free != slots {
				t.Errorf("free slots %d after all finished, want %d", g.slots.free, slots)
			}
		})
	}
}

// TestKeygenGateRefusesBeyondQueue: of A's burst of 10, one runs and
// keygenMaxWaiting wait; the rest are refused at once with KindThrottled,
// while B is still admitted.
func TestKeygenGateRefusesBeyondQueue(t *testing.T) {
	f := newFakeKeygen(t)
	g := newKeygenGate(1, keygenMaxWaiting, f.newKey)
	ctx := context.Background()
	results := make(chan genResult, 11)
	for range 10 {
		goGenerate(ctx, g, callerA, "A", pca.RSA2048, results)
	}
	f.next(t)
	refused := 10 - 1 - keygenMaxWaiting
	for range refused { // nothing has finished: these are answered without waiting
		r := <-results
		e, ok := pca.AsError(r.err)
		if !ok || e.Kind != pca.KindThrottled || !strings.Contains(e.Msg, "RSA key generations in progress or waiting") {
			t.Fatalf("excess request: err %v, want KindThrottled naming the reason", r.err)
		}
	}
	if p := g.pending(callerA); p != 1+keygenMaxWaiting {
		t.Fatalf("A pending %d, want %d", p, 1+keygenMaxWaiting)
	}
	goGenerate(ctx, g, callerB, "B", pca.RSA2048, results)
	waitUntil(t, "B waits for the slot", func() bool { return g.slots.waiting() == 1 })
	stop := f.drain()
	for range 1 + keygenMaxWaiting + 1 {
		if r := <-results; r.err != nil {
			t.Errorf("admitted request of %s failed: %v", r.name, r.err)
		}
	}
	stop()
	for len(f.started) > 0 {
		<-f.started
	}
	// With the queue drained A is admitted again.
	goGenerate(ctx, g, callerA, "A", pca.RSA2048, results)
	f.next(t)
	f.finishOne(t)
	if r := <-results; r.err != nil {
		t.Errorf("A after the queue drained: %v", r.err)
	}
}

// TestKeygenGateCancel: a request whose context ends while it waits
// returns the context's error and gives back its place and its slot.
func TestKeygenGateCancel(t *testing.T) {
	t.Run("waiting-for-own-turn", func(t *testing.T) {
		f := newFakeKeygen(t)
		g := newKeygenGate(2, keygenMaxWaiting, f.newKey)
		results := make(chan genResult, 10)
		goGenerate(context.Background(), g, callerA, "A1", pca.RSA2048, results)
		f.next(t)
		ctx, cancel := context.WithCancel(context.Background())
		for range keygenMaxWaiting {
			goGenerate(ctx, g, callerA, "A-cancelled", pca.RSA2048, results)
		}
		waitUntil(t, "A's queue is full", func() bool { return g.turnWaiting(callerA) == keygenMaxWaiting })
		cancel()
		for range keygenMaxWaiting {
			if r := <-results; !errors.Is(r.err, context.Canceled) {
				t.Fatalf("cancelled waiter: err %v, want context.Canceled", r.err)
			}
		}
		if p := g.pending(callerA); p != 1 {
			t.Fatalf("A pending %d after cancelling its waiters, want 1", p)
		}
		// The places are free again: A may queue one more.
		goGenerate(context.Background(), g, callerA, "A2", pca.RSA2048, results)
		waitUntil(t, "A2 waits", func() bool { return g.turnWaiting(callerA) == 1 })
		f.finishOne(t)
		if got := f.next(t); got != "A2" {
			t.Fatalf("after A1, %s started, want A2", got)
		}
		f.finishOne(t)
		for range 2 {
			if r := <-results; r.err != nil {
				t.Errorf("%s: %v", r.name, r.err)
			}
		}
	})
	t.Run("waiting-for-a-slot", func(t *testing.T) {
		f := newFakeKeygen(t)
		g := newKeygenGate(1, keygenMaxWaiting, f.newKey)
		results := make(chan genResult, 10)
		goGenerate(context.Background(), g, callerA, "A", pca.RSA2048, results)
		f.next(t)
		ctx, cancel := context.WithCancel(context.Background())
		goGenerate(ctx, g, callerB, "B", pca.RSA2048, results)
		waitUntil(t, "B waits for the slot", func() bool { return g.slots.waiting() == 1 })
		cancel()
		if r := <-results; r.name != "B" || !errors.Is(r.err, context.Canceled) {
			t.Fatalf("%s: err %v, want B cancelled", r.name, r.err)
		}
		if g.slots.waiting() != 0 || g.pending(callerB) != 0 {
			t.Fatalf("cancelled B still queued: %d waiting, B pending %d", g.slots.waiting(), g.pending(callerB))
		}
		f.finishOne(t) // A
		if r := <-results; r.err != nil {
			t.Fatalf("A: %v", r.err)
		}
		// The slot B never got is free: C runs at once.
		goGenerate(context.Background(), g, callerC, "C", pca.RSA2048, results)
		if got := f.next(t); got != "C" {
			t.Fatalf("%s started, want C", got)
		}
		f.finishOne(t)
		if r := <-results; r.err != nil {
			t.Fatalf("C: %v", r.err)
		}
		if g.slots.free != 1 {
			t.Errorf("free slots %d, want 1", g.slots.free)
		}
	})
	t.Run("already-cancelled", func(t *testing.T) {
		f := newFakeKeygen(t)
		g := newKeygenGate(1, keygenMaxWaiting, f.newKey)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := g.generate(ctx, callerA, pca.RSA2048, callerTag("A")); !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
		f.noneStarted(t)
		if g.pending(callerA) != 0 || g.slots.free != 1 {
			t.Fatalf("pending %d, free slots %d after a cancelled request", g.pending(callerA), g.slots.free)
		}
	})
}

// TestKeygenGateCheapKeysBypass: ECC keys are generated at once, even for
// a principal whose RSA queue is full and with every slot taken.
func TestKeygenGateCheapKeysBypass(t *testing.T) {
	f := newFakeKeygen(t)
	g := newKeygenGate(1, 0, f.newKey)
	results := make(chan genResult, 2)
	goGenerate(context.Background(), g, callerA, "A", pca.RSA2048, results)
	f.next(t)
	if _, err := g.generate(context.Background(), callerA, pca.RSA4096, callerTag("A")); pca.KindOf(err) != pca.KindThrottled {
		t.Fatalf("second RSA with no queue: err %v, want KindThrottled", err)
	}
	for _, alg := range []pca.Algorithm{pca.ECC256, pca.ECC384, pca.ECC512} {
		if _, err := g.generate(context.Background(), callerA, alg, callerTag("A")); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
	}
	f.finishOne(t)
	<-results
}

// TestFIFOSemOrder: waiters get units in arrival order.
func TestFIFOSemOrder(t *testing.T) {
	s := newFIFOSem(1)
	ctx := context.Background()
	if err := s.acquire(ctx); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []int
	done := make(chan struct{})
	for i := range 5 {
		go func() {
			if err := s.acquire(ctx); err != nil {
				t.Error(err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			s.release()
			done <- struct{}{}
		}()
		waitUntil(t, "the waiter queues", func() bool { return s.waiting() == i+1 })
	}
	s.release()
	for range 5 {
		<-done
	}
	for i, got := range order {
		if got != i {
			t.Fatalf("order %v, want 0..4", order)
		}
	}
	if s.free != 1 {
		t.Errorf("free %d, want 1", s.free)
	}
}

// TestServiceGenerateKey: the Service's keys come through the shared gate
// and are real keys of the asked algorithm.
func TestServiceGenerateKey(t *testing.T) {
	svc, a := newTestService(t)
	for _, alg := range []pca.Algorithm{pca.RSA2048, pca.ECC256} {
		k, err := svc.generateKey(context.Background(), a, alg)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := pki.AlgorithmOf(k.Public()); err != nil || got.Family() != alg.Family() {
			t.Errorf("%s: key of %v (%v)", alg, got, err)
		}
	}
	if _, err := svc.generateKey(context.Background(), a, "DSA_1024"); pca.KindOf(err) != pca.KindInvalid {
		t.Errorf("unsupported algorithm: err %v, want KindInvalid", err)
	}
	if n := sharedKeygen().pending(keygenCaller{owner: svc, account: a.AccountID, principal: a.PrincipalID}); n != 0 {
		t.Errorf("%d requests still pending", n)
	}
}

// BenchmarkGenerateKey measures pki.GenerateKey per algorithm; the figures
// are in the comment at the top of keygen.go. RSA timings vary a lot from
// key to key: run with -benchtime=50x or more.
func BenchmarkGenerateKey(b *testing.B) {
	for _, alg := range []pca.Algorithm{pca.RSA2048, pca.RSA4096, pca.ECC256, pca.ECC384, pca.ECC512} {
		b.Run(string(alg), func(b *testing.B) {
			var lo, hi time.Duration
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				if _, err := pki.GenerateKey(alg, rand.Reader); err != nil {
					b.Fatal(err)
				}
				d := time.Since(start)
				if i == 0 || d < lo {
					lo = d
				}
				hi = max(hi, d)
			}
			b.ReportMetric(float64(lo.Microseconds())/1000, "min-ms")
			b.ReportMetric(float64(hi.Microseconds())/1000, "max-ms")
		})
	}
}
