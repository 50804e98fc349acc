package main

// Two `pcad serve` processes on one PostgreSQL store and one Redis (issue 5):
// what one replica issues the other lists, describes and revokes; both serve
// the same CRL and the same OCSP answers; a signature nonce used on one is
// refused by the other; one user's request rate holds across both together;
// the background lease sits on exactly one replica and moves when that one
// dies; killing a replica mid-burst loses no acknowledged certificate.
//
// The replicas are real processes of a freshly built binary. The test runs
// only when PCAD_TEST_POSTGRES and PCAD_TEST_REDIS are set.

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/ocsp"

	"github.com/pcad-dev/pcad/internal/casapi"
	"github.com/pcad-dev/pcad/internal/store/sqlstore/pgtest"
)

// replicaRedisDB is the Redis database the replica processes use. They use
// the default key prefixes, so they get a database of their own (flushed at
// the start and end of the test) instead of sharing the one other tests
// separate by prefix.
const replicaRedisDB = 12

// replicaQPS is the --qps-per-user of both replicas; its burst is
// ceil(replicaQPS) (internal/ratelimit).
const replicaQPS = 10

// replicaTestMu runs one TestTwoReplicas at a time in this process (for
// -count=N): the instances would share replicaRedisDB, which each one
// flushes at its start.
var replicaTestMu sync.Mutex

// replica is one `pcad serve` process.
type replica struct {
	name     string
	addr     string // host:port
	data     string
	stdout   string // log file paths
	stderr   string
	cmd      *exec.Cmd
	exited   chan struct{} // closed once the process has exited
	waitErr  error         // set before exited is closed
	ts       *testServer   // keyID, secret, endpoint: enough for the client helpers
	logFiles []*os.File
}

// repFreeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func repFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// repBuild builds this package's binary into dir.
func repBuild(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "pcad")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = "."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// repEnv is the test's environment without PCAD_* settings (flags are
// given explicitly) plus the shared master key.
func repEnv(masterKey string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PCAD_") {
			env = append(env, kv)
		}
	}
	return append(env, "PCAD_MASTER_KEY="+masterKey)
}

// repStart starts `pcad serve` and waits until /readyz answers 200.
func repStart(t *testing.T, bin, name, dir string, args, env []string) *replica {
	t.Helper()
	r := &replica{name: name, addr: repFreeAddr(t), data: filepath.Join(dir, name, "data"),
		stdout: filepath.Join(dir, name, "stdout.log"), stderr: filepath.Join(dir, name, "stderr.log"),
		exited: make(chan struct{})}
	if err := os.MkdirAll(filepath.Join(dir, name), 0o700); err != nil {
		t.Fatal(err)
	}
	outF, err := os.Create(r.stdout)
	if err != nil {
		t.Fatal(err)
	}
	errF, err := os.Create(r.stderr)
	if err != nil {
		t.Fatal(err)
	}
	r.logFiles = []*os.File{outF, errF}
	r.cmd = exec.Command(bin, append([]string{"serve", "--addr", r.addr, "--data", r.data}, args...)...)
	r.cmd.Env = env
	r.cmd.Stdout, r.cmd.Stderr = outF, errF
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start replica %s: %v", name, err)
	}
	go func() {
		r.waitErr = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		r.kill()
		if t.Failed() {
			r.dumpLogs(t)
		}
		for _, f := range r.logFiles {
			f.Close()
		}
	})
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-r.exited:
			t.Fatalf("replica %s exited before it was ready: %v", name, r.waitErr)
		default:
		}
		if resp, err := hc.Get("http://" + r.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return r
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s not ready after 30 s", name)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill sends SIGKILL (if the process still runs) and waits, at most 10 s,
// for it to exit.
func (r *replica) kill() {
	select {
	case <-r.exited:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
	}
}

// dumpLogs logs the tail of the replica's output.
func (r *replica) dumpLogs(t *testing.T) {
	t.Helper()
	for _, p := range []string{r.stdout, r.stderr} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Logf("replica %s: %v", r.name, err)
			continue
		}
		// Successful calls are logged one line each; keep the rest.
		var kept []byte
		for line := range bytes.Lines(b) {
			if !bytes.Contains(line, []byte(`"msg":"openapi request"`)) || !bytes.Contains(line, []byte(`"status":200`)) {
				kept = append(kept, line...)
			}
		}
		b = kept
		const max = 6 << 10
		if len(b) > max {
			b = b[len(b)-max:]
			if i := bytes.IndexByte(b, '\n'); i >= 0 {
				b = b[i+1:]
			}
		}
		t.Logf("replica %s, tail of %s:\n%s", r.name, filepath.Base(p), b)
	}
}

