package main

// Benchmarks of the public PKI side: the OCSP responder through the real HTTP
// server (cached answers, per-request nonces) and in process, and building a
// CRL of a million entries from the SQLite store. They print figures; they
// assert none. Everything listens on 127.0.0.1 and every load stops when its
// b.N is done.
//
//	go test ./cmd/pcad/ -run '^$' -bench 'OCSPResponder' -benchtime 3s -count 1
//	go test ./cmd/pcad/ -run '^$' -bench 'CRLBuild1M' -benchtime 1x -count 1

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/service"
)

// benchServer is a whole pcad on 127.0.0.1 for benchmarks: newApp served by
// an http.Server configured as `pcad serve` configures it, with the PKI
// poller running.
type benchServer struct {
	app   *app
	base  string // http://127.0.0.1:port
	actor service.Actor
	conns atomic.Int64 // connections accepted
}

// startBenchServer starts pcad on a fresh data directory. Everything stops
// in b's cleanup.
func startBenchServer(b *testing.B) *benchServer {
	b.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := newApp(ctx, config{Data: filepath.Join(b.TempDir(), "data"), PublicURL: base}, logger)
	if err != nil {
		ln.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { a.store.Close() })
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	bs := &benchServer{app: a, base: base}
	srv.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			bs.conns.Add(1)
		}
	}
	served := make(chan struct{})
	go func() { srv.Serve(ln); close(served) }()
	b.Cleanup(func() { srv.Close(); <-served })
	pkiCtx, stopPKI := context.WithCancel(ctx)
	polled := make(chan struct{})
	go func() { a.svc.RunPKI(pkiCtx, pkiPollInterval); close(polled) }()
	b.Cleanup(func() { stopPKI(); <-polled })
	_, key, err := a.svc.CreateAccount(ctx, "pki-bench")
	if err != nil {
		b.Fatal(err)
	}
	bs.actor = service.Actor{AccountID: key.AccountID, PrincipalID: key.PrincipalID}
	return bs
}

func benchSubject(cn string) pca.Subject {
	return pca.Subject{CommonName: cn, Organization: "pcad", OrganizationUnit: "Bench", Locality: "Hangzhou", State: "Zhejiang", Country: "CN"}
}

// benchHierarchy creates a root and a sub-CA publishing a CRL, both of alg,
// through the service, and returns the sub-CA with its parsed certificate.
func benchHierarchy(b *testing.B, svc *service.Service, act service.Actor, alg pca.Algorithm) (pca.CA, *x509.Certificate) {
	b.Helper()
	ctx := context.Background()
	root, err := svc.CreateRootCA(ctx, act, service.RootCARequest{Subject: benchSubject("pcad Bench Root " + string(alg)), Years: 10, Algorithm: alg})
	if err != nil {
		b.Fatal(err)
	}
	sub, err := svc.CreateSubCA(ctx, act, service.SubCARequest{ParentIdentifier: root.Identifier,
		Subject: benchSubject("pcad Bench Sub " + string(alg)), Years: 5, Algorithm: alg,
		ExtendedKeyUsages: []string{"serverAuth", "clientAuth"}, EnableCRL: true, CRLDays: 7})
	if err != nil {
		b.Fatal(err)
	}
	cert, err := x509.ParseCertificate(sub.DER)
	if err != nil {
		b.Fatal(err)
	}
	return sub, cert
}

// ---------------------------------------------------------------- OCSP

// ocspQ is one OCSP question the benchmarks ask over and over.
type ocspQ struct {
	cert, issuer *x509.Certificate
	hash         crypto.Hash
	want         int    // ocsp.Good or ocsp.Revoked
	der          []byte // the request, without a nonce
	get          string // the GET URL of der
	reqList      asn1.RawValue
	cached       []byte // the (cached) response setup got for der
}

// withNonce is q's request with a nonce extension.
func (q *ocspQ) withNonce(nonce []byte) ([]byte, error) {
	return ocspRequestWithNonce(q.reqList, nonce)
}

