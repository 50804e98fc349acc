package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/pcad-dev/pcad/internal/metrics"
)

// serveHardened serves ts's handler through the http.Server of `pcad serve`
// (newHTTPServer: the limits and timeouts of cfg) on a new port, over TLS
// when tlsCfg is set, and returns its host:port.
func serveHardened(t *testing.T, ts *testServer, cfg config, tlsCfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(cfg, ts.app.handler, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.TLSConfig = tlsCfg
	go func() {
		if tlsCfg != nil {
			srv.ServeTLS(ln, "", "")
			return
		}
		srv.Serve(ln)
	}()
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// hardClient is the official client of ts's account pointed at endpoint;
// with caPEM set it speaks HTTPS trusting only that certificate.
func hardClient(t *testing.T, ts *testServer, endpoint, caPEM string) *openapiclient.Client {
	t.Helper()
	cfg := &openapiclient.Config{AccessKeyId: tea.String(ts.keyID), AccessKeySecret: tea.String(ts.secret),
		Endpoint: tea.String(endpoint), Protocol: tea.String("HTTP")}
	if caPEM != "" {
		cfg.Protocol, cfg.Ca = tea.String("HTTPS"), tea.String(caPEM)
	}
	c, err := openapiclient.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkSecurityHeaders fails unless h has the headers every answer carries.
func checkSecurityHeaders(t *testing.T, what string, h http.Header, overTLS bool) {
	t.Helper()
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"} {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	if hsts := h.Get("Strict-Transport-Security"); (hsts != "") != overTLS {
		t.Errorf("%s: Strict-Transport-Security = %q over TLS=%v", what, hsts, overTLS)
	}
}

// TestHardenHeaders checks the security headers on every kind of answer:
// API success and error, PKI endpoints, health, metrics and the console
// (whose own Content-Security-Policy stays).
func TestHardenHeaders(t *testing.T) {
	ts := startServer(t, 0)
	c := ts.client(t, "v3")
	root := createRoot(t, c, "ECC_256", nil)

	res, err := callFull(t, c, "ListCert", nil, nil)
	if err != nil || res.Status != 200 {
		t.Fatalf("ListCert: %d %v", res.Status, err)
	}
	h := http.Header{}
	for k, v := range res.Headers {
		h.Set(k, v)
	}
	checkSecurityHeaders(t, "API success", h, false)
	if cc := h.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("API success: Cache-Control %q, want no-store", cc)
	}

	base := "http://" + ts.endpoint
	for _, tc := range []struct {
		path, cache, csp string
		status           int
	}{
		{"/?Action=ListCert", "no-store", "", 400}, // unsigned: an error envelope
		{"/healthz", "no-store", "", 200},
		{"/readyz", "no-store", "", 200},
		{"/metrics", "no-store", "", 200},
		{"/pki/ca/" + root.ID + ".crt", "public, max-age=3600", "", 200},
		{"/pki/ca/nosuch.crt", "no-store", "", 404},
		{"/console/", "", "default-src", 200},
		{"/nowhere", "no-store", "", 404},
	} {
		resp, err := http.Get(base + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: status %d, want %d", tc.path, resp.StatusCode, tc.status)
		}
		checkSecurityHeaders(t, tc.path, resp.Header, false)
		if tc.cache != "" && resp.Header.Get("Cache-Control") != tc.cache {
			t.Errorf("%s: Cache-Control %q, want %q", tc.path, resp.Header.Get("Cache-Control"), tc.cache)
		}
		if tc.csp != "" && !strings.Contains(resp.Header.Get("Content-Security-Policy"), tc.csp) {
			t.Errorf("%s: Content-Security-Policy %q lost", tc.path, resp.Header.Get("Content-Security-Policy"))
		}
	}
}

// TestHeaderLimits: an RSA 4096 CSR in the query string (as the official
// client sends it) is served; a 100 KB URL is refused with 431 and the
// server goes on serving.
func TestHeaderLimits(t *testing.T) {
	ts := startServer(t, 0)
	endpoint := serveHardened(t, ts, config{}, nil)
	c := hardClient(t, ts, endpoint, "")
	root := createRoot(t, c, "RSA_2048", nil) // CA and request keys must be of one family
	sub := createSub(t, c, root.ID, "RSA_2048", nil)
	// An RSA 4096 request naming 100 hosts: about 12 KB once percent-encoded.
	tmpl := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "long-url.example.com"}}
	for i := range 100 {
		tmpl.DNSNames = append(tmpl.DNSNames, fmt.Sprintf("host-%03d.a-rather-long-subdomain.example.com", i))
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, csrRSA(t, 4096))
	if err != nil {
		t.Fatal(err)
	}
	csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	if n := len(url.QueryEscape(csr)); n < 8000 {
		t.Fatalf("encoded CSR is only %d bytes: not a long URL", n)
	}
	b := mustCall(t, c, "CreateServerCertificateWithCsr", map[string]string{
		"ParentIdentifier": sub.ID, "Csr": csr, "Domain": "long-url.example.com", "Days": "1"})
	if jStr(t, b, "Identifier") == "" {
		t.Fatalf("no Identifier: %v", b)
	}

	resp, err := http.Get("http://" + endpoint + "/?Action=ListCert&Pad=" + strings.Repeat("A", 100<<10))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("100 KB URL: status %d, want 431", resp.StatusCode)
	}
	mustCall(t, c, "ListCert", nil)
}

