package openapi

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHandlerErrors covers every protocol error code and the order of checks.
func TestHandlerErrors(t *testing.T) {
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	old := testNow.Add(-16 * time.Minute).Format(time.RFC3339)
	tests := []struct {
		name       string
		req        func(t *testing.T) *http.Request
		wantStatus int
		wantCode   string
		wantMsg    string // substring of Message, if set
	}{
		{"fail/method-PUT", func(t *testing.T) *http.Request { return v3Request(t, reqSpec{method: http.MethodPut}) },
			405, CodeUnsupportedMethod, "PUT"},
		{"fail/path-not-root", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{after: func(r *http.Request) { r.URL.Path = "/x" }})
		}, 404, CodeInvalidAction, ""},
		{"fail/unsigned", func(*testing.T) *http.Request {
			return httptest.NewRequest("GET", "/?Action=Echo&Version=2020-06-30", nil)
		}, 400, CodeMissingParameter, "Signature"},
		{"fail/bad-query-encoding", func(*testing.T) *http.Request {
			return httptest.NewRequest("GET", "/?Action=%zz", nil)
		}, 400, CodeInvalidParameter, "query"},
		{"fail/body-too-large", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{body: "ClientToken=" + strings.Repeat("x", 2<<20)})
		}, 413, CodeRequestTooLarge, ""},
		{"fail/v3-unknown-action", func(t *testing.T) *http.Request { return v3Request(t, reqSpec{action: "DeleteEverything"}) },
			404, CodeInvalidAction, ""},
		{"fail/v1-unknown-action", func(t *testing.T) *http.Request { return v1Request(t, reqSpec{action: "DeleteEverything"}) },
			404, CodeInvalidAction, ""},
		{"fail/v3-missing-action", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{header: map[string]string{"x-acs-action": "-"}})
		}, 400, CodeMissingParameter, "x-acs-action"},
		{"fail/v3-bad-version", func(t *testing.T) *http.Request { return v3Request(t, reqSpec{version: "2020-04-07"}) },
			400, CodeInvalidVersion, "2020-06-30"},
		{"fail/v1-missing-version", func(t *testing.T) *http.Request { return v1Request(t, reqSpec{query: q("Version", "-")}) },
			400, CodeInvalidVersion, ""},
		{"fail/v3-missing-timestamp", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{header: map[string]string{"x-acs-date": "-"}})
		}, 400, CodeIllegalTimestamp, "x-acs-date"},
		{"fail/v1-missing-timestamp", func(t *testing.T) *http.Request { return v1Request(t, reqSpec{query: q("Timestamp", "-")}) },
			400, CodeIllegalTimestamp, "Timestamp"},
		{"fail/v1-garbled-timestamp", func(t *testing.T) *http.Request { return v1Request(t, reqSpec{date: "yesterday"}) },
			400, CodeIllegalTimestamp, ""},
		{"fail/v3-expired-timestamp", func(t *testing.T) *http.Request { return v3Request(t, reqSpec{date: old}) },
			400, CodeTimestampExpired, ""},
		{"fail/v1-future-timestamp", func(t *testing.T) *http.Request {
			return v1Request(t, reqSpec{date: testNow.Add(16 * time.Minute).Format(time.RFC3339)})
		}, 400, CodeTimestampExpired, ""},
		{"fail/expired-before-unknown-key", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{date: old, keyID: "ak-nobody"})
		}, 400, CodeTimestampExpired, ""},
		{"fail/v3-unknown-key", func(t *testing.T) *http.Request { return v3Request(t, reqSpec{keyID: "ak-nobody"}) },
			404, CodeAccessKeyNotFound, ""},
		{"fail/v1-unknown-key", func(t *testing.T) *http.Request { return v1Request(t, reqSpec{keyID: "ak-nobody"}) },
			404, CodeAccessKeyNotFound, ""},
		{"fail/key-store-error-hidden", func(t *testing.T) *http.Request { return v3Request(t, reqSpec{keyID: "ak-broken"}) },
			500, CodeInternalError, "unknown error"},
		{"fail/inactive-key", func(t *testing.T) *http.Request { return v3Request(t, reqSpec{keyID: "ak-inactive", secret: "other"}) },
			400, CodeAccessKeyInactive, ""},
		{"fail/v3-wrong-secret", func(t *testing.T) *http.Request { return v3Request(t, reqSpec{secret: "wrong"}) },
			400, CodeIncompleteSignature, ""},
		{"fail/v3-tampered-query", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{query: q("Alpha", "1"), after: func(r *http.Request) { r.URL.RawQuery = "Alpha=2" }})
		}, 400, CodeIncompleteSignature, ""},
		{"fail/v3-body-hash-mismatch", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{body: "ClientToken=a", after: func(r *http.Request) {
				r.Body = httpBody("ClientToken=b")
			}})
		}, 400, CodeIncompleteSignature, "x-acs-content-sha256"},
		{"fail/v3-date-not-signed", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{after: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "x-acs-date;", "", 1))
			}})
		}, 400, CodeIncompleteSignature, "x-acs-date must be signed"},
		{"fail/v3-form-content-type-not-signed", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{body: "ClientToken=a", after: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "content-type;", "", 1))
			}})
		}, 400, CodeIncompleteSignature, "content-type"},
		{"fail/v3-signed-header-absent", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{after: func(r *http.Request) { r.Header.Del("x-acs-credentials-provider") }})
		}, 400, CodeIncompleteSignature, "x-acs-credentials-provider is missing"},
		{"fail/v3-malformed-authorization", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{after: func(r *http.Request) {
				r.Header.Set("Authorization", "ACS3-HMAC-SHA256 Credential=ak-active")
			}})
		}, 400, CodeIncompleteSignature, "malformed"},
		{"fail/v3-sm3-refused", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{after: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "ACS3-HMAC-SHA256", "ACS3-HMAC-SM3", 1))
			}})
		}, 400, CodeIncompleteSignature, "ACS3-HMAC-SM3\" is not supported"},
		{"fail/v1-wrong-secret", func(t *testing.T) *http.Request { return v1Request(t, reqSpec{secret: "wrong"}) },
			400, CodeSignatureDoesNotMatch, ""},
		{"fail/v1-tampered-body", func(t *testing.T) *http.Request {
			return v1Request(t, reqSpec{body: "ClientToken=a", after: func(r *http.Request) { r.Body = httpBody("ClientToken=b") }})
		}, 400, CodeSignatureDoesNotMatch, ""},
		{"fail/v1-missing-accesskeyid", func(t *testing.T) *http.Request { return v1Request(t, reqSpec{query: q("AccessKeyId", "-")}) },
			400, CodeMissingParameter, "AccessKeyId"},
		{"fail/v1-missing-nonce", func(t *testing.T) *http.Request { return v1Request(t, reqSpec{query: q("SignatureNonce", "-")}) },
			400, CodeMissingParameter, "SignatureNonce"},
		{"fail/v1-sha256-method", func(t *testing.T) *http.Request {
			return v1Request(t, reqSpec{query: q("SignatureMethod", "HMAC-SHA256")})
		}, 400, CodeIncompleteSignature, "HMAC-SHA1"},
		{"fail/v3-sts-refused", func(t *testing.T) *http.Request {
			return v3Request(t, reqSpec{header: map[string]string{"x-acs-security-token": "testtoken", "x-acs-accesskey-id": testKeyID}})
		}, 400, CodeSecurityTokenMalformed, "STS"},
		{"fail/v1-sts-refused", func(t *testing.T) *http.Request { return v1Request(t, reqSpec{query: q("SecurityToken", "testtoken")}) },
			400, CodeSecurityTokenMalformed, "STS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, func(c *Config) { c.MaxBodyBytes = 1 << 20 })
			w := ts.do(tc.req(t))
			if w.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d; body %s", w.Code, tc.wantStatus, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != contentTypeJSON {
				t.Errorf("Content-Type = %q, want %q", ct, contentTypeJSON)
			}
			m := decodeJSON(t, w)
			if m["Code"] != tc.wantCode {
				t.Errorf("Code = %v, want %s; message %v", m["Code"], tc.wantCode, m["Message"])
			}
			msg, _ := m["Message"].(string)
			if tc.wantMsg != "" && !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("Message = %q, want it to contain %q", msg, tc.wantMsg)
			}
			if m["RequestId"] != "REQ-1" || m["HostId"] != "pcad" || w.Header().Get("x-acs-request-id") != "REQ-1" {
				t.Errorf("envelope ids: RequestId=%v HostId=%v header=%q", m["RequestId"], m["HostId"], w.Header().Get("x-acs-request-id"))
			}
			if rec, _ := m["Recommend"].(string); !strings.Contains(rec, tc.wantCode) {
				t.Errorf("Recommend = %q, want it to name %s", rec, tc.wantCode)
			}
			for _, secret := range []string{testSecret, "hunter2", "postgres://", "ACS3-HMAC-SHA256\n"} {
				if strings.Contains(w.Body.String(), secret) {
					t.Errorf("body leaks %q: %s", secret, w.Body)
				}
			}
		})
	}
}

