package openapi

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestMaxInFlight: with every slot held by a running action, the next call
// waits InFlightWait and is refused with ServiceUnavailable; once the
// actions finish, calls run again. A refused call never reaches its action.
func TestMaxInFlight(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 4)
	var echoRuns int
	var mu sync.Mutex
	ts := newTestServer(t, func(c *Config) {
		c.MaxInFlight, c.InFlightWait = 2, 50*time.Millisecond
		c.Actions["Block"] = func(ctx context.Context, r *Request) (any, error) {
			started <- struct{}{}
			<-release
			return map[string]string{"Done": "yes"}, nil
		}
		echo := c.Actions["Echo"]
		c.Actions["Echo"] = func(ctx context.Context, r *Request) (any, error) {
			mu.Lock()
			echoRuns++
			mu.Unlock()
			return echo(ctx, r)
		}
	})
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); codes[i] = ts.do(v3Request(t, reqSpec{action: "Block"})).Code }()
	}
	<-started
	<-started
	w := ts.do(v3Request(t, reqSpec{}))
	if w.Code != http.StatusServiceUnavailable || errCode(w) != CodeServiceUnavailable {
		t.Fatalf("call beyond the bound: %d %s, want 503 ServiceUnavailable", w.Code, w.Body)
	}
	mu.Lock()
	if echoRuns != 0 {
		t.Fatalf("the refused call ran its action")
	}
	mu.Unlock()
	close(release)
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("blocking call %d answered %d", i, c)
		}
	}
	if w := ts.do(v3Request(t, reqSpec{})); w.Code != http.StatusOK {
		t.Fatalf("call after the slots were freed: %d %s", w.Code, w.Body)
	}
}
