package main

// TestSustainedLoad: a mixed workload on loopback for a fixed time (60 s,
// or PCAD_SOAK_DURATION). Many RAM users, each faster than its per-user
// rate, issue certificates from CSRs, page through ListCert, revoke and
// describe their own certificates, and fetch the CRL and OCSP answers of
// anyone's certificates. Every API answer must be a success or
// Throttling.User; CRL and OCSP answers must verify and agree with what the
// test revoked; afterwards goroutines and heap must be back near the
// warm-up baseline. Latency percentiles and counts are logged, never
// asserted.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"golang.org/x/crypto/ocsp"

	"github.com/pcad-dev/pcad/internal/loadgen"
)

const (
	soakUsers          = 8
	soakWorkersPerUser = 2
	soakQPS            = 5                // --qps-per-user
	soakCallTimeout    = 30 * time.Second // any one HTTP call
	soakOCSPLag        = 2 * time.Second  // a revocation younger than this may still read good
	soakGoroutineSlack = 5
	soakHeapSlackBytes = 20 << 20
	soakNonceBytes     = 192 // heap per remembered nonce (about 84-104 B measured) with room for map growth
	soakMaxLogged      = 5   // failures logged in full
)

// soakDuration is 60 s unless PCAD_SOAK_DURATION (a Go duration) says otherwise.
func soakDuration(t *testing.T) time.Duration {
	s := os.Getenv("PCAD_SOAK_DURATION")
	if s == "" {
		return 60 * time.Second
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("PCAD_SOAK_DURATION=%q: want a positive Go duration such as 10s", s)
	}
	return d
}

// ---- operations and their figures ---------------------------------------------

type soakOp int

const (
	opIssue soakOp = iota
	opList
	opRevoke
	opDescribe
	opCRL
	opOCSP
	numSoakOps
)

var soakOpNames = [numSoakOps]string{"CreateServerCertificateWithCsr", "ListCert", "CreateRevokeClientCertificate",
	"DescribeClientCertificate", "GET CRL", "POST OCSP"}

// soakStats are one worker's latencies by operation, accepted and
// throttled apart; workers merge theirs at the end.
type soakStats struct {
	accepted, throttled [numSoakOps]loadgen.Histogram
}

func (s *soakStats) merge(o *soakStats) {
	for i := range numSoakOps {
		s.accepted[i].Merge(&o.accepted[i])
		s.throttled[i].Merge(&o.throttled[i])
	}
}

// ---- what the test knows about its certificates ---------------------------------

type revState int

const (
	stGood    revState = iota
	stPending          // a revocation is on its way
	stRevoked          // the revocation was answered with success
)

type soakCert struct {
	id     string
	cert   *x509.Certificate
	owner  int
	state  revState  // guarded by soakBook.mu
	doneAt time.Time // when the revocation's success arrived
}

// soakBook holds every certificate issued under the sub-CA and its
// revocation state as the test caused it.
type soakBook struct {
	mu       sync.Mutex
	all      []*soakCert
	bySerial map[string]*soakCert // lower-case hex
	own      [soakUsers][]*soakCert
	good     [soakUsers]int // certificates of each user in state stGood
}

func (b *soakBook) add(c *soakCert) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.all = append(b.all, c)
	b.bySerial[c.cert.SerialNumber.Text(16)] = c
	b.own[c.owner] = append(b.own[c.owner], c)
	b.good[c.owner]++
}

// view returns c's state and revocation time.
func (b *soakBook) view(c *soakCert) (revState, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return c.state, c.doneAt
}

func (b *soakBook) set(c *soakCert, s revState, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if c.state == stGood {
		b.good[c.owner]--
	}
	if s == stGood {
		b.good[c.owner]++
	}
	c.state, c.doneAt = s, at
}