func httpBody(s string) *readCloser { return &readCloser{strings.NewReader(s)} }

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

func TestHandlerNonceReuse(t *testing.T) {
	tests := []struct {
		name     string
		build    func(t *testing.T, s reqSpec) *http.Request
		nonce2   string
		keyID2   string
		wantCode string // second request; "" = success
	}{
		{"fail/v3-same-nonce", v3Request, "n-1", "", CodeSignatureNonceUsed},
		{"fail/v1-same-nonce", v1Request, "n-1", "", CodeSignatureNonceUsed},
		{"ok/v3-other-nonce", v3Request, "n-2", "", ""},
		{"ok/same-nonce-other-key", v3Request, "n-1", "ak-second", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys := fakeKeys{testKeyID: testKeys[testKeyID],
				"ak-second": {AccessKeyID: "ak-second", Secret: "x2", PrincipalID: 9, Active: true}}
			ts := newTestServer(t, func(c *Config) { c.Keys = keys })
			if w := ts.do(tc.build(t, reqSpec{nonce: "n-1"})); w.Code != 200 {
				t.Fatalf("first request: status %d %s", w.Code, w.Body)
			}
			spec := reqSpec{nonce: tc.nonce2}
			if tc.keyID2 != "" {
				spec.keyID, spec.secret = tc.keyID2, "x2"
			}
			w := ts.do(tc.build(t, spec))
			if tc.wantCode == "" {
				if w.Code != 200 {
					t.Errorf("second request: status %d %s, want 200", w.Code, w.Body)
				}
				return
			}
			if m := decodeJSON(t, w); w.Code != 400 || m["Code"] != tc.wantCode {
				t.Errorf("second request: %d %v, want 400 %s", w.Code, m["Code"], tc.wantCode)
			}
		})
	}
}