// issueBench issues n server certificates under sub through the service and
// revokes every revokeEvery-th; it returns one question per certificate and
// CertID hash.
func issueBench(b *testing.B, bs *benchServer, sub pca.CA, subCert *x509.Certificate, alg pca.Algorithm, n, revokeEvery int) []*ocspQ {
	b.Helper()
	ctx := context.Background()
	svc := bs.app.svc
	var qs []*ocspQ
	for i := range n {
		c, err := svc.IssueCertificate(ctx, bs.actor, service.IssueRequest{ParentIdentifier: sub.Identifier, Type: pca.TypeServer,
			Algorithm: alg, Subject: pca.Subject{CommonName: fmt.Sprintf("h%d.bench.example", i)}, Validity: pki.Validity{Days: 30}})
		if err != nil {
			b.Fatalf("issue %d: %v", i, err)
		}
		cert, err := x509.ParseCertificate(c.DER)
		if err != nil {
			b.Fatal(err)
		}
		want := ocsp.Good
		if i%revokeEvery == revokeEvery-1 {
			if _, err := svc.RevokeCertificate(ctx, bs.actor, c.Identifier, pca.ReasonKeyCompromise); err != nil {
				b.Fatal(err)
			}
			want = ocsp.Revoked
		}
		for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
			der, err := ocsp.CreateRequest(cert, subCert, &ocsp.RequestOptions{Hash: h})
			if err != nil {
				b.Fatal(err)
			}
			var in struct {
				TBS struct{ RequestList []asn1.RawValue }
			}
			if _, err := asn1.Unmarshal(der, &in); err != nil || len(in.TBS.RequestList) != 1 {
				b.Fatalf("request: %v", err)
			}
			qs = append(qs, &ocspQ{cert: cert, issuer: subCert, hash: h, want: want, der: der,
				get: bs.base + "/pki/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString(der)), reqList: in.TBS.RequestList[0]})
		}
	}
	return qs
}

// ocspFixture is what the OCSP sub-benchmarks share.
type ocspFixture struct {
	bs        *benchServer
	client    *http.Client
	ecc, rsa  []*ocspQ
	issuedECC int
	issuedRSA int
}

const (
	ocspECCCerts = 1000 // x2 CertID hashes: 2000 distinct cached answers
	ocspRSACerts = 16   // RSA keys are slow to make; the nonce case needs few
	ocspConns    = 64
)

func newOCSPFixture(b *testing.B) *ocspFixture {
	b.Helper()
	start := time.Now()
	bs := startBenchServer(b)
	svc := bs.app.svc
	eccSub, eccCert := benchHierarchy(b, svc, bs.actor, pca.ECC256)
	rsaSub, rsaCert := benchHierarchy(b, svc, bs.actor, pca.RSA2048)
	f := &ocspFixture{bs: bs, issuedECC: ocspECCCerts, issuedRSA: ocspRSACerts}
	f.ecc = issueBench(b, bs, eccSub, eccCert, pca.ECC256, ocspECCCerts, 4)
	f.rsa = issueBench(b, bs, rsaSub, rsaCert, pca.RSA2048, ocspRSACerts, 4)
	tr := &http.Transport{MaxIdleConns: ocspConns, MaxIdleConnsPerHost: ocspConns, MaxConnsPerHost: ocspConns,
		IdleConnTimeout: time.Minute, DisableCompression: true}
	b.Cleanup(tr.CloseIdleConnections)
	f.client = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	// Bring the poller's view up to date so that no revocation sequence moves
	// under the cached answers during the run.
	if err := svc.Poll(context.Background()); err != nil {
		b.Fatal(err)
	}
	// Every question once by POST (fills the cache), checked in full; then by
	// GET, which must get the very same cached bytes.
	for _, q := range append(append([]*ocspQ{}, f.ecc...), f.rsa...) {
		body, err := f.post(q.der)
		if err != nil {
			b.Fatal(err)
		}
		if err := checkOCSP(body, q, nil); err != nil {
			b.Fatal(err)
		}
		q.cached = body
		if body, err = f.getURL(q.get); err != nil {
			b.Fatal(err)
		}
		if !bytes.Equal(body, q.cached) {
			b.Fatalf("GET for %x (%v) answered differently from POST: the cache did not serve it", q.cert.SerialNumber, q.hash)
		}
	}
	// One nonce question of each kind, checked in full, and in process.
	for _, q := range []*ocspQ{f.ecc[0], f.ecc[3], f.rsa[0], f.rsa[7]} {
		nonce := []byte("pcad-bench-nonce-0123456789")
		req, err := q.withNonce(nonce)
		if err != nil {
			b.Fatal(err)
		}
		body, err := f.post(req)
		if err != nil {
			b.Fatal(err)
		}
		if err := checkOCSP(body, q, nonce); err != nil {
			b.Fatal(err)
		}
		if body, err = svc.OCSP(context.Background(), req); err != nil {
			b.Fatal(err)
		}
		if err := checkOCSP(body, q, nonce); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("setup: %d ECC_256 and %d RSA_2048 certificates issued (1 in 4 revoked), %d cached answers checked, in %v",
		f.issuedECC, f.issuedRSA, len(f.ecc)+len(f.rsa), time.Since(start).Round(time.Millisecond))
	return f
}

// checkOCSP parses and verifies a response for q and checks its status and
// nonce echo (nonce nil: the response must carry none).
func checkOCSP(body []byte, q *ocspQ, nonce []byte) error {
	r, err := ocsp.ParseResponseForCert(body, q.cert, q.issuer)
	if err != nil {
		return fmt.Errorf("OCSP response for %x (%v): %w", q.cert.SerialNumber, q.hash, err)
	}
	if r.Status != q.want {
		return fmt.Errorf("OCSP status for %x (%v): %d, want %d", q.cert.SerialNumber, q.hash, r.Status, q.want)
	}
	got, err := ocspResponseNonce(body)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, nonce) {
		return fmt.Errorf("OCSP nonce for %x: %x, want %x", q.cert.SerialNumber, got, nonce)
	}
	return nil
}

func (f *ocspFixture) post(req []byte) ([]byte, error) {
	resp, err := f.client.Post(f.bs.base+"/pki/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	return readOCSP(resp, nil)
}

func (f *ocspFixture) getURL(u string) ([]byte, error) {
	resp, err := f.client.Get(u)
	if err != nil {
		return nil, err
	}
	return readOCSP(resp, nil)
}

// readOCSP reads an OCSP HTTP response into buf (reused when given).
func readOCSP(resp *http.Response, buf *bytes.Buffer) ([]byte, error) {
	defer resp.Body.Close()
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/ocsp-response" {
		return nil, fmt.Errorf("OCSP HTTP %d %q: %.200q", resp.StatusCode, resp.Header.Get("Content-Type"), buf.Bytes())
	}
	return buf.Bytes(), nil
}

// processCPU is the user+system CPU time this process has used (Linux,
// from /proc/self/stat in clock ticks of 10 ms; 0 elsewhere).
func processCPU() time.Duration {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// httpParallelism: client goroutines per GOMAXPROCS for the HTTP cases, so
// that the server always has requests waiting.
const httpParallelism = 16

// BenchmarkOCSPResponder measures the responder: answers served from the
// cache by POST and by GET through the real HTTP server, answers signed per
// request because each carries a fresh nonce (ECC P-256 and RSA 2048
// responder keys), and the same in process (svc.OCSP, no HTTP). resp/s is
// responses per second of wall time over all client goroutines.
func BenchmarkOCSPResponder(b *testing.B) {
	f := newOCSPFixture(b)
	svc := f.bs.app.svc
	ctx := context.Background()
	// resp/s is what this run got out of the machine, other load included.
	// cpu-us/resp is the CPU time one response cost this process (client and
	// server together: both run here); GOMAXPROCS*1e6/cpu-us/resp is the
	// rate the same code would reach with every core to itself.
	var cpu0 time.Duration
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "resp/s")
		if cpu := processCPU(); cpu > 0 && cpu0 > 0 {
			b.ReportMetric(float64((cpu-cpu0).Microseconds())/float64(b.N), "cpu-us/resp")
		}
	}
	var start atomic.Int64 // spreads the goroutines over the questions

	// cached runs the cached questions through do, which returns the body.
	cached := func(b *testing.B, par int, do func(q *ocspQ, buf *bytes.Buffer) ([]byte, error)) {
		var failures atomic.Int64
		var firstErr atomic.Value
		if par > 0 {
			b.SetParallelism(par)
		}
		b.ReportAllocs()
		cpu0 = processCPU()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(start.Add(7919))
			var buf bytes.Buffer
			for pb.Next() {
				q := f.ecc[i%len(f.ecc)]
				i++
				body, err := do(q, &buf)
				if err == nil && !bytes.Equal(body, q.cached) {
					err = fmt.Errorf("answer for %x (%v) differs from the cached one: re-signed", q.cert.SerialNumber, q.hash)
				}
				if err != nil {
					if failures.Add(1) == 1 {
						firstErr.Store(err)
					}
				}
			}
		})
		b.StopTimer()
		if n := failures.Load(); n > 0 {
			b.Fatalf("%d of %d requests failed; first: %v", n, b.N, firstErr.Load())
		}
		report(b)
	}
	// nonced runs fresh-nonce questions from qs through do.
	nonced := func(b *testing.B, par int, qs []*ocspQ, do func(req []byte, buf *bytes.Buffer) ([]byte, error)) {
		var failures atomic.Int64
		var firstErr atomic.Value
		if par > 0 {
			b.SetParallelism(par)
		}
		b.ReportAllocs()
		cpu0 = processCPU()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := int(start.Add(7919))
			var buf bytes.Buffer
			nonce := make([]byte, 16)
			for pb.Next() {
				q := qs[i%len(qs)]
				i++
				rand.Read(nonce)
				req, err := q.withNonce(nonce)
				var body []byte
				if err == nil {
					body, err = do(req, &buf)
				}
				// Cheap check in the loop: a signed response (not a 5-byte
				// error response) that carries this nonce.
				if err == nil && (len(body) < 100 || !bytes.Contains(body, nonce)) {
					err = fmt.Errorf("answer for %x without the nonce: %x", q.cert.SerialNumber, body)
				}
				if err != nil {
					if failures.Add(1) == 1 {
						firstErr.Store(err)
					}
				}
			}
		})
		b.StopTimer()
		if n := failures.Load(); n > 0 {
			b.Fatalf("%d of %d requests failed; first: %v", n, b.N, firstErr.Load())
		}
		report(b)
	}
	httpPost := func(req []byte, buf *bytes.Buffer) ([]byte, error) {
		r, err := http.NewRequest(http.MethodPost, f.bs.base+"/pki/ocsp", bytes.NewReader(req))
		if err != nil {
			return nil, err
		}
		r.Header.Set("Content-Type", "application/ocsp-request")
		resp, err := f.client.Do(r)
		if err != nil {
			return nil, err
		}
		return readOCSP(resp, buf)
	}
	inProcess := func(req []byte, _ *bytes.Buffer) ([]byte, error) { return svc.OCSP(ctx, req) }

	b.Run("cached-post", func(b *testing.B) {
		cached(b, httpParallelism, func(q *ocspQ, buf *bytes.Buffer) ([]byte, error) { return httpPost(q.der, buf) })
	})
	b.Run("cached-get", func(b *testing.B) {
		cached(b, httpParallelism, func(q *ocspQ, buf *bytes.Buffer) ([]byte, error) {
			resp, err := f.client.Get(q.get)
			if err != nil {
				return nil, err
			}
			return readOCSP(resp, buf)
		})
	})
	b.Run("nonce", func(b *testing.B) {
		b.Run("ECC_256", func(b *testing.B) { nonced(b, httpParallelism, f.ecc, httpPost) })
		b.Run("RSA_2048", func(b *testing.B) { nonced(b, httpParallelism, f.rsa, httpPost) })
	})
	b.Run("in-process", func(b *testing.B) {
		b.Run("cached", func(b *testing.B) {
			cached(b, 0, func(q *ocspQ, _ *bytes.Buffer) ([]byte, error) { return svc.OCSP(ctx, q.der) })
		})
		b.Run("nonce-ECC_256", func(b *testing.B) { nonced(b, 0, f.ecc, inProcess) })
		b.Run("nonce-RSA_2048", func(b *testing.B) { nonced(b, 0, f.rsa, inProcess) })
	})
	// Keep-alive check: a few dozen connections, not one per request.
	b.Logf("the server accepted %d connections in all", f.bs.conns.Load())
}

