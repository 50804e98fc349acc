package openapi

import (
	"context"
	"sync"
	"testing"
)

func TestMoreVersions(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.MoreVersions = map[string]map[string]HandlerFunc{"2015-05-01": {
			"GetUser": func(_ context.Context, r *Request) (any, error) {
				return map[string]string{"Version": r.Version}, nil
			},
		}}
	})
	tests := []struct {
		name, action, version string
		status                int
		code                  string
	}{
		{"ok/main version", "Echo", testVersion, 200, ""},
		{"ok/second version", "GetUser", "2015-05-01", 200, ""},
		{"fail/action of the other version", "Echo", "2015-05-01", 404, CodeInvalidAction},
		{"fail/second version's action under the main one", "GetUser", testVersion, 404, CodeInvalidAction},
		{"fail/unknown version", "GetUser", "2099-01-01", 400, CodeInvalidVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := ts.do(v3Request(t, reqSpec{action: tc.action, version: tc.version}))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			body := decodeJSON(t, w)
			if tc.code != "" && body["Code"] != tc.code {
				t.Fatalf("code %v, want %s", body["Code"], tc.code)
			}
			if tc.action == "GetUser" && tc.code == "" && body["Version"] != tc.version {
				t.Fatalf("handler saw version %v", body["Version"])
			}
		})
	}
}

func TestAuditHook(t *testing.T) {
	var mu sync.Mutex
	var events []AuditEvent
	ts := newTestServer(t, func(c *Config) {
		c.Audit = func(_ context.Context, e AuditEvent) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
		c.Actions["Touch"] = func(_ context.Context, r *Request) (any, error) {
			r.Resource = "ca/abc"
			return nil, nil
		}
	})
	cases := []struct {
		name     string
		spec     reqSpec
		audited  bool
		code     string
		resource string
	}{
		{"ok/success with resource", reqSpec{action: "Touch"}, true, "OK", "ca/abc"},
		{"ok/handler error", reqSpec{action: "Boom"}, true, CodeInternalError, ""},
		{"ok/bad signature of a known key", reqSpec{action: "Echo", secret: "wrong"}, true, CodeIncompleteSignature, ""},
		{"skip/unknown key", reqSpec{action: "Echo", keyID: "nobody"}, false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			before := len(events)
			mu.Unlock()
			w := ts.do(v3Request(t, tc.spec))
			mu.Lock()
			defer mu.Unlock()
			if got := len(events) - before; (got == 1) != tc.audited || got > 1 {
				t.Fatalf("%d audit events, want audited=%v", got, tc.audited)
			}
			if !tc.audited {
				return
			}
			e := events[len(events)-1]
			if e.RequestID != w.Header().Get("x-acs-request-id") || e.AccessKeyID != testKeyID || e.Status != w.Code {
				t.Fatalf("event %+v does not match the response %d %s", e, w.Code, w.Header().Get("x-acs-request-id"))
			}
			if tc.code != "" && e.Code != tc.code {
				t.Fatalf("code %q, want %q", e.Code, tc.code)
			}
			if e.Resource != tc.resource {
				t.Fatalf("resource %q, want %q", e.Resource, tc.resource)
			}
		})
	}
}
