package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// panicKeys is a KeyLookup that panics.
type panicKeys struct{}

func (panicKeys) LookupAccessKey(context.Context, string) (Credential, error) {
	panic("key lookup exploded")
}

// logRecords decodes the JSON log lines in buf.
func logRecords(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		recs = append(recs, m)
	}
	return recs
}

// TestPanicInAction: a panicking action answers 500 InternalError with the
// RequestId of the header, its log record has the stack (naming the
// panicking function), the answer does not leak the panic value, and the
// next request is served.
func TestPanicInAction(t *testing.T) {
	ts := newTestServer(t, nil)
	w := ts.do(v3Request(t, reqSpec{action: "Panic"}))
	m := decodeJSON(t, w)
	if w.Code != http.StatusInternalServerError || m["Code"] != CodeInternalError {
		t.Fatalf("got %d %v, want 500 InternalError", w.Code, m["Code"])
	}
	id, _ := m["RequestId"].(string)
	if id == "" || id != w.Header().Get("x-acs-request-id") {
		t.Errorf("RequestId %q, header %q: want the same, non-empty", id, w.Header().Get("x-acs-request-id"))
	}
	if strings.Contains(w.Body.String(), "hunter2") {
		t.Errorf("answer leaks the panic value: %s", w.Body)
	}
	var found bool
	for _, rec := range logRecords(t, ts.logs) {
		if rec["request_id"] != id {
			continue
		}
		found = true
		stack, _ := rec["stack"].(string)
		if !strings.Contains(stack, "goroutine") || !strings.Contains(stack, "testActions") {
			t.Errorf("log record of %s has no stack naming the panicking action: %q", id, stack)
		}
		if rec["level"] != "ERROR" {
			t.Errorf("level %v, want ERROR", rec["level"])
		}
	}
	if !found {
		t.Fatalf("no log record for %s:\n%s", id, ts.logs)
	}
	w = ts.do(v3Request(t, reqSpec{action: "Echo"}))
	if w.Code != http.StatusOK {
		t.Errorf("request after the panic: %d %s", w.Code, w.Body)
	}
}

// TestPanicInChecks: a panic before the action (here in the AccessKey
// lookup) is an InternalError too, with the stack logged.
func TestPanicInChecks(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Keys = panicKeys{} })
	w := ts.do(v3Request(t, reqSpec{action: "Echo"}))
	m := decodeJSON(t, w)
	if w.Code != http.StatusInternalServerError || m["Code"] != CodeInternalError || m["RequestId"] == "" {
		t.Fatalf("got %d %v", w.Code, m)
	}
	if !strings.Contains(ts.logs.String(), "LookupAccessKey") || !strings.Contains(ts.logs.String(), `"stack"`) {
		t.Errorf("log has no stack naming LookupAccessKey:\n%s", ts.logs)
	}
}

// TestRecoverMiddleware: Recover answers a panic before the answer began with
// the InternalError envelope (keeping the RequestId header already set),
// logs the stack, and aborts the connection when the answer had begun.
func TestRecoverMiddleware(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	h := Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/early":
			w.Header().Set("x-acs-request-id", "REQ-EARLY")
			w.Header().Set("Content-Length", "3")
			panic("early boom")
		case "/late":
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("partial"))
			panic("late boom")
		case "/abort":
			panic(http.ErrAbortHandler)
		}
		_, _ = w.Write([]byte("ok"))
	}), logger)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/early", nil))
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("body %q: %v", w.Body, err)
	}
	if w.Code != 500 || m["Code"] != CodeInternalError || m["RequestId"] != "REQ-EARLY" || m["Message"] != msgInternal {
		t.Errorf("early panic: %d %v", w.Code, m)
	}
	if w.Header().Get("Content-Length") != "" {
		t.Errorf("stale Content-Length kept")
	}
	if strings.Contains(w.Body.String(), "boom") {
		t.Errorf("answer leaks the panic value: %s", w.Body)
	}
	if !strings.Contains(logs.String(), "early boom") || !strings.Contains(logs.String(), "TestRecoverMiddleware") {
		t.Errorf("log lacks the panic or its stack:\n%s", logs.String())
	}

	for _, path := range []string{"/late", "/abort"} {
		got := func() (p any) {
			defer func() { p = recover() }()
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
			return nil
		}()
		if got != http.ErrAbortHandler {
			t.Errorf("%s: panic %v, want http.ErrAbortHandler", path, got)
		}
	}

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	if w.Code != 200 || w.Body.String() != "ok" {
		t.Errorf("after the panics: %d %q", w.Code, w.Body)
	}
}