// leaderGauge reads pcad_background_leader from the replica's /metrics.
func (r *replica) leaderGauge() (float64, error) {
	hc := &http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get("http://" + r.addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "pcad_background_leader "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no pcad_background_leader in /metrics")
}

// waitLeader waits, at most within, until r reports the background lease;
// it returns how long that took.
func (r *replica) waitLeader(t *testing.T, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		v, err := r.leaderGauge()
		if err == nil && v == 1 {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("replica %s does not hold the background lease after %v (gauge %v, err %v)", r.name, within, v, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// repRedis returns PCAD_TEST_REDIS rewritten to replicaRedisDB and an
// open client of that database.
func repRedis(t *testing.T, raw string) (string, *redis.Client) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		t.Fatal("PCAD_TEST_REDIS must be a redis:// URL")
	}
	u.Path = "/" + strconv.Itoa(replicaRedisDB)
	opts, err := redis.ParseURL(u.String())
	if err != nil {
		t.Fatal("PCAD_TEST_REDIS does not parse as a Redis URL")
	}
	rc := redis.NewClient(opts)
	t.Cleanup(func() { rc.Close() })
	return u.String(), rc
}

// repAnswer is one API answer read without the official client (for
// goroutines, which must not call t.Fatal).
type repAnswer struct {
	status int
	code   string // error Code; "" on success
	body   map[string]any
}

// repCall signs action with ACS3-HMAC-SHA256 for endpoint and sends it.
// An error means no answer arrived (the transport failed).
func repCall(ctx context.Context, hc *http.Client, endpoint, action string, params url.Values, id, secret string) (repAnswer, error) {
	req, err := signedRequest(ctx, &url.URL{Scheme: "http", Host: endpoint}, action, casapi.Version, params, id, secret, time.Now())
	if err != nil {
		return repAnswer{}, err
	}
	return repSend(hc, req)
}

func repSend(hc *http.Client, req *http.Request) (repAnswer, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return repAnswer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return repAnswer{}, err
	}
	a := repAnswer{status: resp.StatusCode}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&a.body); err != nil {
		return a, fmt.Errorf("HTTP %d with a body that is not JSON: %q", resp.StatusCode, b)
	}
	if c, ok := a.body["Code"].(string); ok {
		a.code = c
	} else if resp.StatusCode != http.StatusOK {
		return a, fmt.Errorf("HTTP %d without an error Code: %q", resp.StatusCode, b)
	}
	return a, nil
}

// repCRL downloads the CRL of caID from endpoint and checks its
// signature with issuer.
func repCRL(t *testing.T, endpoint, caID string, issuer *x509.Certificate) *x509.RevocationList {
	t.Helper()
	crl, err := x509.ParseRevocationList(httpGet(t, "http://"+endpoint+"/pki/crl/"+caID+".crl"))
	if err != nil {
		t.Fatalf("CRL from %s does not parse: %v", endpoint, err)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		t.Fatalf("CRL from %s: signature: %v", endpoint, err)
	}
	return crl
}

// repOCSP asks endpoint's responder (POST) about cert; the answer must
// verify against issuer, the certificate's signer.
func repOCSP(t *testing.T, endpoint string, cert, issuer *x509.Certificate) *ocsp.Response {
	t.Helper()
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+endpoint+"/pki/ocsp", "application/ocsp-request", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("OCSP at %s: %s", endpoint, resp.Status)
	}
	r, err := ocsp.ParseResponseForCert(body, cert, issuer)
	if err != nil {
		t.Fatalf("OCSP response from %s: %v", endpoint, err)
	}
	if r.SerialNumber.Cmp(cert.SerialNumber) != 0 {
		t.Fatalf("OCSP response from %s is about serial %x, asked %x", endpoint, r.SerialNumber, cert.SerialNumber)
	}
	return r
}

