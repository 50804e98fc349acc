package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestDebugAddr: --debug-addr serves Go's profiler on its own listener; the
// API listener never does; an empty address starts nothing.
func TestDebugAddr(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if bound, stop, err := startDebugServer("", logger); err != nil || bound != "" {
		t.Fatalf("empty --debug-addr: bound %q, %v; want nothing started", bound, err)
	} else {
		stop()
	}
	bound, stop, err := startDebugServer("127.0.0.1:0", logger)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ts := startServer(t, 0)
	get := func(base, path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s%s: %v", base, path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	tests := []struct {
		name     string
		base     string
		path     string
		wantOK   bool
		wantBody string
	}{
		{"profiler index", "http://" + bound, "/debug/pprof/", true, "goroutine"},
		{"profiler cmdline", "http://" + bound, "/debug/pprof/cmdline", true, ""},
		{"not on the API listener", ts.srv.URL, "/debug/pprof/", false, ""},
		{"not on the API listener, cmdline", ts.srv.URL, "/debug/pprof/cmdline", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(tc.base, tc.path)
			if (code == http.StatusOK) != tc.wantOK {
				t.Fatalf("GET %s: HTTP %d, want OK %v", tc.path, code, tc.wantOK)
			}
			if !strings.Contains(body, tc.wantBody) {
				t.Errorf("GET %s: body without %q", tc.path, tc.wantBody)
			}
		})
	}
	if _, _, err := startDebugServer(bound, logger); err == nil || !strings.Contains(err.Error(), "--debug-addr") {
		t.Errorf("a second listener on %s: %v, want an error naming --debug-addr", bound, err)
	}
}
