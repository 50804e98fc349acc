package service

import (
	"context"
	"crypto"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
)

// Server-side key generation and its admission control.
//
// Cost of one pki.GenerateKey, from BenchmarkGenerateKey (Go 1.26,
// linux/amd64, AMD EPYC, 2 vCPU shared with other test runs, so on the slow
// side; RSA: 2 runs of 40 and 60 keys, ECC: 1 s runs). RSA times vary widely
// from key to key, because prime search is random:
//
//	RSA_2048   110-145 ms mean   (16 ms to 0.4 s per key)
//	RSA_4096   1.0-1.4 s mean    (0.12 s to 6 s per key)
//	ECC_256     21 µs
//	ECC_384    160 µs
//	ECC_512    740 µs           (P-521)
//
// An RSA key holds a CPU for tens to thousands of milliseconds, so a burst
// of RSA issuance from one caller could occupy every core; ECC keys cost
// less than the request around them. Only RSA generations are admitted
// through the gate below.

// keygenMaxWaiting is how many expensive generations one principal may have
// waiting behind the one it has in progress; a request beyond that is
// refused with Throttling.User rather than queued.
const keygenMaxWaiting = 4

// expensiveKey reports whether generating a key of alg costs enough to need
// admission (every RSA size).
func expensiveKey(alg pca.Algorithm) bool { return alg.Family() == pca.FamilyRSA }

// sharedKeygen is the gate of every Service in the process. It is process-
// wide on purpose: the CPUs it shares out are the process's, so two
// Services (as in tests) must not each believe they own them. Principals of
// different Services never share a queue (keygenCaller.owner). It is made on
// first use, so that GOMAXPROCS is read after any start-up adjustment.
var sharedKeygen = sync.OnceValue(func() *keygenGate {
	return newKeygenGate(max(1, runtime.GOMAXPROCS(0)-1), keygenMaxWaiting, pki.GenerateKey)
})

// generateKey makes a new private key for alg as pki.GenerateKey does, on
// behalf of a. An RSA generation first waits for its turn (see keygenGate);
// it fails with a KindThrottled error if a already has too many waiting, and
// with ctx's error if ctx ends while it waits.
func (s *Service) generateKey(ctx context.Context, a Actor, alg pca.Algorithm) (crypto.Signer, error) {
	return sharedKeygen().generate(ctx, keygenCaller{owner: s, account: a.AccountID, principal: a.PrincipalID}, alg, s.rand)
}

// keygenCaller identifies whose turn a generation waits for.
type keygenCaller struct {
	owner     *Service // nil in tests of the gate alone
	account   int64
	principal int64
}

// keygenGate admits expensive key generations so that one caller's burst
// cannot starve the others. A principal has at most one generation in
// progress, the others it sends wait for it in arrival order (and at most
// maxWaiting of them: more are refused); the generations in progress of all
// principals are capped at slots, and principals waiting for a slot get one
// in arrival order. As each principal has at most one request waiting for a
// slot, slots go round the waiting principals: a caller arriving behind
// another's burst of n waits for at most one generation per principal ahead
// of it, not for the n.
//
// Cheap generations (ECC) go straight to newKey. A keygenGate is safe for
// concurrent use.
type keygenGate struct {
	newKey     func(pca.Algorithm, io.Reader) (crypto.Signer, error)
	maxWaiting int
	slots      *fifoSem

	mu      sync.Mutex
	callers map[keygenCaller]*callerTurn // only principals with a request admitted
}

// callerTurn is one principal's queue.
type callerTurn struct {
	turn    *fifoSem // capacity 1: the principal's generation in progress
	pending int      // admitted and not finished: holding the turn or waiting for it
}

// newKeygenGate returns a gate with at most slots generations in progress
// (at least 1) and maxWaiting waiting per principal, that makes keys with
// newKey (pki.GenerateKey but in tests).
func newKeygenGate(slots, maxWaiting int, newKey func(pca.Algorithm, io.Reader) (crypto.Signer, error)) *keygenGate {
	return &keygenGate{newKey: newKey, maxWaiting: maxWaiting, slots: newFIFOSem(max(1, slots)),
		callers: map[keygenCaller]*callerTurn{}}
}

// generate makes a key of alg for who with r, waiting for its turn if alg is
// expensive.
func (g *keygenGate) generate(ctx context.Context, who keygenCaller, alg pca.Algorithm, r io.Reader) (crypto.Signer, error) {
	if !expensiveKey(alg) {
		return g.newKey(alg, r)
	}
	ct, err := g.enter(who)
	if err != nil {
		return nil, err
	}
	defer g.leave(who, ct)
	if err := ct.turn.acquire(ctx); err != nil {
		return nil, fmt.Errorf("service: waiting to generate a %s key: %w", alg, err)
	}
	defer ct.turn.release()
	if err := g.slots.acquire(ctx); err != nil {
		return nil, fmt.Errorf("service: waiting to generate a %s key: %w", alg, err)
	}
	defer g.slots.release()
	return g.newKey(alg, r)
}

// enter admits one request of who, or refuses it if who already has one
// in progress and maxWaiting waiting.
func (g *keygenGate) enter(who keygenCaller) (*callerTurn, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	ct := g.callers[who]
	if ct == nil {
		ct = &callerTurn{turn: newFIFOSem(1)}
		g.callers[who] = ct
	}
	if ct.pending > g.maxWaiting {
		return nil, &pca.Error{Kind: pca.KindThrottled, Msg: fmt.Sprintf(
			"Request was denied due to user flow control: you already have %d RSA key generations in progress or waiting on this server; retry when they have finished, or use an ECC algorithm.",
			ct.pending)}
	}
	ct.pending++
	return ct, nil
}

// leave ends a request admitted by enter; a principal with nothing pending
// is forgotten, so the map holds only active principals.
func (g *keygenGate) leave(who keygenCaller, ct *callerTurn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if ct.pending--; ct.pending == 0 {
		delete(g.callers, who)
	}
}

// fifoSem is a counting semaphore whose waiters are served in arrival
// order. A waiter whose context ends leaves the queue, or, if it was just
// granted a unit, passes the unit on.
type fifoSem struct {
	mu      sync.Mutex
	free    int
	waiters []chan struct{} // closed when granted a unit
}

func newFIFOSem(n int) *fifoSem { return &fifoSem{free: n} }

// acquire takes one unit, waiting until one is free or ctx ends. It never
// takes a unit once ctx has ended.
func (s *fifoSem) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.free > 0 && len(s.waiters) == 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	s.waiters = append(s.waiters, ready)
	s.mu.Unlock()
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	select {
	case <-ready: // granted while ctx ended: hand the unit on
		s.mu.Unlock()
		s.release()
	default:
		if i := slices.Index(s.waiters, ready); i >= 0 {
			s.waiters = slices.Delete(s.waiters, i, i+1)
		}
		s.mu.Unlock()
	}
	return ctx.Err()
}

// release returns one unit, handing it to the longest waiter if any.
func (s *fifoSem) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiters) > 0 {
		close(s.waiters[0])
		s.waiters = slices.Delete(s.waiters, 0, 1)
		return
	}
	s.free++
}