// ---------------------------------------------------------------- CRL

// crlBenchEntries is the number of revocations the CRL benchmark seeds.
const crlBenchEntries = 1_000_000

// crlSeedVersion changes whenever the seeded data changes, so that a cached
// directory seeded by an older generator is not reused.
const crlSeedVersion = "crl-seed-v1"

// crlSeedKey hashes every migration file of the SQLite store (read from the
// source tree, as this package cannot reach the embedded copy), the
// generator version and the size.
func crlSeedKey(n int) (string, error) {
	dir := filepath.Join("..", "..", "internal", "store", "sqlstore", "migrations", "sqlite")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("migrations: %w", err)
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("no migrations in %s", dir)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", name, len(data))
		h.Write(data)
	}
	fmt.Fprintf(h, "%s %d\n", crlSeedVersion, n)
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// seededCRLDir returns a data directory (store and master key) holding a
// root and a sub-CA made by the service, with n revocations under the
// sub-CA; it is cached under os.TempDir() and seeded only when absent.
func seededCRLDir(b *testing.B, n int) string {
	b.Helper()
	key, err := crlSeedKey(n)
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("pcad-crl-bench-%d-%s", n, key))
	if _, err := os.Stat(filepath.Join(dir, "pcad.db")); err == nil {
		b.Logf("reusing seeded data directory %s (delete it to re-seed)", dir)
		return dir
	}
	// Seed into a temporary directory and rename it only when complete, so an
	// interrupted run never leaves a half-seeded cache behind.
	tmp := fmt.Sprintf("%s.tmp-%d", dir, os.Getpid())
	os.RemoveAll(tmp)
	b.Logf("seeding %d revocations into %s (cached for later runs)", n, dir)
	start := time.Now()
	if err := seedCRLDir(context.Background(), tmp, n); err != nil {
		os.RemoveAll(tmp)
		b.Fatalf("seed: %v", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		b.Fatal(err)
	}
	b.Logf("seeded in %v", time.Since(start).Round(time.Millisecond))
	return dir
}