// TestSlowClients (slowloris): connections that trickle their headers are
// closed by the header timeout, and meanwhile signed calls are served
// promptly.
func TestSlowClients(t *testing.T) {
	ts := startServer(t, 0)
	const headerTimeout = time.Second
	endpoint := serveHardened(t, ts, config{timeouts: serverTimeouts{readHeader: headerTimeout}}, nil)
	c := hardClient(t, ts, endpoint, "")

	const slow = 40
	closedAfter := make([]time.Duration, slow)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range slow {
		conn, err := net.Dial("tcp", endpoint)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		wg.Add(2)
		go func() { // the trickle: one byte every 100 ms
			defer wg.Done()
			if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
				return
			}
			tick := time.NewTicker(100 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte("a")); err != nil {
						return
					}
				}
			}
		}()
		go func() { // notes when the server closes the connection
			defer wg.Done()
			defer conn.Close()
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			io.Copy(io.Discard, conn)
			closedAfter[i] = time.Since(start)
		}()
	}
	for i := range 5 {
		start := time.Now()
		mustCall(t, c, "ListCert", nil)
		if took := time.Since(start); took > time.Second {
			t.Errorf("call %d while %d clients trickle took %v", i, slow, took)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * headerTimeout)
	close(stop)
	wg.Wait()
	for i, d := range closedAfter {
		if d > 3*headerTimeout {
			t.Errorf("slow connection %d closed after %v, want about %v", i, d, headerTimeout)
			break
		}
	}
}

// TestPanicAnywhere: a panic in a handler outside the RPC endpoint answers
// the InternalError envelope with a RequestId and the security headers, its
// stack is logged, and the next request is served.
func TestPanicAnywhere(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("boom in a handler") })
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") })
	srv := httptest.NewServer(wrapHandler(metrics.New(metrics.Options{Version: "test"}), config{}, logger, mux))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 500 || body["Code"] != "InternalError" {
		t.Fatalf("panic: %d %v %v", resp.StatusCode, body, err)
	}
	id, _ := body["RequestId"].(string)
	if id == "" || resp.Header.Get("x-acs-request-id") != id {
		t.Errorf("RequestId %q, header %q", id, resp.Header.Get("x-acs-request-id"))
	}
	checkSecurityHeaders(t, "panic answer", resp.Header, false)
	if !strings.Contains(logs.String(), id) || !strings.Contains(logs.String(), "TestPanicAnywhere") {
		t.Errorf("log lacks the RequestId or the stack:\n%s", logs.String())
	}
	resp, err = http.Get(srv.URL + "/ok")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("after the panic: %d", resp.StatusCode)
	}
}

// TestTLSFlags checks the TLS flags and their effect on --public-url.
func TestTLSFlags(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		wantErr string
		public  string
	}{
		{[]string{"--tls-cert", "c.pem"}, "go together", ""},
		{[]string{"--tls-key", "k.pem"}, "go together", ""},
		{[]string{"--tls-self", "--tls-cert", "c.pem", "--tls-key", "k.pem"}, "exclusive", ""},
		{[]string{"--tls-self", "--addr", "127.0.0.1:9443"}, "", "https://127.0.0.1:9443"},
		{[]string{"--tls-cert", "c.pem", "--tls-key", "k.pem", "--addr", "127.0.0.1:9443"}, "", "https://127.0.0.1:9443"},
		{[]string{"--addr", "127.0.0.1:9080"}, "", "http://127.0.0.1:9080"},
	} {
		c, err := parseServeFlags(tc.args, io.Discard)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: err %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil || c.PublicURL != tc.public {
			t.Errorf("%q: PublicURL %q err %v, want %q", tc.args, c.PublicURL, err, tc.public)
		}
	}
}

