package pkixhttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/pcad-dev/pcad/internal/pca"
)

// fakeSource answers for CA "ca1" only and echoes OCSP requests reversed.
type fakeSource struct{ lastOCSP []byte }

func (f *fakeSource) CACertificate(_ context.Context, id string) ([]byte, error) {
	if id != "ca1" {
		return nil, pca.NotFound("Identifier", "CA", id)
	}
	return []byte{0x30, 0x01, 0xca}, nil
}

func (f *fakeSource) CRL(_ context.Context, id string) ([]byte, error) {
	if id != "ca1" {
		return nil, pca.NotFound("Identifier", "CA", id)
	}
	return []byte{0x30, 0x01, 0xc1}, nil
}

func (f *fakeSource) OCSP(_ context.Context, req []byte) ([]byte, error) {
	f.lastOCSP = append([]byte(nil), req...)
	return []byte("resp:" + string(req)), nil
}

func TestEndpoints(t *testing.T) {
	src := &fakeSource{}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "next", http.StatusTeapot) })
	srv := httptest.NewServer(Handler(src, slog.New(slog.NewTextHandler(io.Discard, nil)), next))
	defer srv.Close()

	ocspReq := []byte{0xfb, 0xff, 0xfe, 0x01} // base64 "+//+AQ==": '+' and '/' in the path
	b64 := base64.StdEncoding.EncodeToString(ocspReq)
	tests := []struct {
		name, method, path, body string
		status                   int
		ctype                    string
		want                     []byte
	}{
		{"ok/ca der", "GET", "/pki/ca/ca1.crt", "", 200, "application/pkix-cert", []byte{0x30, 0x01, 0xca}},
		{"ok/ca pem", "GET", "/pki/ca/ca1.pem", "", 200, "application/x-pem-file", []byte("-----BEGIN CERTIFICATE-----\nMAHK\n-----END CERTIFICATE-----\n")},
		{"ok/crl", "GET", "/pki/crl/ca1.crl", "", 200, "application/pkix-crl", []byte{0x30, 0x01, 0xc1}},
		{"ok/ocsp post", "POST", "/pki/ocsp", "\x01\x02", 200, "application/ocsp-response", []byte("resp:\x01\x02")},
		{"ok/ocsp get raw slashes", "GET", "/pki/ocsp/" + b64, "", 200, "application/ocsp-response", append([]byte("resp:"), ocspReq...)},
		{"ok/ocsp get escaped", "GET", "/pki/ocsp/" + url.PathEscape(b64), "", 200, "application/ocsp-response", append([]byte("resp:"), ocspReq...)},
		{"fail/unknown ca", "GET", "/pki/ca/nope.crt", "", 404, "", nil},
		{"fail/unknown crl", "GET", "/pki/crl/nope.crl", "", 404, "", nil},
		{"fail/bad extension", "GET", "/pki/crl/ca1.txt", "", 404, "", nil},
		{"fail/ocsp not base64", "GET", "/pki/ocsp/!!!", "", 400, "", nil},
		{"fail/ocsp too large", "POST", "/pki/ocsp", strings.Repeat("x", maxOCSPRequest+1), 413, "", nil},
		{"fail/crl post is not ours", "POST", "/pki/crl/ca1.crl", "", http.StatusTeapot, "", nil},
		{"ok/other paths go to next", "GET", "/healthz", "", http.StatusTeapot, "", []byte("next\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.status, got)
			}
			if tc.ctype != "" && resp.Header.Get("Content-Type") != tc.ctype {
				t.Fatalf("content type %q, want %q", resp.Header.Get("Content-Type"), tc.ctype)
			}
			if tc.want != nil && !bytes.Equal(got, tc.want) {
				t.Fatalf("body %q, want %q", got, tc.want)
			}
		})
	}
}