func seedCRLDir(ctx context.Context, dir string, n int) (err error) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := newApp(ctx, config{Data: dir, PublicURL: "http://127.0.0.1:1"}, logger)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := a.store.Close(); err == nil {
			err = cerr
		}
	}()
	svc := a.svc
	_, key, err := svc.CreateAccount(ctx, "crl-bench")
	if err != nil {
		return err
	}
	act := service.Actor{AccountID: key.AccountID, PrincipalID: key.PrincipalID}
	root, err := svc.CreateRootCA(ctx, act, service.RootCARequest{Subject: benchSubject("pcad CRL Bench Root"), Years: 10, Algorithm: pca.ECC256})
	if err != nil {
		return err
	}
	sub, err := svc.CreateSubCA(ctx, act, service.SubCARequest{ParentIdentifier: root.Identifier, Subject: benchSubject("pcad CRL Bench Sub"),
		Years: 5, Algorithm: pca.ECC256, ExtendedKeyUsages: []string{"serverAuth", "clientAuth"}, EnableCRL: true, CRLDays: 7})
	if err != nil {
		return err
	}
	db := a.store.DB()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	const rowsPerStmt = 500
	stmtFor := func(rows int) (*sql.Stmt, error) {
		var q strings.Builder
		q.WriteString("INSERT INTO revocations (ca_id, serial, account_id, revoked_at, reason, not_after) VALUES ")
		for i := range rows {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?,?,?,?,?,?)")
		}
		return tx.PrepareContext(ctx, q.String())
	}
	full, err := stmtFor(rowsPerStmt)
	if err != nil {
		return err
	}
	defer full.Close()
	// Deterministic: 128-bit serials as pki.NewSerial draws them, revocation
	// dates spread over the year before t0, reasons mixed (0 carries no
	// reasonCode extension), expiry far ahead so that every row is listed.
	rng := mrand.NewChaCha8([32]byte{'p', 'c', 'a', 'd', '-', 'c', 'r', 'l'})
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	reasons := []pca.RevocationReason{pca.ReasonUnspecified, pca.ReasonKeyCompromise, pca.ReasonSuperseded,
		pca.ReasonCessationOfOperation, pca.ReasonAffiliationChanged}
	args := make([]any, 0, 6*rowsPerStmt)
	var raw [16]byte
	for i := 0; i < n; {
		rows := min(rowsPerStmt, n-i)
		args = args[:0]
		for j := range rows {
			var serial *big.Int
			for serial == nil || serial.Sign() == 0 {
				rng.Read(raw[:])
				serial = new(big.Int).SetBytes(raw[:])
			}
			at := t0.Add(-time.Duration(uint64(i+j)*31_536_000/uint64(n)) * time.Second)
			args = append(args, sub.ID, serial.Text(16), act.AccountID, at.UnixMilli(), int(reasons[(i+j)%len(reasons)]), notAfter)
		}
		stmt := full
		if rows != rowsPerStmt {
			if stmt, err = stmtFor(rows); err != nil {
				return err
			}
			defer stmt.Close()
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("insert revocations %d..%d: %w", i, i+rows, err)
		}
		i += rows
	}
	if _, err := tx.ExecContext(ctx, "UPDATE cas SET revocation_seq = revocation_seq + ? WHERE id = ?", n, sub.ID); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// Build the first CRLs now, so that the benchmark measures a rebuild
	// (what a revocation triggers) rather than the first build.
	if err := svc.Poll(ctx); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// memSampler records, while it runs, the peaks of the Go heap in use, of