// TestTLSSelf: --tls-self makes a certificate once (key mode 0600), reuses
// it, and the official client, trusting it, calls over HTTPS (TLS 1.2 at
// least, with HSTS); --tls-cert/--tls-key serve a given pair.
func TestTLSSelf(t *testing.T) {
	ts := startServer(t, 0)
	cfg := config{TLSSelf: true, Addr: "127.0.0.1:0", Data: t.TempDir(), PublicURL: "https://pcad.example.test"}
	var out bytes.Buffer
	tlsCfg, err := serverTLS(cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	certPath := filepath.Join(cfg.Data, selfCertFile)
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(certPEM)
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(leaf.Raw)
	if !strings.Contains(out.String(), fingerprint(sum[:])) {
		t.Errorf("start message %q lacks the fingerprint", out.String())
	}
	for _, h := range []string{"127.0.0.1", "localhost", "pcad.example.test"} {
		if err := leaf.VerifyHostname(h); err != nil {
			t.Errorf("certificate does not cover %s: %v", h, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(cfg.Data, selfKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v, want mode 0600", fi, err)
	}
	out.Reset()
	if _, err := serverTLS(cfg, &out); err != nil || !strings.Contains(out.String(), fingerprint(sum[:])) {
		t.Errorf("second start did not reuse the certificate: %q %v", out.String(), err)
	}

	endpoint := serveHardened(t, ts, cfg, tlsCfg)
	c := hardClient(t, ts, endpoint, string(certPEM))
	res, err := callFull(t, c, "ListCert", nil, nil)
	if err != nil || res.Status != 200 {
		t.Fatalf("ListCert over HTTPS: %d %v", res.Status, describeErr(err))
	}
	h := http.Header{}
	for k, v := range res.Headers {
		h.Set(k, v)
	}
	checkSecurityHeaders(t, "HTTPS answer", h, true)

	old, err := tls.Dial("tcp", endpoint, &tls.Config{MaxVersion: tls.VersionTLS11, InsecureSkipVerify: true})
	if err == nil {
		old.Close()
		t.Error("a TLS 1.1 handshake succeeded")
	}

	// --tls-cert/--tls-key with the same files.
	given := config{TLSCert: certPath, TLSKey: filepath.Join(cfg.Data, selfKeyFile)}
	tlsGiven, err := serverTLS(given, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c = hardClient(t, ts, serveHardened(t, ts, given, tlsGiven), string(certPEM))
	mustCall(t, c, "ListCert", nil)
	if _, err := serverTLS(config{TLSCert: certPath, TLSKey: certPath}, io.Discard); err == nil {
		t.Error("a certificate file given as the key was accepted")
	}
}

// TestShutdownGraceful: SIGTERM while calls are in flight lets them finish
// with success, refuses new connections, exits 0 saying "pcad stopped",
// and leaves a store whose audit chain verifies.
func TestShutdownGraceful(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := repBuild(t, dir)
	master := make([]byte, 32)
	rand.Read(master)
	env := repEnv(hex.EncodeToString(master))
	r := repStart(t, bin, "a", dir, nil, env)
	id, secret, err := loadCredentials(filepath.Join(r.data, "credentials.ini"), "default")
	if err != nil {
		t.Fatal(err)
	}

	// Three RSA 4096 roots: key generations queue one at a time per caller,
	// so the last answers seconds after the signal.
	hc := &http.Client{Timeout: 60 * time.Second}
	type answer struct {
		a   repAnswer
		err error
		at  time.Time
	}
	answers := make(chan answer, 3)
	for i := range 3 {
		go func() {
			p := url.Values{}
			for k, v := range rootParams("RSA_4096") {
				p.Set(k, v)
			}
			p.Set("CommonName", "shutdown root "+string(rune('A'+i)))
			a, err := repCall(context.Background(), hc, r.addr, "CreateRootCACertificate", p, id, secret)
			answers <- answer{a, err, time.Now()}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	signalled := time.Now()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var refusedAt time.Time
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		conn, err := net.DialTimeout("tcp", r.addr, time.Second)
		if err != nil {
			refusedAt = time.Now()
			break
		}
		conn.Close()
	}
	if refusedAt.IsZero() {
		t.Error("new connections still accepted 3 s after SIGTERM")
	}
	var last time.Time
	for range 3 {
		a := <-answers
		if a.err != nil || a.a.status != 200 || a.a.code != "" {
			t.Errorf("call in flight at SIGTERM: %d %s %v", a.a.status, a.a.code, a.err)
		}
		if a.at.After(last) {
			last = a.at
		}
	}
	if !last.After(signalled) {
		t.Fatal("every call finished before SIGTERM: nothing was in flight")
	}
	if !refusedAt.IsZero() && refusedAt.After(last) && last.Sub(signalled) > time.Second {
		t.Errorf("connections were refused only after the calls in flight ended (%v after the signal)", last.Sub(signalled))
	}
	t.Logf("last call answered %v after SIGTERM; new connections refused %v after it", last.Sub(signalled), refusedAt.Sub(signalled))

	select {
	case <-r.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("pcad still running 20 s after SIGTERM")
	}
	if r.waitErr != nil {
		t.Errorf("exit: %v", r.waitErr)
	}
	stdout, _ := os.ReadFile(r.stdout)
	if !strings.Contains(string(stdout), "pcad stopped") {
		t.Errorf("stdout lacks %q:\n%s", "pcad stopped", stdout)
	}
	if fi, err := os.Stat(filepath.Join(r.data, "pcad.db-wal")); err == nil && fi.Size() > 0 {
		t.Errorf("WAL of %d bytes left behind: the store was not closed cleanly", fi.Size())
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Error(err)
	}
	cmd := exec.Command(bin, "admin", "audit", "verify", "--data", r.data)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("admin audit verify: %v\n%s", err, out)
	}
}
