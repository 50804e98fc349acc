package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
)

// The signature vectors of the spec (A.4 and A.5): produced by the official
// Go client and re-derived independently.
var (
	vecNow   = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	vecNonce = "3b1c8f0e6d2a4e5f9a7b0c1d2e3f4a5b"
	vecCred  = Credentials{AccessKeyID: "testid", AccessKeySecret: "testsecret"}
	vecQuery = url.Values{
		"AfterDate": {"2024-05-13 12:59:45"}, "CurrentPage": {"1"},
		"InstanceUuid": {"1ef79512-569b-6a4e-9105-9b91473562f7"}, "ShowSize": {"50"}, "Status": {"ISSUE"},
	}
)

func TestClientSignV3SpecVector(t *testing.T) {
	const want = "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;" +
		"x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version," +
		"Signature=edf2b2f60aec141ddeb7b5c54894e6c51c14e01476d7c99ddfca62a2ba9b085c"
	u := &url.URL{Scheme: "https", Host: "cas.aliyuncs.com", Path: "/", RawQuery: vecQuery.Encode()}
	req, err := http.NewRequest(http.MethodPost, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// The official client also signs this informational header.
	req.Header.Set("x-acs-credentials-provider", "static_ak")
	signV3(req, "ListCert", "2020-06-30", nil, vecCred.AccessKeyID, vecCred.AccessKeySecret, vecNonce, vecNow)
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization\n got %s\nwant %s", got, want)
	}
}

func TestClientSignV1SpecVectors(t *testing.T) {
	tests := []struct {
		name, method, want string
	}{
		{"POST", http.MethodPost, "BGp7HcGPKwv3SzsQipG2VwrmXE0="},
		{"GET", http.MethodGet, "ZL1O+2JkuUPBpwDjaStKh6dWGfU="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := paramsV1(tc.method, vecQuery, "ListCert", "2020-06-30", "testid", "testsecret", vecNonce, vecNow)
			// The official client sends Format=json in lower case; the
			// vector was made with it.
			q.Set("Format", "json")
			q.Del("Signature")
			got := openapi.SignV1("testsecret", openapi.StringToSignV1(tc.method, q))
			if got != tc.want {
				t.Errorf("signature %s, want %s", got, tc.want)
			}
		})
	}
}

// testKeys is the server's side of the AccessKeys the tests sign with.
type testKeys map[string]string

func (k testKeys) LookupAccessKey(_ context.Context, id string) (openapi.Credential, error) {
	s, ok := k[id]
	if !ok {
		return openapi.Credential{}, pca.NotFound("AccessKeyId", "AccessKey", id)
	}
	return openapi.Credential{AccessKeyID: id, Secret: s, AccountID: 1, PrincipalID: 1, Active: true}, nil
}

// denyFirst throttles the first n calls.
type denyFirst struct {
	mu sync.Mutex
	n  int
}

func (d *denyFirst) Allow(context.Context, string) (openapi.Decision, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.n > 0 {
		d.n--
		return openapi.Decision{Allowed: false, Limit: 1, RetryAfter: 30 * time.Millisecond}, nil
	}
	return openapi.Decision{Allowed: true, Limit: 1, Remaining: 1}, nil
}

// server runs the real protocol layer (openapi.NewHandler, which verifies
// both signature versions) with an Echo action answering its parameters
// and a Fail action answering InvalidParameter.
func server(t *testing.T, limiter openapi.Limiter) *httptest.Server {
	t.Helper()
	cfg := openapi.Config{
		Version: APIVersion,
		Keys:    testKeys{"ak-1": "s3cr3t"},
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Actions: map[string]openapi.HandlerFunc{
			"Echo": func(_ context.Context, r *openapi.Request) (any, error) {
				out := map[string]string{}
				for _, n := range r.Params.Names() {
					out[n], _ = r.Params.Get(n)
				}
				return map[string]any{"Params": out}, nil
			},
			"Fail": func(context.Context, *openapi.Request) (any, error) {
				return nil, pca.Invalid("Status", "The specified parameter Status is not valid.")
			},
		},
	}
	if limiter != nil {
		cfg.Limiter = limiter
	}
	h, err := openapi.NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newTestClient(t *testing.T, endpoint string, sig Signature, secret string) *Client {
	t.Helper()
	c, err := New(Config{Endpoint: endpoint, Signature: sig, Credentials: Credentials{AccessKeyID: "ak-1", AccessKeySecret: secret}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientCallVerifiedByServer(t *testing.T) {
	srv := server(t, nil)
	params := url.Values{
		"CommonName": {`a b*c~d/é+&=`},
		"Csr":        {"-----BEGIN CERTIFICATE REQUEST-----\nMIIB+/x=\n-----END CERTIFICATE REQUEST-----\n"},
		"Tags.1.Key": {"env"}, "Empty": {""},
	}
	for _, sig := range []Signature{V3, V1} {
		t.Run(sig.String(), func(t *testing.T) {
			c := newTestClient(t, srv.URL, sig, "s3cr3t")
			var out struct{ Params map[string]string }
			if err := c.Do(t.Context(), "Echo", params, &out); err != nil {
				t.Fatalf("Echo: %v", err)
			}
			for k, v := range params {
				if out.Params[k] != v[0] {
					t.Errorf("server read %s=%q, want %q", k, out.Params[k], v[0])
				}
			}
			// A wrong secret must fail the server's verification.
			bad := newTestClient(t, srv.URL, sig, "wrong")
			err := bad.Do(t.Context(), "Echo", params, nil)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("wrong secret: got %v, want an *Error", err)
			}
			want := map[Signature]string{V3: "IncompleteSignature", V1: "SignatureDoesNotMatch"}[sig]
			if e.Code != want || e.StatusCode != http.StatusBadRequest || e.RequestID == "" {
				t.Errorf("wrong secret: %+v, want %s (HTTP 400) with a RequestId", e, want)
			}
		})
	}
}

func TestClientErrorFields(t *testing.T) {
	srv := server(t, nil)
	c := newTestClient(t, srv.URL, V3, "s3cr3t")
	_, err := c.Call(t.Context(), "Fail", nil)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v, want an *Error", err)
	}
	if e.Code != "InvalidParameter.Status" || e.StatusCode != 400 || e.RequestID == "" || !strings.Contains(e.Message, "Status") {
		t.Errorf("error %+v", e)
	}
	msg := e.Error()
	for _, part := range []string{"InvalidParameter.Status", "Status is not valid", "HTTP 400", e.RequestID} {
		if !strings.Contains(msg, part) {
			t.Errorf("Error() = %q, does not mention %q", msg, part)
		}
	}
	if strings.Contains(msg, "s3cr3t") {
		t.Error("the error text holds the secret")
	}
	// An unknown action answers InvalidAction.NotFound (404).
	_, err = c.Call(t.Context(), "NoSuchAction", nil)
	if !errors.As(err, &e) || e.Code != "InvalidAction.NotFound" || e.StatusCode != 404 {
		t.Errorf("unknown action: %v", err)
	}
}

func TestClientErrorNotJSON(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantCode string
	}{
		{"html 502", 502, "<html>bad gateway</html>", "HTTP502"},
		{"lower-case members", 403, `{"code":"Forbidden.RAM","message":"no","requestId":"R1"}`, "Forbidden.RAM"},
		{"200 not JSON", 200, "hello", "InvalidResponse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL, V3, "x")
			_, err := c.Call(t.Context(), "ListCert", nil)
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.wantCode || e.StatusCode != tc.status {
				t.Fatalf("got %v, want code %s status %d", err, tc.wantCode, tc.status)
			}
		})
	}
}