// the process's resident set, of the memory the Go runtime holds from the
// system (Sys less what it released: heap, free spans not yet returned,
// stacks) and of the rest of the resident set, which is mostly SQLite's
// (modernc's libc allocator: the blob a statement binds, the record it
// builds).
type memSampler struct {
	stop             chan struct{}
	done             chan struct{}
	peakHeap, peakRS atomic.Uint64
	peakGo           atomic.Uint64
	peakNonGo        atomic.Int64
}

func startMemSampler(every time.Duration) *memSampler {
	m := &memSampler{stop: make(chan struct{}), done: make(chan struct{})}
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > m.peakHeap.Load() {
			m.peakHeap.Store(ms.HeapInuse)
		}
		rss := residentBytes()
		if rss > m.peakRS.Load() {
			m.peakRS.Store(rss)
		}
		if g := ms.Sys - ms.HeapReleased; g > m.peakGo.Load() {
			m.peakGo.Store(g)
		}
		if n := int64(rss) - int64(ms.Sys-ms.HeapReleased); n > m.peakNonGo.Load() {
			m.peakNonGo.Store(n)
		}
	}
	sample()
	go func() {
		defer close(m.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				sample()
				return
			case <-t.C:
				sample()
			}
		}
	}()
	return m
}

func (m *memSampler) finish() { close(m.stop); <-m.done }