// takeGood marks a random good certificate of user as pending and returns
// it, or returns nil. Only about half of a user's certificates are ever
// revoked, so that OCSP and Describe see both states.
func (b *soakBook) takeGood(rng *rand.Rand, user int) *soakCert {
	b.mu.Lock()
	defer b.mu.Unlock()
	own := b.own[user]
	if 2*b.good[user] <= len(own) {
		return nil
	}
	for range 16 {
		if c := own[rng.IntN(len(own))]; c.state == stGood {
			c.state = stPending
			b.good[user]--
			return c
		}
	}
	return nil
}

func (b *soakBook) pickOwn(rng *rand.Rand, user int) *soakCert {
	b.mu.Lock()
	defer b.mu.Unlock()
	if own := b.own[user]; len(own) > 0 {
		return own[rng.IntN(len(own))]
	}
	return nil
}

func (b *soakBook) pickAny(rng *rand.Rand) *soakCert {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.all) > 0 {
		return b.all[rng.IntN(len(b.all))]
	}
	return nil
}

// ---- HTTP plumbing -----------------------------------------------------------

// soakHTTP lets the official client use our own http.Client, so that every
// call has a timeout and its idle connections can be closed.
type soakHTTP struct{ c *http.Client }

func (h soakHTTP) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	return h.c.Do(req)
}

func newSoakHTTPClient() *http.Client {
	return &http.Client{Timeout: soakCallTimeout, Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        128,
		MaxIdleConnsPerHost: 128,
		IdleConnTimeout:     30 * time.Second,
	}}
}

func soakClient(t *testing.T, ts *testServer, hc *http.Client, id, secret string) *openapiclient.Client {
	t.Helper()
	c, err := openapiclient.NewClient(&openapiclient.Config{
		AccessKeyId: tea.String(id), AccessKeySecret: tea.String(secret), Endpoint: tea.String(ts.endpoint),
		Protocol: tea.String("HTTP"), HttpClient: soakHTTP{hc},
		ReadTimeout: tea.Int(int(soakCallTimeout / time.Millisecond)), ConnectTimeout: tea.Int(5000),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	errThrottled = errors.New("throttled")
	errSkipped   = errors.New("nothing to do yet") // no call made
)

// soakCall makes one API call. It returns errThrottled for Throttling.User
// and a descriptive error for any other failure; it never touches t, so
// workers may use it.
func soakCall(ctx context.Context, c *openapiclient.Client, p *openapiclient.Params, q map[string]string) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, soakCallTimeout)
	defer cancel()
	req := &openapiclient.OpenApiRequest{Query: map[string]*string{}}
	for k, v := range q {
		req.Query[k] = tea.String(v)
	}
	raw, err := c.CallApiWithCtx(ctx, p, req, &dara.RuntimeOptions{})
	if err != nil {
		if e, ok := asAPIError(err); ok && e.Code == "Throttling.User" && e.Status == http.StatusBadRequest {
			return nil, errThrottled
		}
		return nil, fmt.Errorf("%s: %s", tea.StringValue(p.Action), describeErr(err))
	}
	body, ok := raw["body"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: answer body is %T", tea.StringValue(p.Action), raw["body"])
	}
	if s, ok := raw["statusCode"].(json.Number); !ok || s.String() != "200" {
		return nil, fmt.Errorf("%s: success with HTTP status %v", tea.StringValue(p.Action), raw["statusCode"])
	}
	if code, ok := body["Code"]; ok {
		return nil, fmt.Errorf("%s: a 200 answer carries Code %v", tea.StringValue(p.Action), code)
	}
	return body, nil
}