// repWithoutRequestID returns b without RequestId, to compare two answers.
func repWithoutRequestID(b map[string]any) map[string]any {
	out := make(map[string]any, len(b))
	for k, v := range b {
		if k != "RequestId" {
			out[k] = v
		}
	}
	return out
}

// repList calls ListCert, waiting out Throttling.User answers for up to
// 5 s: ListCert is the action whose rate the test checks, so other steps
// may find its bucket empty.
func repList(t *testing.T, c *openapiclient.Client, q map[string]string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := call(t, c, "ListCert", q)
		if err == nil {
			return b
		}
		if e, ok := asAPIError(err); !ok || e.Code != "Throttling.User" || time.Now().After(deadline) {
			t.Fatalf("ListCert %v: %s", q, describeErr(err))
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// repListAll returns TotalCount and Identifier -> SerialNumber of every
// certificate ListCert reports, page by page.
func repListAll(t *testing.T, c *openapiclient.Client) (int64, map[string]string) {
	t.Helper()
	got := map[string]string{}
	var totalCount int64
	for page := 1; ; page++ {
		b := repList(t, c, map[string]string{"ShowSize": "1000", "CurrentPage": strconv.Itoa(page)})
		totalCount = jInt(t, b, "TotalCount")
		items := jObjects(t, b, "List")
		for _, it := range items {
			got[jStr(t, it, "Identifier")] = jStr(t, it, "SerialNumber")
		}
		if len(items) < 1000 || page > 100 {
			return totalCount, got
		}
	}
}

func TestTwoReplicas(t *testing.T) {
	t.Parallel()
	redisEnv := os.Getenv("PCAD_TEST_REDIS")
	if redisEnv == "" || os.Getenv(pgtest.Env) == "" {
		t.Skip("needs both " + pgtest.Env + " and PCAD_TEST_REDIS")
	}
	replicaTestMu.Lock()
	t.Cleanup(replicaTestMu.Unlock)
	testStart := time.Now()

	dsn := pgtest.Schema(t, "replicas") // registered first: dropped after the processes are gone
	redisURL, rc := repRedis(t, redisEnv)
	if err := rc.FlushDB(t.Context()).Err(); err != nil {
		t.Fatalf("FLUSHDB of Redis database %d: %v", replicaRedisDB, err)
	}
	t.Cleanup(func() { rc.FlushDB(context.Background()) })

	dir := t.TempDir()
	buildStart := time.Now()
	bin := repBuild(t, dir)
	t.Logf("built the binary in %v", time.Since(buildStart).Round(time.Millisecond))

	// Every action but ListCert is exempt from throttling, so that the
	// steps can make many calls; ListCert keeps --qps-per-user for step 4.
	limits := filepath.Join(dir, "limits.json")
	exempt := map[string]float64{}
	for _, a := range []string{"CreateRootCACertificate", "CreateSubCACertificate", "CreateServerCertificate",
		"CreateServerCertificateWithCsr", "DescribeClientCertificate", "CreateRevokeClientCertificate", "ListClientCertificate"} {
		exempt[a] = 0
	}
	lj, _ := json.Marshal(map[string]any{"actions": exempt})
	if err := os.WriteFile(limits, lj, 0o600); err != nil {
		t.Fatal(err)
	}
	master := make([]byte, 32)
	rand.Read(master)
	env := repEnv(hex.EncodeToString(master))
	args := []string{"--db", dsn, "--redis", redisURL, "--qps-per-user", strconv.Itoa(replicaQPS),
		"--limits", limits, "--log-level", "info"}

	a := repStart(t, bin, "A", dir, args, env)
	// A takes the background lease at its first poll; B starts only then,
	// so that A holds it and step 6 sees it move.
	a.waitLeader(t, 10*time.Second)
	b := repStart(t, bin, "B", dir, args, env)
	if _, err := os.Stat(filepath.Join(b.data, "credentials.ini")); err == nil {
		t.Error("B wrote credentials.ini although the shared store already had an account")
	}
	keyID, secret := readCredentials(t, filepath.Join(a.data, "credentials.ini"))
	a.ts = &testServer{keyID: keyID, secret: secret, endpoint: a.addr}
	b.ts = &testServer{keyID: keyID, secret: secret, endpoint: b.addr}
	cliA, cliB := a.ts.client(t, "v3"), b.ts.client(t, "v3")

	var (
		root, sub ca
		issued    []string // identifiers, issue order
		leaves    = map[string]*x509.Certificate{}
		doomed    string    // revoked on B in step 1
		doomedAt  time.Time // when that revocation was acknowledged
	)

	ok := t.Run("1_issue_on_A_list_describe_revoke_on_B", func(t *testing.T) {
		root = createRoot(t, cliA, "ECC_256", nil)
		sub = createSub(t, cliA, root.ID, "ECC_256", map[string]string{"EnableCrl": "true", "CrlDay": "7",
			"ExtendedKeyUsages.1": "serverAuth", "ExtendedKeyUsages.2": "clientAuth"})
		for i := range 2 { // service-generated keys
			r := mustCall(t, cliA, "CreateServerCertificate", with(serverParams(sub.ID),
				map[string]string{"CommonName": fmt.Sprintf("gen%d.example.com", i)}))
			id := jStr(t, r, "Identifier")
			issued, leaves[id] = append(issued, id), parsePEM(t, jStr(t, r, "X509Certificate"))
		}
		for i := range 2 { // the caller's keys
			req := csrMake(t, csrP256(t), pkix.Name{CommonName: fmt.Sprintf("csr%d.example.com", i)})
			r := mustCall(t, cliA, "CreateServerCertificateWithCsr", map[string]string{
				"ParentIdentifier": sub.ID, "Csr": req, "Days": "30", "Immediately": "1"})
			id := jStr(t, r, "Identifier")
			leaf := parsePEM(t, jStr(t, r, "X509Certificate"))
			if got := jStr(t, r, "SerialNumber"); got != leaf.SerialNumber.Text(16) {
				t.Errorf("SerialNumber %s, certificate serial %x", got, leaf.SerialNumber)
			}
			issued, leaves[id] = append(issued, id), leaf
		}

		// ListCert: the same answer from both, naming what A issued.
		q := map[string]string{"ShowSize": "100"}
		la, lb := repList(t, cliA, q), repList(t, cliB, q)
		if n := jInt(t, lb, "TotalCount"); n != int64(len(issued)) {
			t.Errorf("ListCert on B: TotalCount %d, want %d", n, len(issued))
		}
		if got := listIDs(t, lb); !equalStrings(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(issued))) {
			t.Errorf("ListCert on B lists %v, want %v", got, issued)
		}
		if !reflect.DeepEqual(repWithoutRequestID(la), repWithoutRequestID(lb)) {
			t.Errorf("ListCert answers differ:\nA %v\nB %v", la, lb)
		}

		// DescribeClientCertificate: the same certificate from both.
		for _, id := range issued {
			da := jObj(t, mustCall(t, cliA, "DescribeClientCertificate", map[string]string{"Identifier": id}), "Certificate")
			db := jObj(t, mustCall(t, cliB, "DescribeClientCertificate", map[string]string{"Identifier": id}), "Certificate")
			if !reflect.DeepEqual(da, db) {
				t.Errorf("DescribeClientCertificate %s differs:\nA %v\nB %v", id, da, db)
			}
			if got, want := jStr(t, db, "SerialNumber"), leaves[id].SerialNumber.Text(16); got != want {
				t.Errorf("B describes %s with serial %s, A issued %s", id, got, want)
			}
			if !parsePEM(t, jStr(t, db, "X509Certificate")).Equal(leaves[id]) {
				t.Errorf("B describes %s with another certificate than A issued", id)
			}
		}

		// Revoke on B, after both responders have answered (and cached)
		// "good" for the certificate.
		doomed = issued[1]
		for _, r := range []*replica{a, b} {
			if st := repOCSP(t, r.addr, leaves[doomed], sub.Cert).Status; st != ocsp.Good {
				t.Fatalf("OCSP on %s before revocation: status %d, want good", r.name, st)
			}
		}
		revoke(t, cliB, doomed)
		doomedAt = time.Now()
		for _, c := range []*openapiclient.Client{cliA, cliB} {
			d := jObj(t, mustCall(t, c, "DescribeClientCertificate", map[string]string{"Identifier": doomed}), "Certificate")
			if s := jStr(t, d, "Status"); s != "REVOKE" {
				t.Errorf("certificate revoked on B has status %q", s)
			}
		}
		if n := jInt(t, repList(t, cliA, map[string]string{"Status": "REVOKE"}), "TotalCount"); n != 1 {
			t.Errorf("ListCert Status=REVOKE on A: TotalCount %d, want 1", n)
		}
	})
	if !ok {
		t.FailNow()
	}

	t.Run("2_same_CRL_and_OCSP_from_both", func(t *testing.T) {
		revoked, good := leaves[doomed], leaves[issued[0]]
		start := time.Now()
		var crlA *x509.RevocationList
		for {
			crlA = repCRL(t, a.addr, sub.ID, sub.Cert)
			crlB := repCRL(t, b.addr, sub.ID, sub.Cert)
			if onCRL(crlA, revoked.SerialNumber) && bytes.Equal(crlA.Raw, crlB.Raw) {
				break
			}
			if time.Since(start) > 10*time.Second {
				t.Fatalf("after 10 s: revoked serial on A's CRL %v, on B's %v; CRL numbers %v and %v, same bytes %v",
					onCRL(crlA, revoked.SerialNumber), onCRL(crlB, revoked.SerialNumber), crlA.Number, crlB.Number,
					bytes.Equal(crlA.Raw, crlB.Raw))
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("CRL lag: the revocation made on B was on the identical CRL of both replicas %v after B acknowledged it (CRL number %v, %d entries)",
			time.Since(doomedAt).Round(time.Millisecond), crlA.Number, len(crlA.RevokedCertificateEntries))
		if len(crlA.RevokedCertificateEntries) != 1 || onCRL(crlA, good.SerialNumber) {
			t.Errorf("CRL has %d entries (good certificate listed: %v), want just the revoked one",
				len(crlA.RevokedCertificateEntries), onCRL(crlA, good.SerialNumber))
		}

		// OCSP: the revoked certificate. Both responders answered "good"
		// before; the answers must turn, each within a few polls.
		var ra, rb *ocsp.Response
		start = time.Now()
		for {
			ra, rb = repOCSP(t, a.addr, revoked, sub.Cert), repOCSP(t, b.addr, revoked, sub.Cert)
			if ra.Status == ocsp.Revoked && rb.Status == ocsp.Revoked {
				break
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("OCSP for the revoked certificate after 5 s: A status %d, B status %d", ra.Status, rb.Status)
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Logf("OCSP lag: both responders, which had answered good before, answer revoked %v after B acknowledged the revocation",
			time.Since(doomedAt).Round(time.Millisecond))
		if !ra.RevokedAt.Equal(rb.RevokedAt) || ra.RevocationReason != rb.RevocationReason || ra.RevokedAt.IsZero() {
			t.Errorf("OCSP revoked: A says %v reason %d, B says %v reason %d", ra.RevokedAt, ra.RevocationReason, rb.RevokedAt, rb.RevocationReason)
		}
		var entry x509.RevocationListEntry
		for _, e := range crlA.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(revoked.SerialNumber) == 0 {
				entry = e
			}
		}
		if !entry.RevocationTime.Equal(ra.RevokedAt) {
			t.Errorf("OCSP revocation time %v, CRL entry %v", ra.RevokedAt, entry.RevocationTime)
		}
		// A good certificate.
		ga, gb := repOCSP(t, a.addr, good, sub.Cert), repOCSP(t, b.addr, good, sub.Cert)
		if ga.Status != ocsp.Good || gb.Status != ocsp.Good {
			t.Errorf("OCSP for a good certificate: A status %d, B status %d", ga.Status, gb.Status)
		}
	})

	t.Run("3_nonce_used_on_A_refused_on_B", func(t *testing.T) {
		hc := &http.Client{Timeout: 10 * time.Second}
		baseA := &url.URL{Scheme: "http", Host: a.addr}
		sign := func() *http.Request {
			req, err := signedRequest(t.Context(), baseA, "ListClientCertificate", casapi.Version, url.Values{}, keyID, secret, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return req
		}
		toB := func(req *http.Request) *http.Request {
			r := req.Clone(context.Background())
			r.URL.Host = b.addr // the signed Host header stays A's
			return r
		}
		mustAnswer := func(what string, req *http.Request) repAnswer {
			ans, err := repSend(hc, req)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return ans
		}
		// Control: B accepts a fresh request signed like the replayed one.
		if ans := mustAnswer("fresh request on B", toB(sign())); ans.status != http.StatusOK {
			t.Fatalf("fresh request on B: HTTP %d %s", ans.status, ans.code)
		}
		req := sign()
		if ans := mustAnswer("first use on A", req.Clone(context.Background())); ans.status != http.StatusOK {
			t.Fatalf("first use on A: HTTP %d %s", ans.status, ans.code)
		}
		if ans := mustAnswer("replay on B", toB(req)); ans.code != "SignatureNonceUsed" || ans.status < 400 {
			t.Fatalf("replay on B: HTTP %d code %q, want SignatureNonceUsed", ans.status, ans.code)
		}
	})

	t.Run("4_rate_shared_by_both", func(t *testing.T) {
		// The bucket of ListCert is full again burst/rate = 1 s after its
		// last use by the steps before.
		time.Sleep(1200 * time.Millisecond)
		const (
			workers  = 4
			duration = 3 * time.Second
			pause    = 20 * time.Millisecond // per worker: up to 200 offered calls/s in all
		)
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
		defer hc.CloseIdleConnections()
		type sample struct {
			sent, answered time.Time
			ok             bool
			replica        int
		}
		var (
			mu      sync.Mutex
			samples []sample
			bad     []string
			seq     atomic.Int64
			wg      sync.WaitGroup
		)
		endpoints := []string{a.addr, b.addr}
		stop := time.Now().Add(duration)
		for range workers {
			wg.Go(func() {
				for time.Now().Before(stop) {
					i := int(seq.Add(1) % 2) // alternate A and B
					sent := time.Now()
					ans, err := repCall(context.Background(), hc, endpoints[i], "ListCert", url.Values{"ShowSize": {"1"}}, keyID, secret)
					answered := time.Now()
					mu.Lock()
					switch {
					case err != nil:
						bad = append(bad, err.Error())
					case ans.status == http.StatusOK:
						samples = append(samples, sample{sent, answered, true, i})
					case ans.code == "Throttling.User":
						samples = append(samples, sample{sent, answered, false, i})
					default:
						bad = append(bad, fmt.Sprintf("HTTP %d %s", ans.status, ans.code))
					}
					mu.Unlock()
					time.Sleep(pause)
				}
			})
		}
		wg.Wait()
		if len(bad) > 0 {
			t.Fatalf("%d answers neither 200 nor Throttling.User (of %d), first: %s", len(bad), len(bad)+len(samples), bad[0])
		}
		if len(samples) == 0 {
			t.Fatal("no call made")
		}
		var (
			accepted, refused        int
			perReplica               [2]int
			firstSent, firstAnswered = samples[0].sent, samples[0].answered
			lastSent, lastAnswered   = samples[0].sent, samples[0].answered
			acceptedOn               [2]bool
		)
		for _, s := range samples {
			if s.ok {
				accepted++
				perReplica[s.replica]++
				acceptedOn[s.replica] = true
			} else {
				refused++
			}
			firstSent, lastSent = repMinTime(firstSent, s.sent), repMaxTime(lastSent, s.sent)
			firstAnswered, lastAnswered = repMinTime(firstAnswered, s.answered), repMaxTime(lastAnswered, s.answered)
		}
		// Every call was decided (by Redis) between its sending and its
		// answer, so the decisions span at most lastAnswered-firstSent and
		// at least lastSent-firstAnswered. GCRA starting from a full bucket
		// (burst) and offered calls far above the rate (no idle second in
		// which the bucket could overflow) accepts burst + rate × span, ±1.
		burst := math.Max(1, math.Ceil(replicaQPS))
		outer := lastAnswered.Sub(firstSent).Seconds()
		inner := lastSent.Sub(firstAnswered).Seconds()
		hi := burst + replicaQPS*outer + 1
		lo := burst + replicaQPS*inner - 1
		expected := burst + replicaQPS*outer
		t.Logf("rate: %d calls in %.3f s (%.0f/s offered, alternating A and B): %d accepted (A %d, B %d), %d throttled; "+
			"the shared limit allows %.1f (burst %.0f + %d/s × %.3f s), bounds from the measured window [%.1f, %.1f]; accepted/allowed = %.3f",
			len(samples), outer, float64(len(samples))/outer, accepted, perReplica[0], perReplica[1], refused,
			expected, burst, replicaQPS, outer, lo, hi, float64(accepted)/expected)
		if float64(len(samples)) < 1.5*hi {
			t.Fatalf("only %d calls offered: not well above the limit (%.1f), the check would prove nothing", len(samples), expected)
		}
		if float64(accepted) > 1.1*hi || float64(accepted) < 0.9*lo {
			t.Errorf("one user's ListCert on both replicas: %d accepted, want within 10%% of [%.1f, %.1f] (one shared limit of %d/s)",
				accepted, lo, hi, replicaQPS)
		}
		if !acceptedOn[0] || !acceptedOn[1] {
			t.Errorf("accepted calls per replica A %d, B %d: want both to serve", perReplica[0], perReplica[1])
		}
	})

	t.Run("5_one_leader", func(t *testing.T) {
		// A has held the lease since before B started; B must not take it.
		for i := range 3 {
			va, errA := a.leaderGauge()
			vb, errB := b.leaderGauge()
			if errA != nil || errB != nil {
				t.Fatalf("/metrics: A %v, B %v", errA, errB)
			}
			if va != 1 || vb != 0 {
				t.Fatalf("pcad_background_leader: A %v, B %v; want exactly one leader, A (which started first)", va, vb)
			}
			if i < 2 {
				time.Sleep(600 * time.Millisecond) // across B's polls
			}
		}
	})

	t.Run("6_kill_A_mid_burst", func(t *testing.T) {
		baseTotal, _ := repListAll(t, cliB)
		csr := csrMake(t, csrP256(t), pkix.Name{CommonName: "burst.example.com"})
		crlBefore := repCRL(t, b.addr, sub.ID, sub.Cert)

		const workers = 4
		hc := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
		defer hc.CloseIdleConnections()
		var (
			mu       sync.Mutex
			acked    = map[string]string{} // Identifier -> SerialNumber of each 200 answer
			inFlight int                   // calls sent while A lived whose answer was lost
			bad      []string
			killSent atomic.Bool // set just before SIGKILL
			aDead    atomic.Bool // set once A's process has exited
			wg       sync.WaitGroup
		)
		for w := range workers {
			wg.Go(func() {
				for i := 0; ; i++ {
					sentAlive := !aDead.Load()
					action, params := "CreateServerCertificate", url.Values{"ParentIdentifier": {sub.ID},
						"Algorithm": {"ECC_256"}, "CommonName": {fmt.Sprintf("burst-%d-%d.example.com", w, i)}, "Days": {"30"}, "Immediately": {"0"}}
					if i%2 == 1 {
						action, params = "CreateServerCertificateWithCsr", url.Values{"ParentIdentifier": {sub.ID}, "Csr": {csr},
							"Days": {"30"}, "Immediately": {"0"}}
					}
					ans, err := repCall(context.Background(), hc, a.addr, action, params, keyID, secret)
					mu.Lock()
					switch {
					case err != nil:
						if sentAlive {
							inFlight++
						}
						if !killSent.Load() {
							bad = append(bad, "transport error before the kill: "+err.Error())
						}
					case ans.status != http.StatusOK:
						bad = append(bad, fmt.Sprintf("%s: HTTP %d %s", action, ans.status, ans.code))
					default:
						id, _ := ans.body["Identifier"].(string)
						serial, _ := ans.body["SerialNumber"].(string)
						if id == "" || serial == "" {
							bad = append(bad, fmt.Sprintf("%s: 200 without Identifier and SerialNumber: %v", action, ans.body))
						} else {
							acked[id] = serial
						}
					}
					mu.Unlock()
					if err != nil || ans.status != http.StatusOK {
						return // A is gone (or answered wrongly): this worker is done
					}
				}
			})
		}
		time.Sleep(time.Second)
		killSent.Store(true)
		killedAt := time.Now()
		a.cmd.Process.Signal(syscall.SIGKILL)
		select {
		case <-a.exited:
		case <-time.After(10 * time.Second):
			t.Fatal("A did not exit within 10 s of SIGKILL")
		}
		aDead.Store(true)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(bad) > 0 {
			t.Fatalf("%d unexpected answers during the burst, first: %s", len(bad), bad[0])
		}
		t.Logf("burst on A: %d creations acknowledged before SIGKILL, %d in flight (answer lost)", len(acked), inFlight)
		if len(acked) < workers {
			t.Fatalf("only %d creations acknowledged in 1 s: the burst did not run", len(acked))
		}

		// B knows every acknowledged certificate, with its serial.
		for id, serial := range acked {
			d := jObj(t, mustCall(t, cliB, "DescribeClientCertificate", map[string]string{"Identifier": id}), "Certificate")
			if got := jStr(t, d, "SerialNumber"); got != serial {
				t.Errorf("B describes %s with serial %s, A acknowledged %s", id, got, serial)
			}
		}
		totalCount, listed := repListAll(t, cliB)
		lost := 0
		for id, serial := range acked {
			if listed[id] != serial {
				lost++
			}
		}
		if lost > 0 {
			t.Errorf("ListCert on B misses (or shows another serial for) %d of %d acknowledged certificates", lost, len(acked))
		}
		if int64(len(listed)) != totalCount {
			t.Errorf("ListCert on B: TotalCount %d, %d listed", totalCount, len(listed))
		}
		lo, hi := baseTotal+int64(len(acked)), baseTotal+int64(len(acked)+inFlight)
		t.Logf("ListCert on B after the kill: TotalCount %d = %d before the burst + %d acknowledged + %d of the %d in flight",
			totalCount, baseTotal, len(acked), totalCount-lo, inFlight)
		if totalCount < lo || totalCount > hi {
			t.Errorf("ListCert on B: TotalCount %d, want %d before the burst + %d acknowledged (+ at most %d in flight) = [%d, %d]",
				totalCount, baseTotal, len(acked), inFlight, lo, hi)
		}

		// Background work moves to B: A died holding the lease, which
		// expires within its TTL (15 s). A revocation made on B meanwhile
		// reaches B's CRL once B leads.
		var victim string
		for id := range acked {
			victim = id
			break
		}
		victimSerial, _ := new(big.Int).SetString(acked[victim], 16)
		revoke(t, cliB, victim)
		revokedAt := time.Now()
		// While B does not hold the lease nobody rebuilds CRLs: B serves
		// the stored one, without the new revocation. (B sets its gauge
		// when it takes the lease, before it rebuilds anything.)
		if before, err := b.leaderGauge(); err == nil && before == 0 {
			crl := repCRL(t, b.addr, sub.ID, sub.Cert)
			if after, err := b.leaderGauge(); err == nil && after == 0 && onCRL(crl, victimSerial) {
				t.Errorf("B rebuilt the CRL (number %v) without holding the background lease", crl.Number)
			}
		}
		if r := repOCSP(t, b.addr, leaves[doomed], sub.Cert); r.Status != ocsp.Revoked {
			t.Errorf("OCSP on B after A's death: step 1's revoked certificate has status %d", r.Status)
		}
		b.waitLeader(t, 25*time.Second)
		leadAt := time.Now()
		t.Logf("lease handover: B holds the background lease %v after A was killed", leadAt.Sub(killedAt).Round(time.Millisecond))
		for {
			crl := repCRL(t, b.addr, sub.ID, sub.Cert)
			if onCRL(crl, victimSerial) {
				if crl.Number.Cmp(crlBefore.Number) <= 0 {
					t.Errorf("CRL number %v after the handover, %v before", crl.Number, crlBefore.Number)
				}
				if !onCRL(crl, leaves[doomed].SerialNumber) {
					t.Error("the CRL built by B lost the revocation of step 1")
				}
				t.Logf("CRL lag after the handover: the revocation made on B %v after the kill was on B's CRL %v after B took the lease (CRL number %v -> %v)",
					revokedAt.Sub(killedAt).Round(time.Millisecond), time.Since(leadAt).Round(time.Millisecond), crlBefore.Number, crl.Number)
				break
			}
			if time.Since(leadAt) > 10*time.Second {
				t.Fatalf("revocation made on B not on B's CRL 10 s after B took the lease (CRL number %v)", crl.Number)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Logf("TestTwoReplicas ran %v", time.Since(testStart).Round(time.Millisecond))
}

func repMinTime(x, y time.Time) time.Time {
	if y.Before(x) {
		return y
	}
	return x
}

func repMaxTime(x, y time.Time) time.Time {
	if y.After(x) {
		return y
	}
	return x
}
