package openapi

import (
	"crypto/tls"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

func TestHandlerSuccessEnvelope(t *testing.T) {
	tests := []struct {
		name  string
		build func(t *testing.T, s reqSpec) *http.Request
		spec  reqSpec
		want  string // exact body
	}{
		{"ok/v3-empty-result", v3Request, reqSpec{action: "Empty"}, `{"RequestId":"REQ-1"}`},
		{"ok/v1-empty-result-GET", v1Request, reqSpec{action: "Empty", method: http.MethodGet}, `{"RequestId":"REQ-1"}`},
		{"ok/v3-nested-order-kept", v3Request, reqSpec{action: "Nested"},
			`{"RequestId":"REQ-1","Total":2,"List":[{"Id":1,"Name":"a\u003cb\u0026c"},{"Id":2,"Tags":["x","y"]}],"Empty":[],"Obj":{"Ok":true,"Nil":null}}`},
		{"ok/v1-format-json-lowercase", v1Request, reqSpec{action: "Nested", query: url.Values{"Format": {"json"}}},
			`{"RequestId":"REQ-1","Total":2,"List":[{"Id":1,"Name":"a\u003cb\u0026c"},{"Id":2,"Tags":["x","y"]}],"Empty":[],"Obj":{"Ok":true,"Nil":null}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, nil)
			w := ts.do(tc.build(t, tc.spec))
			if w.Code != 200 {
				t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body)
			}
			if got := w.Body.String(); got != tc.want {
				t.Errorf("body:\n got %s\nwant %s", got, tc.want)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json;charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
			if id := w.Header().Get("x-acs-request-id"); id != "REQ-1" {
				t.Errorf("x-acs-request-id = %q, want REQ-1", id)
			}
			if w.Header().Get("x-ratelimit-user-api") != "" {
				t.Errorf("rate-limit header sent without a Limiter")
			}
		})
	}
}

// TestHandlerParamsMerge shows query and form body merged, the body winning,
// and the handler seeing the caller and connection facts.
func TestHandlerParamsMerge(t *testing.T) {
	tests := []struct {
		name      string
		build     func(t *testing.T, s reqSpec) *http.Request
		body      string
		ctype     string
		wantZeta  string
		wantToken string
		wantNames []string // subset that must be present
		notNames  []string
	}{
		{"ok/v3-body-wins", v3Request, "Zeta=body&ClientToken=tok-123", "", "body", "tok-123", []string{"Alpha", "ClientToken", "Zeta"}, []string{"Signature"}},
		{"ok/v1-body-wins", v1Request, "Zeta=body&ClientToken=tok-123", "", "body", "tok-123",
			[]string{"AccessKeyId", "Action", "Alpha", "ClientToken", "Zeta"}, []string{"Signature"}},
		{"ok/v3-form-with-charset", v3Request, "ClientToken=t2", "application/x-www-form-urlencoded; charset=UTF-8", "query", "t2", []string{"ClientToken"}, nil},
		{"ok/v3-non-form-body-ignored", v3Request, `{"Zeta":"json"}`, "application/json", "query", "", nil, []string{"ClientToken"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, nil)
			r := tc.build(t, reqSpec{
				query:       url.Values{"Zeta": {"query"}, "Alpha": {"a"}},
				body:        tc.body,
				contentType: tc.ctype,
			})
			r.TLS = &tls.ConnectionState{}
			r.RemoteAddr = "192.0.2.7:5555"
			w := ts.do(r)
			if w.Code != 200 {
				t.Fatalf("status = %d; body %s", w.Code, w.Body)
			}
			var got struct {
				RequestID string `json:"RequestId"`
				echoResult
			}
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.Zeta != tc.wantZeta || got.Alpha != "a" || got.ClientToken != tc.wantToken {
				t.Errorf("Zeta, Alpha, ClientToken = %q, %q, %q; want %q, a, %q", got.Zeta, got.Alpha, got.ClientToken, tc.wantZeta, tc.wantToken)
			}
			wantCaller := Caller{AccessKeyID: testKeyID, AccountID: 1001, PrincipalID: 7}
			if got.Caller != wantCaller || !got.Secure || got.SourceIP != "192.0.2.7" {
				t.Errorf("Caller, Secure, SourceIP = %+v, %v, %q", got.Caller, got.Secure, got.SourceIP)
			}
			names := strings.Join(got.Names, ",")
			for _, n := range tc.wantNames {
				if !strings.Contains(","+names+",", ","+n+",") {
					t.Errorf("Names = %s, missing %s", names, n)
				}
			}
			for _, n := range tc.notNames {
				if strings.Contains(","+names+",", ","+n+",") {
					t.Errorf("Names = %s, must not have %s", names, n)
				}
			}
			if !strings.HasPrefix(w.Body.String(), `{"RequestId":"REQ-1","Zeta":`) {
				t.Errorf("RequestId not first or member order changed: %s", w.Body)
			}
		})
	}
}

func TestHandlerXML(t *testing.T) {
	xmlQ := func(f string) url.Values { return url.Values{"Format": {f}} }
	tests := []struct {
		name       string
		req        func(t *testing.T) *http.Request
		wantStatus int
		wantCT     string
		wantBody   string
	}{
		{"ok/v1-xml-nested", func(t *testing.T) *http.Request { return v1Request(t, reqSpec{action: "Nested", query: xmlQ("XML")}) },
			200, contentTypeXML,
			`<?xml version="1.0" encoding="UTF-8"?><NestedResponse><RequestId>REQ-1</RequestId><Total>2</Total>` +
				`<List><Id>1</Id><Name>a&lt;b&amp;c</Name></List><List><Id>2</Id><Tags>x</Tags><Tags>y</Tags></List>` +
				`<Obj><Ok>true</Ok><Nil></Nil></Obj></NestedResponse>`},
		{"ok/v1-xml-case-insensitive", func(t *testing.T) *http.Request { return v1Request(t, reqSpec{action: "Empty", query: xmlQ("xml")}) },
			200, contentTypeXML, `<?xml version="1.0" encoding="UTF-8"?><EmptyResponse><RequestId>REQ-1</RequestId></EmptyResponse>`},
		{"fail/v1-xml-error", func(t *testing.T) *http.Request { return v1Request(t, reqSpec{secret: "bad", query: xmlQ("XML")}) },
			400, contentTypeXML,
			`<?xml version="1.0" encoding="UTF-8"?><Error><RequestId>REQ-1</RequestId><HostId>pcad</HostId><Code>SignatureDoesNotMatch</Code>` +
				`<Message>Specified signature is not matched with our calculation.</Message>` +
				`<Recommend>See the pcad API documentation for error code SignatureDoesNotMatch.</Recommend></Error>`},
		{"fail/v1-xml-error-at-decode", func(t *testing.T) *http.Request {
			q := xmlQ("XML")
			q.Set("SignatureVersion", "2.0")
			return v1Request(t, reqSpec{query: q})
		}, 400, contentTypeXML, ""},
		{"ok/v3-format-xml-ignored", func(t *testing.T) *http.Request { return v3Request(t, reqSpec{action: "Empty", query: xmlQ("XML")}) },
			200, contentTypeJSON, `{"RequestId":"REQ-1"}`},
		{"fail/unsigned-format-xml-is-json", func(t *testing.T) *http.Request {
			r, _ := http.NewRequest("GET", "http://pcad.test/?Format=XML&Action=Echo", nil)
			return r
		}, 400, contentTypeJSON, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, nil)
			w := ts.do(tc.req(t))
			if w.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d; body %s", w.Code, tc.wantStatus, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != tc.wantCT {
				t.Errorf("Content-Type = %q, want %q", ct, tc.wantCT)
			}
			if tc.wantBody != "" && w.Body.String() != tc.wantBody {
				t.Errorf("body:\n got %s\nwant %s", w.Body, tc.wantBody)
			}
			if tc.wantCT == contentTypeXML {
				var v struct {
					RequestID string `xml:"RequestId"`
				}
				if err := xml.Unmarshal(w.Body.Bytes(), &v); err != nil || v.RequestID != "REQ-1" {
					t.Errorf("XML does not parse with RequestId REQ-1: %v %+v", err, v)
				}
			}
		})
	}
}

func TestHandlerThrottling(t *testing.T) {
	tests := []struct {
		name       string
		d          Decision
		wantStatus int
		wantHeader string
	}{
		{"ok/allowed", Decision{Allowed: true, Limit: 10, Remaining: 9}, 200, "Limit:10,Remain:9,TimeLeft:0"},
		{"fail/denied-rounds-up", Decision{Allowed: false, Limit: 10, Remaining: 0, RetryAfter: 730*time.Millisecond + time.Microsecond}, 400, "Limit:10,Remain:0,TimeLeft:731"},
		{"fail/denied-exact-ms", Decision{Allowed: false, Limit: 5, RetryAfter: 2 * time.Second}, 400, "Limit:5,Remain:0,TimeLeft:2000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lim := &fakeLimiter{d: tc.d}
			ts := newTestServer(t, func(c *Config) { c.Limiter = lim })
			w := ts.do(v3Request(t, reqSpec{action: "Empty"}))
			if w.Code != tc.wantStatus {
				t.Errorf("status = %d, want %d", w.Code, tc.wantStatus)
			}
			if h := w.Header().Get("x-ratelimit-user-api"); h != tc.wantHeader {
				t.Errorf("x-ratelimit-user-api = %q, want %q", h, tc.wantHeader)
			}
			if len(lim.keys) != 1 || lim.keys[0] != "1001/7/Empty" {
				t.Errorf("limiter keys = %v, want [1001/7/Empty] (<account>/<principal>/<action>)", lim.keys)
			}
			if tc.wantStatus != 200 {
				if m := decodeJSON(t, w); m["Code"] != "Throttling.User" {
					t.Errorf("Code = %v, want Throttling.User", m["Code"])
				}
			}
		})
	}
	t.Run("fail/not-consulted-before-auth", func(t *testing.T) {
		lim := &fakeLimiter{d: Decision{Allowed: false}}
		ts := newTestServer(t, func(c *Config) { c.Limiter = lim })
		w := ts.do(v3Request(t, reqSpec{secret: "bad"}))
		if m := decodeJSON(t, w); m["Code"] != CodeIncompleteSignature || len(lim.keys) != 0 {
			t.Errorf("Code = %v, limiter keys = %v; want IncompleteSignature and no limiter call", m["Code"], lim.keys)
		}
	})
}

// TestHandlerActionErrors runs the pca.Error mapping through the handler.
func TestHandlerActionErrors(t *testing.T) {
	tests := []struct {
		name       string
		action     string
		fail       string
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"invalid-with-param", "Fail", "invalid", 400, "InvalidParameter.Status", "The specified parameter Status value X is not valid."},
		{"invalid-no-param", "Fail", "invalid-np", 400, "InvalidParameter", "bad"},
		{"missing", "Fail", "missing", 400, "MissingParameter", `"Identifier"`},
		{"not-found", "Fail", "notfound", 404, "NotFound.Certificate", `The Certificate "abc" given in Identifier does not exist.`},
		{"not-found-wrapped", "Fail", "wrapped", 404, "NotFound.Certificate", "does not exist"},
		{"not-found-default-message", "Fail", "nomsg", 404, "NotFound", "does not exist"},
		{"state", "Fail", "state", 400, "OperationDenied.CertificateRevoked", "The certificate is revoked."},
		{"exists", "Fail", "exists", 409, "AlreadyExists.Alias", "taken"},
		{"quota", "Fail", "quota", 400, "QuotaExceeded.Instance", "full"},
		{"permission", "Fail", "permission", 403, "Forbidden.RAM", "not authorized"},
		{"throttled", "Fail", "throttled", 400, "Throttling.User", "slow down"},
		{"unavailable", "Fail", "unavailable", 503, "ServiceUnavailable", "Try later."},
		{"internal-kind-hidden", "Fail", "internal", 500, "InternalError", msgInternal},
		{"plain-error-hidden", "Boom", "", 500, "InternalError", msgInternal},
		{"panic-hidden", "Panic", "", 500, "InternalError", msgInternal},
		{"non-object-result", "Array", "", 500, "InternalError", msgInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, nil)
			w := ts.do(v3Request(t, reqSpec{action: tc.action, query: url.Values{"Case": {tc.fail}}}))
			m := decodeJSON(t, w)
			if w.Code != tc.wantStatus || m["Code"] != tc.wantCode {
				t.Errorf("got %d %v, want %d %s", w.Code, m["Code"], tc.wantStatus, tc.wantCode)
			}
			if msg, _ := m["Message"].(string); !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("Message = %q, want it to contain %q", msg, tc.wantMsg)
			}
			if strings.Contains(w.Body.String(), "hunter2") || strings.Contains(w.Body.String(), "redis") {
				t.Errorf("body leaks the internal error: %s", w.Body)
			}
			if tc.wantStatus >= 500 && tc.fail != "unavailable" && !strings.Contains(ts.logs.String(), `"level":"ERROR"`) {
				t.Errorf("5xx not logged at Error level: %s", ts.logs)
			}
		})
	}
}

func TestHandlerLogging(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.do(v3Request(t, reqSpec{action: "Echo", query: url.Values{"Zeta": {"param-value-xyz"}}}))
	ts.do(v1Request(t, reqSpec{action: "Echo", secret: "bad", query: url.Values{"Zeta": {"param-value-xyz"}}}))
	ts.do(v3Request(t, reqSpec{action: "Boom"}))
	lines := strings.Split(strings.TrimSpace(ts.logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d log records, want one per request:\n%s", len(lines), ts.logs)
	}
	type rec struct {
		Level, RequestID, Action, AccessKeyID, Code, Error string
		Status                                             int
	}
	var got []rec
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		s := func(k string) string { v, _ := m[k].(string); return v }
		st, _ := m["status"].(float64)
		got = append(got, rec{s("level"), s("request_id"), s("action"), s("access_key_id"), s("code"), s("error"), int(st)})
	}
	want := []rec{
		{"INFO", "REQ-1", "Echo", testKeyID, "", "", 200},
		{"INFO", "REQ-2", "Echo", testKeyID, "SignatureDoesNotMatch", "", 400},
		{"ERROR", "REQ-3", "Boom", testKeyID, "InternalError", "store: insert: db password=hunter2 exploded", 500},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, leak := range []string{testSecret, "param-value-xyz", "Signature="} {
		if strings.Contains(ts.logs.String(), leak) {
			t.Errorf("log leaks %q:\n%s", leak, ts.logs)
		}
	}
}

func TestRecommendURL(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.RecommendURL = "https://pcad.example/troubleshoot"
		c.HostID = "cas.example"
	})
	m := decodeJSON(t, ts.do(v3Request(t, reqSpec{action: "Nope"})))
	want := "https://pcad.example/troubleshoot?q=InvalidAction.NotFound&requestId=REQ-1"
	if m["Recommend"] != want || m["HostId"] != "cas.example" {
		t.Errorf("Recommend, HostId = %v, %v; want %s, cas.example", m["Recommend"], m["HostId"], want)
	}
}

func TestMapError(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantCode   string
		wantStatus int
		wantMsg    string
	}{
		{"pca-invalid-param", pca.Invalid("Days", "bad days"), "InvalidParameter.Days", 400, "bad days"},
		{"pca-missing", pca.Missing("Csr"), "MissingParameter", 400, `"Csr"`},
		{"pca-notfound-detail", pca.NotFound("Identifier", "CA", "x"), "NotFound.CA", 404, "does not exist"},
		{"pca-state", pca.StateError("CAStatus", "no"), "OperationDenied.CAStatus", 400, "no"},
		{"pca-exists-nodetail", &pca.Error{Kind: pca.KindExists, Msg: "dup"}, "AlreadyExists", 409, "dup"},
		{"pca-quota", &pca.Error{Kind: pca.KindQuota, Msg: "q"}, "QuotaExceeded", 400, "q"},
		{"pca-permission-detail-ignored", &pca.Error{Kind: pca.KindPermission, Detail: "X", Msg: "p"}, "Forbidden.RAM", 403, "p"},
		{"pca-throttled", &pca.Error{Kind: pca.KindThrottled}, "Throttling.User", 400, msgThrottled},
		{"pca-unavailable", &pca.Error{Kind: pca.KindUnavailable, Msg: "later"}, "ServiceUnavailable", 503, "later"},
		{"pca-internal-msg-hidden", &pca.Error{Kind: pca.KindInternal, Msg: "secret detail"}, "InternalError", 500, msgInternal},
		{"pca-unknown-kind", &pca.Error{Kind: pca.Kind(99), Msg: "?"}, "InternalError", 500, msgInternal},
		{"plain-error", errors.New("boom"), "InternalError", 500, msgInternal},
		{"protocol-error", protoErr(CodeSignatureNonceUsed, "used"), "SignatureNonceUsed", 400, "used"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, status, msg := MapError(tc.err)
			if code != tc.wantCode || status != tc.wantStatus || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("MapError = %s %d %q, want %s %d containing %q", code, status, msg, tc.wantCode, tc.wantStatus, tc.wantMsg)
			}
		})
	}
}

// TestErrorTableComplete checks every pca.Kind and protocol code has a
// 4xx/5xx status.
func TestErrorTableComplete(t *testing.T) {
	for k := pca.KindInternal; k <= pca.KindUnavailable; k++ {
		kc, ok := kindCodes[k]
		if !ok || kc.status < 400 || kc.status > 599 || kc.base == "" || kc.msg == "" {
			t.Errorf("kind %d: entry %+v (present %v)", k, kc, ok)
		}
	}
	for code, status := range protocolStatus {
		if status < 400 || status > 599 {
			t.Errorf("%s: status %d is not 4xx/5xx", code, status)
		}
	}
}