// soakSetup calls an action during setup, waiting out throttling.
func soakSetup(t *testing.T, c *openapiclient.Client, p *openapiclient.Params, q map[string]string) map[string]any {
	t.Helper()
	for range 100 {
		b, err := soakCall(t.Context(), c, p, q)
		if errors.Is(err, errThrottled) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatalf("%s: still throttled after 10 s", tea.StringValue(p.Action))
	return nil
}

// ---- the workload -------------------------------------------------------------

type soakRun struct {
	ts      *testServer
	hc      *http.Client // API and PKI calls
	sub     ca
	crlURL  string
	book    *soakBook
	failed  atomic.Int64
	mu      sync.Mutex
	samples []string // the first few failures
}

func (r *soakRun) fail(op soakOp, err error) {
	if r.failed.Add(1) <= soakMaxLogged {
		r.mu.Lock()
		r.samples = append(r.samples, fmt.Sprintf("%s: %v", soakOpNames[op], err))
		r.mu.Unlock()
	}
}

type soakWorker struct {
	r     *soakRun
	user  int
	c     *openapiclient.Client
	csrs  []string
	rng   *rand.Rand
	token string // ListCert NextToken of this worker's walk
	stats soakStats
}

// step runs op once; it returns errThrottled, another error (a failure),
// or nil.
func (w *soakWorker) step(ctx context.Context, op soakOp) error {
	switch op {
	case opIssue:
		return w.issue(ctx)
	case opList:
		return w.list(ctx)
	case opRevoke:
		return w.revoke(ctx)
	case opDescribe:
		return w.describe(ctx)
	case opCRL:
		_, err := w.r.fetchCRL(ctx)
		return err
	default:
		return w.ocsp(ctx)
	}
}

func (w *soakWorker) issue(ctx context.Context) error {
	b, err := soakCall(ctx, w.c, rpcParams("CreateServerCertificateWithCsr"), map[string]string{
		"ParentIdentifier": w.r.sub.ID, "Csr": w.csrs[w.rng.IntN(len(w.csrs))], "Days": "30", "Immediately": "1"})
	if err != nil {
		return err
	}
	id, _ := b["Identifier"].(string)
	serial, _ := b["SerialNumber"].(string)
	cert, err := soakParseCert(b["X509Certificate"])
	if err != nil || id == "" || cert.SerialNumber.Text(16) != serial {
		return fmt.Errorf("answer Identifier %q SerialNumber %q certificate %v: %v", id, serial, cert != nil, err)
	}
	if err := cert.CheckSignatureFrom(w.r.sub.Cert); err != nil {
		return fmt.Errorf("certificate %s is not signed by the sub-CA: %v", id, err)
	}
	w.r.book.add(&soakCert{id: id, cert: cert, owner: w.user})
	return nil
}

// soakParseCert parses the first PEM block of an X509Certificate field.
func soakParseCert(v any) (*x509.Certificate, error) {
	s, _ := v.(string)
	blk, _ := pem.Decode([]byte(s))
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("no certificate in %.80q", s)
	}
	return x509.ParseCertificate(blk.Bytes)
}

func (w *soakWorker) list(ctx context.Context) error {
	q := map[string]string{"MaxResults": "20"}
	if w.token != "" {
		q["NextToken"] = w.token
	}
	b, err := soakCall(ctx, w.c, rpcParams("ListCert"), q)
	if err != nil {
		return err
	}
	if _, ok := b["List"].([]any); !ok {
		return fmt.Errorf("List is %T", b["List"])
	}
	tok, ok := b["NextToken"].(string)
	if !ok {
		return fmt.Errorf("NextToken is %T", b["NextToken"])
	}
	w.token = tok // "" at the end: the next walk starts over
	return nil
}

func (w *soakWorker) revoke(ctx context.Context) error {
	c := w.r.book.takeGood(w.rng, w.user)
	if c == nil {
		return errSkipped
	}
	_, err := soakCall(ctx, w.c, rpcParams("CreateRevokeClientCertificate"), map[string]string{"Identifier": c.id})
	switch {
	case errors.Is(err, errThrottled):
		w.r.book.set(c, stGood, time.Time{}) // refused: nothing was revoked
	case err == nil:
		w.r.book.set(c, stRevoked, time.Now())
	}
	return err // a failed revocation stays pending: its outcome is unknown
}