func TestClientRetriesThrottled(t *testing.T) {
	tests := []struct {
		name     string
		deny     int
		retries  int // Config.ThrottleRetries: 0 means 20, negative none
		wantErr  string
		wantCall int
	}{
		{"recovers", 2, 0, "", 3},
		{"gives up", 3, 1, "Throttling.User", 2},
		{"no retries", 1, -1, "Throttling.User", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := &denyFirst{n: tc.deny}
			srv := server(t, lim)
			c, err := New(Config{Endpoint: srv.URL, ThrottleRetries: tc.retries,
				Credentials: Credentials{AccessKeyID: "ak-1", AccessKeySecret: "s3cr3t"}})
			if err != nil {
				t.Fatal(err)
			}
			var waits []time.Duration
			c.cfg.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			err = c.Do(t.Context(), "Echo", nil, nil)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if len(waits) != tc.wantCall-1 {
				t.Errorf("waited %d times, want %d", len(waits), tc.wantCall-1)
			}
			for i, w := range waits {
				// TimeLeft (30ms) plus a random share of TimeLeft and a floor of 50ms per attempt.
				if hi := 30*time.Millisecond + 30*time.Millisecond + time.Duration(50*(i+1))*time.Millisecond; w < 30*time.Millisecond || w >= hi {
					t.Errorf("wait %d: %v, want the server's TimeLeft (30ms) plus less than %v", i, w, hi-30*time.Millisecond)
				}
			}
		})
	}
}

// TestClientTransportErrorHidesQuery: a failed request names the endpoint,
// never the parameters (an export password travels in the query).
func TestClientTransportErrorHidesQuery(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	endpoint := srv.URL
	srv.Close() // nothing listens there any more
	c := newTestClient(t, endpoint, V1, "s3cr3t")
	_, err := c.Call(t.Context(), "DescribeCertificatePrivateKey", url.Values{"EncryptedCode": {"pw-do-not-show"}})
	if err == nil {
		t.Fatal("a call to a closed server succeeded")
	}
	for _, bad := range []string{"pw-do-not-show", "Signature", "s3cr3t"} {
		if strings.Contains(err.Error(), bad) {
			t.Errorf("error %q shows %q", err, bad)
		}
	}
	if !strings.Contains(err.Error(), strings.TrimPrefix(endpoint, "http://")) {
		t.Errorf("error %q does not name the endpoint", err)
	}
}

func TestClientDoDecodesNumbers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"RequestId":"R","TotalCount":12345678901234567}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, V3, "x")
	var out map[string]any
	if err := c.Do(t.Context(), "ListCert", nil, &out); err != nil {
		t.Fatal(err)
	}
	if n, ok := out["TotalCount"].(json.Number); !ok || n.String() != "12345678901234567" {
		t.Errorf("TotalCount = %#v, want the exact json.Number", out["TotalCount"])
	}
}

func TestClientParseEndpoint(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/", true},
		{"127.0.0.1:9000", "http://127.0.0.1:9000/", true},
		{"https://ca.example.com/some/path?x=1", "https://ca.example.com/", true},
		{"ftp://x", "", false},
		{"", "", false},
		{"http://", "", false},
	}
	for _, tc := range tests {
		u, err := ParseEndpoint(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("ParseEndpoint(%q) error %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if tc.ok && u.String() != tc.want {
			t.Errorf("ParseEndpoint(%q) = %s, want %s", tc.in, u, tc.want)
		}
	}
}
