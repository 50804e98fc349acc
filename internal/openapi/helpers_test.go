package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

var testNow = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

const (
	testVersion = "2020-06-30"
	testHost    = "pcad.test"
	testKeyID   = "ak-active"
	testSecret  = "s3cr3t-value-never-logged"
)

// fakeKeys is an in-memory KeyLookup.
type fakeKeys map[string]Credential

func (f fakeKeys) LookupAccessKey(_ context.Context, id string) (Credential, error) {
	if id == "ak-broken" {
		return Credential{}, errors.New("key store offline: dsn=postgres://admin:pw@db")
	}
	c, ok := f[id]
	if !ok {
		return Credential{}, pca.NotFound("AccessKeyId", "AccessKey", id)
	}
	return c, nil
}

var testKeys = fakeKeys{
	testKeyID:     {AccessKeyID: testKeyID, Secret: testSecret, AccountID: 1001, PrincipalID: 7, Active: true},
	"ak-inactive": {AccessKeyID: "ak-inactive", Secret: "other", AccountID: 1001, PrincipalID: 8, Active: false},
}

// fakeLimiter answers a fixed Decision and records the keys it was asked.
type fakeLimiter struct {
	mu   sync.Mutex
	d    Decision
	keys []string
}

func (l *fakeLimiter) Allow(_ context.Context, key string) (Decision, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.keys = append(l.keys, key)
	return l.d, nil
}

// echoResult keeps its members in a deliberate, non-alphabetical order.
type echoResult struct {
	Zeta        string
	Alpha       string
	ClientToken string
	Caller      Caller
	Secure      bool
	SourceIP    string
	Names       []string
}

// testActions are the dummy actions of the handler tests.
func testActions() map[string]HandlerFunc {
	return map[string]HandlerFunc{
		"Echo": func(_ context.Context, r *Request) (any, error) {
			z, _ := r.Params.Get("Zeta")
			a, _ := r.Params.Get("Alpha")
			ct, _ := r.Params.Get("ClientToken")
			return echoResult{Zeta: z, Alpha: a, ClientToken: ct, Caller: r.Caller, Secure: r.Secure, SourceIP: r.SourceIP, Names: r.Params.Names()}, nil
		},
		"Empty": func(context.Context, *Request) (any, error) { return nil, nil },
		"Fail": func(_ context.Context, r *Request) (any, error) {
			c, _ := r.Params.Get("Case")
			return nil, failCases[c]
		},
		"Boom": func(context.Context, *Request) (any, error) {
			return nil, fmt.Errorf("store: insert: %w", errors.New("db password=hunter2 exploded"))
		},
		"Panic": func(context.Context, *Request) (any, error) { panic("hunter2 panic") },
		"Nested": func(context.Context, *Request) (any, error) {
			return json.RawMessage(`{"Total":2,"List":[{"Id":1,"Name":"a<b&c"},{"Id":2,"Tags":["x","y"]}],"Empty":[],"Obj":{"Ok":true,"Nil":null}}`), nil
		},
		"Array": func(context.Context, *Request) (any, error) { return []int{1}, nil },
	}
}

// failCases are errors the Fail action returns, chosen by its Case parameter.
var failCases = map[string]error{
	"invalid":     pca.Invalid("Status", "The specified parameter Status value X is not valid."),
	"invalid-np":  &pca.Error{Kind: pca.KindInvalid, Msg: "bad"},
	"missing":     pca.Missing("Identifier"),
	"notfound":    pca.NotFound("Identifier", "Certificate", "abc"),
	"state":       pca.StateError("CertificateRevoked", "The certificate is revoked."),
	"exists":      &pca.Error{Kind: pca.KindExists, Detail: "Alias", Msg: "taken"},
	"quota":       &pca.Error{Kind: pca.KindQuota, Detail: "Instance", Msg: "full"},
	"permission":  &pca.Error{Kind: pca.KindPermission, Msg: "You are not authorized to do ListCert."},
	"throttled":   &pca.Error{Kind: pca.KindThrottled, Msg: "slow down"},
	"unavailable": fmt.Errorf("service: %w", &pca.Error{Kind: pca.KindUnavailable, Msg: "Try later.", Err: errors.New("redis down")}),
	"internal":    pca.Internal(errors.New("hunter2 disk full")),
	"wrapped":     fmt.Errorf("service: %w", pca.NotFound("Identifier", "Certificate", "abc")),
	"nomsg":       &pca.Error{Kind: pca.KindNotFound},
}

type testServer struct {
	h       http.Handler
	logs    *bytes.Buffer
	limiter *fakeLimiter
}