func (w *soakWorker) describe(ctx context.Context) error {
	c := w.r.book.pickOwn(w.rng, w.user)
	if c == nil {
		return errSkipped
	}
	before, _ := w.r.book.view(c)
	b, err := soakCall(ctx, w.c, rpcParams("DescribeClientCertificate"), map[string]string{"Identifier": c.id})
	if err != nil {
		return err
	}
	after, _ := w.r.book.view(c)
	cert, _ := b["Certificate"].(map[string]any)
	status, _ := cert["Status"].(string)
	switch {
	case before == stRevoked && status != "REVOKE":
		return fmt.Errorf("%s was revoked before the call, Status %q", c.id, status)
	case before == stGood && after == stGood && status != "ISSUE":
		return fmt.Errorf("%s was never revoked, Status %q", c.id, status)
	}
	return nil
}

// fetchCRL gets the sub-CA's CRL, checks its signature and that it lists
// nothing the test has not revoked, and returns it.
func (r *soakRun) fetchCRL(ctx context.Context) (*x509.RevocationList, error) {
	body, err := r.get(ctx, http.MethodGet, r.crlURL, "", nil)
	if err != nil {
		return nil, err
	}
	crl, err := x509.ParseRevocationList(body)
	if err != nil {
		return nil, fmt.Errorf("CRL does not parse: %v", err)
	}
	if err := crl.CheckSignatureFrom(r.sub.Cert); err != nil {
		return nil, fmt.Errorf("CRL signature: %v", err)
	}
	for _, e := range crl.RevokedCertificateEntries {
		c := r.book.bySerialHex(e.SerialNumber)
		if c == nil {
			return nil, fmt.Errorf("CRL lists serial %x, which the test never issued", e.SerialNumber)
		}
		if s, _ := r.book.view(c); s == stGood {
			return nil, fmt.Errorf("CRL lists %s, which the test never revoked", c.id)
		}
	}
	return crl, nil
}

func (b *soakBook) bySerialHex(serial *big.Int) *soakCert {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bySerial[serial.Text(16)]
}

func (w *soakWorker) ocsp(ctx context.Context) error {
	c := w.r.book.pickAny(w.rng)
	if c == nil {
		return errSkipped
	}
	req, err := ocsp.CreateRequest(c.cert, w.r.sub.Cert, &ocsp.RequestOptions{Hash: crypto.SHA1})
	if err != nil {
		return err
	}
	before, doneAt := w.r.book.view(c)
	sent := time.Now()
	body, err := w.r.get(ctx, http.MethodPost, c.cert.OCSPServer[0], "application/ocsp-request", req)
	if err != nil {
		return err
	}
	after, _ := w.r.book.view(c)
	resp, err := ocsp.ParseResponseForCert(body, c.cert, w.r.sub.Cert)
	if err != nil {
		return fmt.Errorf("OCSP answer for %s: %v", c.id, err)
	}
	switch resp.Status {
	case ocsp.Good:
		if before == stRevoked && sent.Sub(doneAt) > soakOCSPLag {
			return fmt.Errorf("OCSP says good for %s, revoked %v before the request", c.id, sent.Sub(doneAt).Round(time.Millisecond))
		}
	case ocsp.Revoked:
		if before == stGood && after == stGood {
			return fmt.Errorf("OCSP says revoked for %s, which the test never revoked", c.id)
		}
	default:
		return fmt.Errorf("OCSP status %d for %s", resp.Status, c.id)
	}
	return nil
}

// get makes one unsigned PKI request and returns the body of a 200.
func (r *soakRun) get(ctx context.Context, method, url, ctype string, body []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, soakCallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %s: %.200s", method, url, resp.Status, b)
	}
	return b, nil
}

// ---- leak checks --------------------------------------------------------------

