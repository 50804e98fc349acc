// Package loadgen drives closed-loop load and reports it: a fixed number of
// workers each call one operation back to back (a new call starts only when
// the worker's previous one has answered) for a duration or a number of
// calls; every successful call's latency goes into a Histogram, failures are
// counted with the first error kept; the outcome is a Result (count, rate,
// p50, p99, max), and a Report gathers Results into a table and a JSON
// document. It also reads a process's resident memory from /proc.
//
// loadgen knows nothing of what it drives: the operation is a function, and
// checking that an answer is right is the operation's job (return an error
// when it is not).
package loadgen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Op is one call of a closed-loop worker. worker is the worker's number, 0
// to Workers-1, so that an Op can keep per-worker state without locks. An Op
// returns an error when the call failed or its answer was wrong; the error
// counts against the run and its latency is not recorded. An Op must return
// promptly once ctx is done.
type Op func(ctx context.Context, worker int) error

// Options describe a run. At least one of Duration and Requests must be set.
type Options struct {
	// Name labels the Result.
	Name string
	// Workers is the number of concurrent callers (at least 1).
	Workers int
	// Duration: no call starts after this much time has passed; calls
	// under way then run to completion and count. 0: no time limit.
	Duration time.Duration
	// Requests caps the number of calls started over all workers. 0: no
	// cap.
	Requests int64
	// MaxErrors stops the run once this many calls have failed. 0: failed
	// calls never stop it.
	MaxErrors int64
}

// Run drives op with o.Workers closed-loop workers until o.Duration has
// passed, o.Requests calls have been made, o.MaxErrors calls have failed or
// ctx is done, whichever comes first, and returns the Result. The elapsed
// time runs from the start to the end of the last call. Run returns an
// error only for invalid options; failed calls are in the Result.
func Run(ctx context.Context, o Options, op Op) (Result, error) {
	if o.Workers < 1 {
		return Result{}, errors.New("loadgen: Workers must be at least 1")
	}
	if o.Duration <= 0 && o.Requests <= 0 {
		return Result{}, errors.New("loadgen: set Duration or Requests")
	}
	if o.Duration < 0 || o.Requests < 0 || o.MaxErrors < 0 {
		return Result{}, errors.New("loadgen: negative limit")
	}
	var (
		started  atomic.Int64 // calls started
		failed   atomic.Int64
		stop     atomic.Bool
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	hists := make([]Histogram, o.Workers)
	start := time.Now()
	deadline := start.Add(o.Duration)
	for w := range o.Workers {
		wg.Go(func() {
			h := &hists[w]
			for !stop.Load() && ctx.Err() == nil {
				if o.Requests > 0 && started.Add(1) > o.Requests {
					return
				}
				t0 := time.Now()
				if o.Duration > 0 && !t0.Before(deadline) {
					return
				}
				err := op(ctx, w)
				d := time.Since(t0)
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					if n := failed.Add(1); o.MaxErrors > 0 && n >= o.MaxErrors {
						stop.Store(true)
					}
					continue
				}
				h.Record(d)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all Histogram
	for i := range hists {
		all.Merge(&hists[i])
	}
	r := Summarize(o.Name, &all, elapsed)
	r.Workers = o.Workers
	r.Errors = failed.Load()
	if firstErr != nil {
		r.FirstError = firstErr.Error()
	}
	return r, nil
}