// residentBytes is the process's resident set (Linux; 0 elsewhere). It
// counts what the Go heap does not: SQLite's own allocations (modernc's libc
// allocator) and memory the runtime has not yet returned.
func residentBytes() uint64 {
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return 0
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// BenchmarkCRLBuild1M rebuilds the CRL of a sub-CA with a million
// revocations the way a new revocation makes the service do it: the CA's
// revocation sequence moves (here by SQL) and svc.Poll notices the stale CRL,
// reads the revocations from SQLite into pki.CRLEntries, makes the CRL with
// pki.CreateCRL, signs and stores it. It reports the CRL size, the peak Go heap in use and the peak resident
// set during the builds (both absolute, with the idle baseline before), the
// peaks of what the Go runtime and the rest (SQLite) hold of it, and the
// bytes allocated per build. With -benchtime Nx the CRL is rebuilt N times
// in one process, as a stream of revocations makes the service do.
func BenchmarkCRLBuild1M(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds and builds a million-entry CRL")
	}
	ctx := context.Background()
	dir := seededCRLDir(b, crlBenchEntries)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := newApp(ctx, config{Data: dir, PublicURL: "http://127.0.0.1:1"}, logger)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { a.store.Close() })
	db := a.store.DB()
	var subID int64
	var subIdent string
	if err := db.QueryRowContext(ctx, "SELECT id, identifier FROM cas WHERE ca_type = ? ORDER BY id LIMIT 1", string(pca.CASub)).Scan(&subID, &subIdent); err != nil {
		b.Fatalf("seeded sub-CA (delete %s to re-seed): %v", dir, err)
	}
	subDER, err := a.svc.CACertificate(ctx, subIdent)
	if err != nil {
		b.Fatal(err)
	}
	subCert, err := x509.ParseCertificate(subDER)
	if err != nil {
		b.Fatal(err)
	}
	// A first Poll loads the CA index and rebuilds anything stale (a CRL near
	// its NextUpdate after the cache has aged) outside the measurement.
	if err := a.svc.Poll(ctx); err != nil {
		b.Fatal(err)
	}
	number := func() int64 {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT number FROM crls WHERE ca_id = ?", subID).Scan(&n); err != nil {
			b.Fatal(err)
		}
		return n
	}
	before := number()

	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	baseRSS := residentBytes()
	m := startMemSampler(2 * time.Millisecond)
	for b.Loop() {
		if _, err := db.ExecContext(ctx, "UPDATE cas SET revocation_seq = revocation_seq + 1 WHERE id = ?", subID); err != nil {
			b.Fatal(err)
		}
		if err := a.svc.Poll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	m.finish()
	runtime.ReadMemStats(&ms1)

	if got := number() - before; got != int64(b.N) {
		b.Fatalf("%d CRLs built in %d polls", got, b.N)
	}
	der, err := a.svc.CRL(ctx, subIdent)
	if err != nil {
		b.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		b.Fatalf("CRL does not parse: %v", err)
	}
	if err := crl.CheckSignatureFrom(subCert); err != nil {
		b.Fatalf("CRL signature: %v", err)
	}
	if n := len(crl.RevokedCertificateEntries); n != crlBenchEntries {
		b.Fatalf("CRL has %d entries, want %d", n, crlBenchEntries)
	}
	if time.Until(crl.NextUpdate) <= 0 {
		b.Fatalf("CRL NextUpdate %v has passed", crl.NextUpdate)
	}
	b.ReportMetric(float64(len(der))/1e6, "crl-MB")
	b.ReportMetric(float64(ms0.HeapInuse)/1e6, "base-heap-MB")
	b.ReportMetric(float64(m.peakHeap.Load())/1e6, "peak-heap-MB")
	b.ReportMetric(float64(baseRSS)/1e6, "base-rss-MB")
	b.ReportMetric(float64(m.peakRS.Load())/1e6, "peak-rss-MB")
	b.ReportMetric(float64(m.peakGo.Load())/1e6, "peak-go-MB")
	b.ReportMetric(float64(m.peakNonGo.Load())/1e6, "peak-nongo-MB")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/float64(b.N)/1e6, "alloc-MB/op")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(b.N), "allocs/op")
}