// quiesce closes idle client connections, collects garbage and waits (at
// most wait) for the goroutine count to reach limit (limit < 0: to stop
// moving). It returns the goroutine count and HeapInuse.
func quiesce(hc *http.Client, limit int, wait time.Duration) (int, uint64) {
	deadline := time.Now().Add(wait)
	prev, stable := -1, 0
	for {
		hc.CloseIdleConnections()
		runtime.GC()
		n := runtime.NumGoroutine()
		if n == prev {
			stable++
		} else {
			stable = 0
		}
		prev = n
		if (limit >= 0 && n <= limit) || (limit < 0 && stable >= 3) || time.Now().After(deadline) {
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			return n, ms.HeapInuse
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func goroutineDump() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// ---- the test ---------------------------------------------------------------

func TestSustainedLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("sustained load: not in -short")
	}
	duration := soakDuration(t)
	ts := startServer(t, soakQPS)
	hc := newSoakHTTPClient()
	defer hc.CloseIdleConnections()
	owner := soakClient(t, ts, hc, ts.keyID, ts.secret)

	root := toCA(t, soakSetup(t, owner, rpcParams("CreateRootCACertificate"), rootParams("ECC_256")))
	sub := toCA(t, soakSetup(t, owner, rpcParams("CreateSubCACertificate"), with(subParams(root.ID, "ECC_256"),
		map[string]string{"EnableCrl": "true", "CrlDay": "7"})))

	// RAM users, each with an AccessKey and a policy allowing yundun-cert:*.
	soakSetup(t, owner, ramParams("CreatePolicy"), map[string]string{"PolicyName": "Soak-Cert-All",
		"PolicyDocument": `{"Version":"1","Statement":[{"Effect":"Allow","Action":["yundun-cert:*"],"Resource":"*"}]}`})
	r := &soakRun{ts: ts, hc: hc, sub: sub, book: &soakBook{bySerial: map[string]*soakCert{}}}
	var workers []*soakWorker
	for u := range soakUsers {
		name := fmt.Sprintf("soak-%d", u)
		soakSetup(t, owner, ramParams("CreateUser"), map[string]string{"UserName": name})
		soakSetup(t, owner, ramParams("AttachPolicyToUser"), map[string]string{"PolicyType": "Custom",
			"PolicyName": "Soak-Cert-All", "UserName": name})
		k := jObj(t, soakSetup(t, owner, ramParams("CreateAccessKey"), map[string]string{"UserName": name}), "AccessKey")
		c := soakClient(t, ts, hc, jStr(t, k, "AccessKeyId"), jStr(t, k, "AccessKeySecret"))
		var csrs []string
		for i := range 3 {
			csrs = append(csrs, csrMake(t, csrP256(t), pkix.Name{CommonName: fmt.Sprintf("u%d-%d.soak.example.com", u, i)}))
		}
		for i := range soakWorkersPerUser {
			workers = append(workers, &soakWorker{r: r, user: u, c: c, csrs: csrs,
				rng: rand.New(rand.NewPCG(uint64(u), uint64(i)))})
		}
	}

	// Warm-up: every worker does every operation once (waiting out
	// throttling), so that lazily started server parts exist before the
	// baseline is taken.
	for _, w := range workers {
		for op := range numSoakOps {
			var err error
			for range 100 {
				if err = w.step(t.Context(), op); !errors.Is(err, errThrottled) {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if err != nil && !errors.Is(err, errSkipped) {
				t.Fatalf("warm-up, user %d, %s: %v", w.user, soakOpNames[op], err)
			}
			if r.crlURL == "" {
				r.crlURL = r.book.all[0].cert.CRLDistributionPoints[0] // the first step issued
			}
		}
	}
	baseG, baseHeap := quiesce(hc, -1, 5*time.Second)
	t.Logf("baseline after warm-up: %d goroutines, HeapInuse %s, %d certificates", baseG, loadgen.FormatBytes(float64(baseHeap)), len(r.book.all))

	// The run: closed loops with no pause, each user well over its rate.
	runCtx, stop := context.WithTimeout(t.Context(), duration)
	defer stop()
	var wg sync.WaitGroup
	start := time.Now()
	for _, w := range workers {
		wg.Go(func() {
			for runCtx.Err() == nil {
				op := soakOp(w.rng.IntN(int(numSoakOps)))
				t0 := time.Now()
				// Calls use the test's context, not runCtx: the deadline
				// stops new calls, never one under way.
				err := w.step(t.Context(), op)
				d := time.Since(t0)
				switch {
				case err == nil:
					w.stats.accepted[op].Record(d)
				case errors.Is(err, errThrottled):
					w.stats.throttled[op].Record(d)
				case errors.Is(err, errSkipped):
				default:
					r.fail(op, err)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(duration + 2*soakCallTimeout):
		t.Fatalf("workers still busy %v after the end of the run:\n%s", 2*soakCallTimeout, goroutineDump())
	}
	elapsed := time.Since(start)

	// Figures.
	var all soakStats
	for _, w := range workers {
		all.merge(&w.stats)
	}
	var nOK, nThrottled, nSigned uint64
	t.Logf("%d users x %d workers for %v at %d requests/s per user and action", soakUsers, soakWorkersPerUser, elapsed.Round(time.Millisecond), soakQPS)
	t.Logf("%-31s %8s %9s %8s %8s %8s %9s %8s %8s", "operation", "accepted", "per s", "p50", "p99", "max", "throttled", "p50", "p99")
	ms := func(d time.Duration) string { return loadgen.FormatMillis(loadgen.Millis(d)) }
	for op := range numSoakOps {
		a, th := &all.accepted[op], &all.throttled[op]
		nOK += a.Count()
		nThrottled += th.Count()
		if op <= opDescribe {
			nSigned += a.Count() + th.Count()
		}
		t.Logf("%-31s %8d %9.1f %8s %8s %8s %9d %8s %8s", soakOpNames[op], a.Count(), float64(a.Count())/elapsed.Seconds(),
			ms(a.Quantile(0.5)), ms(a.Quantile(0.99)), ms(a.Max()), th.Count(), ms(th.Quantile(0.5)), ms(th.Quantile(0.99)))
	}
	revoked := 0
	for _, c := range r.book.all {
		if s, _ := r.book.view(c); s == stRevoked {
			revoked++
		}
	}
	t.Logf("total: %d accepted, %d throttled, %d failed; %d certificates issued, %d revoked",
		nOK, nThrottled, r.failed.Load(), len(r.book.all), revoked)
	if n := r.failed.Load(); n > 0 {
		t.Errorf("%d calls failed with something other than throttling; the first:\n  %s", n, strings.Join(r.samples, "\n  "))
	}

	// The CRL catches up with every revocation.
	var crl *x509.RevocationList
	for deadline := time.Now().Add(10 * time.Second); ; {
		var err error
		if crl, err = r.fetchCRL(t.Context()); err != nil {
			t.Fatalf("final CRL: %v", err)
		}
		if len(crl.RevokedCertificateEntries) == revoked || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(crl.RevokedCertificateEntries) != revoked {
		t.Errorf("final CRL lists %d certificates, the test revoked %d", len(crl.RevokedCertificateEntries), revoked)
	}

	// Leaks: drop what the test holds, then compare with the baseline.
	r.book, workers = nil, nil
	gotG, gotHeap := quiesce(hc, baseG+soakGoroutineSlack, 10*time.Second)
	// The in-process signature nonce cache holds every signed request for
	// openapi.NonceTTL (30 min): memory bounded by rate x TTL by design, so
	// it is allowed for on top of the slack.
	heapLimit := baseHeap + max(baseHeap/2, soakHeapSlackBytes) + nSigned*soakNonceBytes
	t.Logf("after the run: %d goroutines (baseline %d), HeapInuse %s (baseline %s, limit %s including %s for %d nonces)", gotG, baseG,
		loadgen.FormatBytes(float64(gotHeap)), loadgen.FormatBytes(float64(baseHeap)), loadgen.FormatBytes(float64(heapLimit)),
		loadgen.FormatBytes(float64(nSigned*soakNonceBytes)), nSigned)
	if gotG > baseG+soakGoroutineSlack {
		t.Errorf("%d goroutines after the run, %d at the baseline (slack %d):\n%s", gotG, baseG, soakGoroutineSlack, goroutineDump())
	}
	if gotHeap > heapLimit {
		t.Errorf("HeapInuse %s after the run, %s at the baseline: over the limit of %s", loadgen.FormatBytes(float64(gotHeap)),
			loadgen.FormatBytes(float64(baseHeap)), loadgen.FormatBytes(float64(heapLimit)))
	}
}