// newTestServer builds the handler under test with a fixed clock, the fake
// keys, sequential request ids and a JSON logger into a buffer.
func newTestServer(t testing.TB, mutate func(*Config)) *testServer {
	t.Helper()
	logs := &bytes.Buffer{}
	var n atomic.Int64
	cfg := Config{
		Version: testVersion,
		Actions: testActions(),
		Keys:    testKeys,
		Now:     func() time.Time { return testNow },
		NewRequestID: func() string {
			return fmt.Sprintf("REQ-%d", n.Add(1))
		},
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	ts := &testServer{h: h, logs: logs}
	if l, ok := cfg.Limiter.(*fakeLimiter); ok {
		ts.limiter = l
	}
	return ts
}

// do serves r and returns the recorded response.
func (ts *testServer) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	ts.h.ServeHTTP(w, r)
	return w
}

// reqSpec describes a request to sign. Zero fields take defaults.
type reqSpec struct {
	method      string
	action      string
	version     string
	date        string
	nonce       string
	keyID       string
	secret      string
	query       url.Values
	body        string // form body
	contentType string // default for a non-empty body: form
	header      map[string]string
	after       func(*http.Request) // tampering after signing
}

var nonceSeq atomic.Int64

func (s reqSpec) withDefaults() reqSpec {
	if s.method == "" {
		s.method = http.MethodPost
	}
	if s.action == "" {
		s.action = "Echo"
	}
	if s.version == "" {
		s.version = testVersion
	}
	if s.date == "" {
		s.date = testNow.Format(time.RFC3339)
	}
	if s.nonce == "" {
		s.nonce = fmt.Sprintf("nonce-%d", nonceSeq.Add(1))
	}
	if s.keyID == "" {
		s.keyID = testKeyID
	}
	if s.secret == "" {
		s.secret = testSecret
	}
	if s.body != "" && s.contentType == "" {
		s.contentType = "application/x-www-form-urlencoded"
	}
	return s
}

// v3Request builds a request signed like the official client's V3 path.
// A header value "-" in spec.header removes that header before signing.
func v3Request(t *testing.T, spec reqSpec) *http.Request {
	t.Helper()
	s := spec.withDefaults()
	r := httptest.NewRequest(s.method, "http://"+testHost+"/?"+s.query.Encode(), strings.NewReader(s.body))
	h := map[string]string{
		"x-acs-action":               s.action,
		"x-acs-version":              s.version,
		"x-acs-date":                 s.date,
		"x-acs-signature-nonce":      s.nonce,
		"x-acs-content-sha256":       HashPayloadV3([]byte(s.body)),
		"x-acs-credentials-provider": "static_ak",
	}
	if s.contentType != "" {
		h["content-type"] = s.contentType
	}
	for k, v := range s.header {
		h[k] = v
	}
	signed := []string{"host"}
	for k, v := range h {
		if v == "-" {
			continue
		}
		r.Header.Set(k, v)
		signed = append(signed, strings.ToLower(k))
	}
	slices.Sort(signed)
	cr := CanonicalRequestV3(r.Method, "/", r.URL.Query(), r.Header, r.Host, signed, r.Header.Get("x-acs-content-sha256"))
	r.Header.Set("Authorization", AuthorizationV3(s.keyID, signed, SignV3(s.secret, StringToSignV3(cr))))
	if s.after != nil {
		s.after(r)
	}
	return r
}

// v1Request builds a request signed like the official client's V1 path:
// common parameters and s.query in the URL, s.body as the form body, both
// signed. A query value "-" removes that common parameter.
func v1Request(t *testing.T, spec reqSpec) *http.Request {
	t.Helper()
	s := spec.withDefaults()
	q := url.Values{
		"Action":           {s.action},
		"Version":          {s.version},
		"Format":           {"json"},
		"Timestamp":        {s.date},
		"SignatureNonce":   {s.nonce},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureVersion": {"1.0"},
		"AccessKeyId":      {s.keyID},
	}
	for k, v := range s.query {
		if len(v) == 1 && v[0] == "-" {
			delete(q, k)
			continue
		}
		q[k] = v
	}
	signing := url.Values{}
	for k, v := range q {
		signing[k] = v
	}
	if s.body != "" && s.contentType == "application/x-www-form-urlencoded" {
		b, err := url.ParseQuery(s.body)
		if err != nil {
			t.Fatalf("body: %v", err)
		}
		for k, v := range b {
			signing[k] = v
		}
	}
	q.Set("Signature", SignV1(s.secret, StringToSignV1(s.method, signing)))
	r := httptest.NewRequest(s.method, "http://"+testHost+"/?"+q.Encode(), strings.NewReader(s.body))
	if s.contentType != "" {
		r.Header.Set("Content-Type", s.contentType)
	}
	for k, v := range s.header {
		r.Header.Set(k, v)
	}
	if s.after != nil {
		s.after(r)
	}
	return r
}

// decodeJSON decodes a response body into a map, failing the test if it is
// not a JSON object.
func decodeJSON(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, w.Body.String())
	}
	return m
}