// TestHandlerNonceOnlyAfterSignature shows a forged request cannot burn a
// nonce: the genuine request with the same nonce still succeeds.
func TestHandlerNonceOnlyAfterSignature(t *testing.T) {
	ts := newTestServer(t, nil)
	if w := ts.do(v3Request(t, reqSpec{nonce: "n-x", secret: "forged"})); w.Code != 400 {
		t.Fatalf("forged request: status %d, want 400", w.Code)
	}
	if w := ts.do(v3Request(t, reqSpec{nonce: "n-x"})); w.Code != 200 {
		t.Errorf("genuine request after forged one: status %d %s, want 200", w.Code, w.Body)
	}
}

func TestNewHandlerValidation(t *testing.T) {
	ok := Config{Version: testVersion, Actions: testActions(), Keys: testKeys}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"ok/minimal", func(*Config) {}, ""},
		{"fail/no-version", func(c *Config) { c.Version = "" }, "Version"},
		{"fail/no-actions", func(c *Config) { c.Actions = nil }, "Actions"},
		{"fail/no-keys", func(c *Config) { c.Keys = nil }, "Keys"},
		{"fail/nil-action", func(c *Config) { c.Actions = map[string]HandlerFunc{"X": nil} }, "nil handler"},
		{"fail/negative-body", func(c *Config) { c.MaxBodyBytes = -1 }, "MaxBodyBytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.mutate(&cfg)
			h, err := NewHandler(cfg)
			if tc.wantErr == "" {
				if err != nil || h == nil {
					t.Errorf("NewHandler = %v, %v; want a handler", h, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("NewHandler error = %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}
