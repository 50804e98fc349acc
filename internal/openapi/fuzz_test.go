package openapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzHandler sends arbitrary requests (query string, body, content type,
// Authorization and protocol headers) through the whole handler: it must
// answer every one with a well-formed envelope, never a 5xx, and never echo
// the secret.
//
//	go test ./internal/openapi -run '^$' -fuzz FuzzHandler -fuzztime 10m
func FuzzHandler(f *testing.F) {
	f.Add("Action=Echo&Version=2020-06-30", "", "", "", "")
	f.Add("Tags.1.Key=a&Tags.1.Value=b&Tags.2.Key=c", "Zeta=1&Names.1=x", "application/x-www-form-urlencoded", "", "Echo")
	f.Add("", "", "", "ACS3-HMAC-SHA256 Credential=ak-active,SignedHeaders=host;x-acs-action,Signature=00", "Echo")
	f.Add("Signature=x&AccessKeyId=ak-active&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=n&Action=Echo&Format=XML", "", "", "", "")
	f.Add("a=%zz", "b=%", "application/x-www-form-urlencoded; charset=utf-8", "ACS3-", "")
	f.Add("ApiPassthrough.Subject.CommonName=x&ApiPassthrough.Extensions.SubjectAlternativeNames.1.Value=y", "", "", "", "CreateCustomCertificate")
	ts := newTestServer(f, nil)
	f.Fuzz(func(t *testing.T, rawQuery, body, contentType, auth, action string) {
		r := httptest.NewRequest(http.MethodPost, "http://"+testHost+"/", strings.NewReader(body))
		r.URL.RawQuery = rawQuery
		if contentType != "" {
			r.Header.Set("Content-Type", contentType)
		}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if action != "" {
			r.Header.Set("x-acs-action", action)
			r.Header.Set("x-acs-version", testVersion)
			r.Header.Set("x-acs-date", testNow.Format("2006-01-02T15:04:05Z"))
			r.Header.Set("x-acs-signature-nonce", "n")
		}
		if strings.Contains(rawQuery+auth, "ak-broken") {
			return // the fake key store's deliberate outage answers 500
		}
		w := ts.do(r)
		if w.Code >= 500 {
			t.Fatalf("status %d for query %q body %q: %s", w.Code, rawQuery, body, w.Body)
		}
		out := w.Body.String()
		if strings.Contains(out, testSecret) {
			t.Fatalf("the answer contains the secret: %s", out)
		}
		if w.Code == http.StatusOK {
			return // a request that happens to be signed right: Echo answered
		}
		if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			var env map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
				t.Fatalf("error answer is not JSON: %v: %s", err, out)
			}
			if env["RequestId"] == "" || env["Code"] == "" || env["Message"] == "" {
				t.Fatalf("error envelope misses RequestId, Code or Message: %s", out)
			}
		} else if !strings.Contains(out, "<RequestId>") || !strings.Contains(out, "<Code>") {
			t.Fatalf("error answer is neither a JSON nor an XML envelope: %s", out)
		}
	})
}

// FuzzSignatures signs requests with arbitrary parameters the way the
// official client does, in both modes: every one must pass the signature
// check, and the same request with one signature character changed must not.
//
//	go test ./internal/openapi -run '^$' -fuzz FuzzSignatures -fuzztime 10m
func FuzzSignatures(f *testing.F) {
	f.Add("Zeta", "a b", "Names.1", "x/y*~", "Alpha=1&Zeta=2", false)
	f.Add("ApiPassthrough.Subject.CommonName", "ü€", "Tags.1.Key", "", "", true)
	f.Add("", "", "k", "%2F", "z=%20", true)
	ts := newTestServer(f, nil)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, form string, useV1 bool) {
		q := url.Values{}
		for _, kv := range [][2]string{{k1, v1}, {k2, v2}} {
			if kv[0] != "" && !protocolParam(kv[0]) {
				q.Add(kv[0], kv[1])
			}
		}
		fv, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		for k := range fv {
			if protocolParam(k) {
				delete(fv, k)
			}
		}
		spec := reqSpec{query: q, body: fv.Encode()}
		build := v3Request
		if useV1 {
			build = v1Request
		}
		w := ts.do(build(t, spec))
		if code := errCode(w); code == CodeIncompleteSignature || code == CodeSignatureDoesNotMatch {
			t.Fatalf("a correctly signed request was refused: %s (query %q, form %q)", w.Body, q.Encode(), fv.Encode())
		}
		spec.after = func(r *http.Request) { tamperSignature(r, useV1) }
		w = ts.do(build(t, spec))
		if code := errCode(w); code != CodeIncompleteSignature && code != CodeSignatureDoesNotMatch {
			t.Fatalf("a request with a changed signature got %d %s", w.Code, w.Body)
		}
	})
}

// protocolParam reports names the signing helpers set themselves.
func protocolParam(k string) bool {
	switch k {
	case "Action", "Version", "Format", "Timestamp", "SignatureNonce", "SignatureMethod", "SignatureVersion",
		"AccessKeyId", "Signature", "SecurityToken":
		return true
	}
	return false
}

// errCode returns the Code of an error answer, "" for a success.
func errCode(w *httptest.ResponseRecorder) string {
	var env struct{ Code string }
	json.Unmarshal(w.Body.Bytes(), &env)
	return env.Code
}

// tamperSignature changes one character of the request's signature.
func tamperSignature(r *http.Request, v1 bool) {
	flip := func(s string) string {
		if s == "" {
			return "x"
		}
		b := []byte(s)
		if b[0] == 'a' {
			b[0] = 'b'
		} else {
			b[0] = 'a'
		}
		return string(b)
	}
	if v1 {
		q := r.URL.Query()
		q.Set("Signature", flip(q.Get("Signature")))
		r.URL.RawQuery = q.Encode()
		return
	}
	auth := r.Header.Get("Authorization")
	i := strings.LastIndex(auth, "Signature=")
	r.Header.Set("Authorization", auth[:i+len("Signature=")]+flip(auth[i+len("Signature="):]))
}

// FuzzParams decodes arbitrary query strings into Params and reads them as
// flattened lists and objects (Tags.N.Key, ApiPassthrough...): never a
// panic, every element read back is a parameter that was sent, and a list
// stops at its first gap.
//
//	go test ./internal/openapi -run '^$' -fuzz FuzzParams -fuzztime 10m
func FuzzParams(f *testing.F) {
	f.Add("Tags.1.Key=a&Tags.1.Value=b&Tags.2.Key=c&Tags.3.Value=d", "Tags")
	f.Add("Names.1=x&Names.2=y&Names.4=z", "Names")
	f.Add("A.1.B.C=1&A.1.=2&A.1=3", "A")
	f.Fuzz(func(t *testing.T, rawQuery, name string) {
		v, err := url.ParseQuery(rawQuery)
		if err != nil {
			return
		}
		p := NewParams(v)
		for i, item := range p.List(name) {
			key := name + "." + strconv.Itoa(i+1)
			if got, ok := p.Get(key); !ok || got != item {
				t.Fatalf("List(%q)[%d] = %q, but %s = %q (%v)", name, i, item, key, got, ok)
			}
		}
		for i, obj := range p.Objects(name) {
			if len(obj) == 0 {
				t.Fatalf("Objects(%q)[%d] is empty", name, i)
			}
			for field, val := range obj {
				key := name + "." + strconv.Itoa(i+1) + "." + field
				if got, ok := p.Get(key); !ok || got != val {
					t.Fatalf("Objects(%q)[%d][%q] = %q, but %s = %q (%v)", name, i, field, val, key, got, ok)
				}
			}
		}
	})
}
