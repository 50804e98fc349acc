package main

// pcad bench issue: certificates per second through the API, against the
// in-process ceiling of the same signing work.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/loadgen"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
)

// issueCN is the common name of every benchmark certificate.
const issueCN = "bench.example.com"

// benchIssue runs `pcad bench issue`.
func benchIssue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o benchOpts
	fs := newBenchFlags("issue", stderr, &o, 4, 15*time.Second)
	keygen := fs.Bool("keygen", false, "call CreateServerCertificate (the server makes each ECC_256 key) instead of CreateServerCertificateWithCsr")
	ceiling := fs.Duration("ceiling", 2*time.Second, "how long the in-process ceiling runs (0: skip it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.check(fs); err != nil {
		return err
	}
	if *ceiling < 0 {
		return errors.New("bench issue: --ceiling must not be negative")
	}
	r := newBenchRun("issue", args, o, stdout, stderr)
	defer r.close()
	mode := "csr"
	if *keygen {
		mode = "keygen"
	}
	r.report.Settings["mode"] = mode
	r.report.Settings["algorithm"] = "ECC_256"
	r.report.Settings["clients"] = fmt.Sprint(o.clients)
	r.report.Settings["duration"] = o.duration.String()

	csrKey, csrPEM, err := benchCSR()
	if err != nil {
		return err
	}

	// The ceiling first, while no server runs: it takes every core.
	var ceil loadgen.Result
	if *ceiling > 0 {
		r.logf("in-process ceiling: parse, check and sign on %d cores for %v", runtime.GOMAXPROCS(0), *ceiling)
		if ceil, err = issueCeiling(ctx, *ceiling, csrPEM, *keygen); err != nil {
			return err
		}
	}

	srv, api, sub, err := r.startWithHierarchy(ctx, 2*o.clients+2)
	if err != nil {
		return err
	}
	defer api.close()
	op := newIssueOp(api, sub, o.clients, *keygen, csrKey.Public(), csrPEM)

	// A few calls per client first: connections, caches, the first pages
	// of the store.
	warm, err := loadgen.Run(ctx, loadgen.Options{Workers: o.clients, Requests: int64(10 * o.clients), MaxErrors: 1}, op.do)
	if err != nil {
		return err
	}
	if warm.Errors > 0 {
		return fmt.Errorf("bench issue: warm-up: %s", warm.FirstError)
	}
	if m, err := srv.memory(); err == nil {
		r.report.SetFigure("server_rss_before_load_bytes", float64(m.RSS))
	}
	r.logf("issuing with %d clients for %v (%s)", o.clients, o.duration, op.action)
	res, err := runLoad(ctx, srv, loadgen.Options{Name: "issue/" + mode, Workers: o.clients, Duration: o.duration, MaxErrors: 100}, op.do)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := srv.alive(); err != nil {
		return err
	}
	r.recordServerMemory(srv)

	// Every answer named a new serial, and the store holds exactly the
	// certificates that were answered.
	if dup := op.duplicateSerial(); dup != "" {
		res.Errors++
		res.FirstError = "serial " + dup + " was answered twice"
	}
	issued := warm.Count + res.Count
	var list struct{ TotalCount int64 }
	if err := api.call(ctx, "ListCert", url.Values{"MaxResults": {"1"}, "Type": {"SERVER"}}, &list); err != nil {
		return err
	}
	if list.TotalCount != issued && res.Errors == 0 {
		res.Errors++
		res.FirstError = fmt.Sprintf("ListCert TotalCount %d after %d issued certificates", list.TotalCount, issued)
	}
	res.SetFigure("verified_in_full", float64(op.verified()))
	res.SetFigure("stored_total", float64(list.TotalCount))
	res.Extra = fmt.Sprintf("%d clients, %s", o.clients, op.action)
	if ceil.PerSecond > 0 {
		ratio := res.PerSecond / ceil.PerSecond
		res.SetFigure("ceiling_per_second", ceil.PerSecond)
		res.SetFigure("ratio_to_ceiling", ratio)
		res.Extra += fmt.Sprintf(", %.0f%% of the ceiling", 100*ratio)
		r.report.SetFigure("ratio_to_ceiling", ratio)
	}
	if e := cpuExtra(res); e != "" {
		res.Extra += "; " + e
	}
	r.report.Add(res)
	if ceil.Count > 0 {
		ceil.Extra = fmt.Sprintf("in process, %d cores, no HTTP and no store", ceil.Workers)
		if ms, ok := ceil.Figures["cpu_ms_per_call"]; ok {
			ceil.Extra += fmt.Sprintf("; CPU %s/call", loadgen.FormatMillis(ms))
			if srvMS, ok := res.Figures["server_cpu_ms_per_call"]; ok && srvMS > 0 {
				// Load-independent: the share of the server's CPU per
				// certificate that the signing work itself needs.
				r.report.SetFigure("cpu_ratio_to_ceiling", ms/srvMS)
			}
		}
		r.report.Add(ceil)
	}
	r.report.Note("%d certificates answered; %d of them checked in full (chain, key, serial, name); ListCert counts %d.",
		issued, op.verified(), list.TotalCount)
	return r.finish()
}

// benchCSR makes the P-256 key and the PEM certificate request every CSR
// call sends.
func benchCSR() (*ecdsa.PrivateKey, string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: issueCN, Organization: []string{"pcad Bench"}, Country: []string{"CN"}}}, key)
	if err != nil {
		return nil, "", fmt.Errorf("bench: make a CSR: %w", err)
	}
	return key, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})), nil
}

// issueOp is one issuance call of a client: CreateServerCertificateWithCsr
// with the same CSR each time, or CreateServerCertificate. Every answer
// must carry an identifier, a serial and a PEM certificate; every
// verifyEvery-th answer of each client (its first included) is checked in
// full: it parses, chains to the sub-CA, names issueCN, is for the CSR's
// key (or an ECDSA P-256 key) and carries the answered serial.
type issueOp struct {
	api         *benchAPI
	action      string
	params      url.Values // read-only once built
	sub         *x509.Certificate
	pub         crypto.PublicKey // the CSR's key; nil with keygen
	verifyEvery int
	workers     []issueWorker
}

// issueWorker is one client's state; only that client touches it until the
// run ends.
type issueWorker struct {
	n        int
	verified int
	serials  [][2]uint64 // 16 bytes a certificate, however long the run
}

// serialBits parses a serial of at most 128 bits from its hex answer.
func serialBits(hexSerial string) ([2]uint64, error) {
	var out [2]uint64
	if n := len(hexSerial); n == 0 || n > 32 {
		return out, fmt.Errorf("serial %q is not 1 to 32 hex digits", hexSerial)
	}
	hi, lo := "", hexSerial
	if len(hexSerial) > 16 {
		hi, lo = hexSerial[:len(hexSerial)-16], hexSerial[len(hexSerial)-16:]
	}
	var err error
	if hi != "" {
		if out[0], err = strconv.ParseUint(hi, 16, 64); err != nil {
			return out, fmt.Errorf("serial %q: %w", hexSerial, err)
		}
	}
	if out[1], err = strconv.ParseUint(lo, 16, 64); err != nil {
		return out, fmt.Errorf("serial %q: %w", hexSerial, err)
	}
	return out, nil
}

// newIssueOp makes the call of clients clients under the sub-CA sub (its
// identifier and certificate).
func newIssueOp(api *benchAPI, sub benchCA, clients int, keygen bool, pub crypto.PublicKey, csrPEM string) *issueOp {
	o := &issueOp{api: api, sub: sub.Cert, verifyEvery: 50, workers: make([]issueWorker, clients)}
	o.params = url.Values{"ParentIdentifier": {sub.ID}, "Days": {"30"}, "Immediately": {"1"}}
	if keygen {
		o.action = "CreateServerCertificate"
		o.params.Set("Algorithm", "ECC_256")
		o.params.Set("CommonName", issueCN)
	} else {
		o.action = "CreateServerCertificateWithCsr"
		o.params.Set("Csr", csrPEM)
		o.pub = pub
	}
	return o
}

func (o *issueOp) do(ctx context.Context, worker int) error {
	body, err := o.api.callRaw(ctx, o.action, o.params)
	if err != nil {
		return err
	}
	var ans struct{ Identifier, SerialNumber, X509Certificate string }
	if err := json.Unmarshal(body, &ans); err != nil {
		return fmt.Errorf("%s: decode answer: %w", o.action, err)
	}
	if ans.Identifier == "" || ans.SerialNumber == "" || !strings.HasPrefix(ans.X509Certificate, "-----BEGIN CERTIFICATE-----") {
		return fmt.Errorf("%s: answer without Identifier, SerialNumber or certificate: %.300s", o.action, body)
	}
	serial, err := serialBits(ans.SerialNumber)
	if err != nil {
		return fmt.Errorf("%s: %w", o.action, err)
	}
	w := &o.workers[worker]
	w.serials = append(w.serials, serial)
	if w.n%o.verifyEvery == 0 {
		if err := o.verify(ans.SerialNumber, ans.X509Certificate); err != nil {
			return err
		}
		w.verified++
	}
	w.n++
	return nil
}

// verify checks one issued certificate in full.
func (o *issueOp) verify(serial, certPEM string) error {
	c, err := parseCertPEM(certPEM)
	if err != nil {
		return fmt.Errorf("%s: %w", o.action, err)
	}
	if err := c.CheckSignatureFrom(o.sub); err != nil {
		return fmt.Errorf("%s: certificate not signed by the sub-CA: %w", o.action, err)
	}
	if got := c.SerialNumber.Text(16); got != serial {
		return fmt.Errorf("%s: certificate serial %s, answer says %s", o.action, got, serial)
	}
	if c.Subject.CommonName != issueCN || !slices.Contains(c.DNSNames, issueCN) {
		return fmt.Errorf("%s: certificate for %q (SANs %v), want %s", o.action, c.Subject.CommonName, c.DNSNames, issueCN)
	}
	if !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
		return fmt.Errorf("%s: certificate without serverAuth", o.action)
	}
	if o.pub != nil {
		if k, ok := o.pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(c.PublicKey) {
			return fmt.Errorf("%s: certificate is not for the CSR's key", o.action)
		}
	} else if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		return fmt.Errorf("%s: certificate key %T is not ECDSA P-256", o.action, c.PublicKey)
	}
	return nil
}

// verified is the number of answers checked in full. Call it after the run.
func (o *issueOp) verified() int {
	n := 0
	for _, w := range o.workers {
		n += w.verified
	}
	return n
}

// duplicateSerial returns a serial (hex) answered more than once ("" if
// none). Call it after the run.
func (o *issueOp) duplicateSerial() string {
	seen := map[[2]uint64]bool{}
	for _, w := range o.workers {
		for _, s := range w.serials {
			if seen[s] {
				return new(big.Int).Or(new(big.Int).Lsh(new(big.Int).SetUint64(s[0]), 64), new(big.Int).SetUint64(s[1])).Text(16)
			}
			seen[s] = true
		}
	}
	return ""
}

// issueCeiling measures the signing work of one issuance in this process
// on every core for d: for the CSR path, parse and check the request
// (pki.ParseCSR), take its subject, check the names and the validity,
// draw a serial and sign with the check-before-sign issuer (pki.NewLeaf)
// under an ECC_256 sub-CA, the steps internal/service runs for
// CreateServerCertificateWithCsr without the store; with keygen, a new
// ECC_256 key instead of the CSR.
func issueCeiling(ctx context.Context, d time.Duration, csrPEM string, keygen bool) (loadgen.Result, error) {
	subject := func(cn string) pca.Subject {
		return pca.Subject{CommonName: cn, Organization: "pcad", OrganizationUnit: "Bench", Locality: "Hangzhou", State: "Zhejiang", Country: "CN"}
	}
	now := time.Now()
	rootKey, err := pki.GenerateKey(pca.ECC256, rand.Reader)
	if err != nil {
		return loadgen.Result{}, err
	}
	nb, na, err := pki.CAWindow(now, 10, time.Time{}, time.Time{})
	if err != nil {
		return loadgen.Result{}, err
	}
	serial, err := pki.NewSerial(rand.Reader)
	if err != nil {
		return loadgen.Result{}, err
	}
	root, err := pki.NewRoot(rand.Reader, pki.RootRequest{Subject: subject("pcad Ceiling Root"), NotBefore: nb, NotAfter: na, Serial: serial}, rootKey)
	if err != nil {
		return loadgen.Result{}, fmt.Errorf("bench: ceiling root: %w", err)
	}
	subKey, err := pki.GenerateKey(pca.ECC256, rand.Reader)
	if err != nil {
		return loadgen.Result{}, err
	}
	if nb, na, err = pki.CAWindow(now, 5, root.Cert.NotBefore, root.Cert.NotAfter); err != nil {
		return loadgen.Result{}, err
	}
	if serial, err = pki.NewSerial(rand.Reader); err != nil {
		return loadgen.Result{}, err
	}
	sub, err := pki.NewSubCA(rand.Reader, pki.SubCARequest{Subject: subject("pcad Ceiling Sub"), NotBefore: nb, NotAfter: na, Serial: serial,
		PublicKey: subKey.Public()}, root.Cert, rootKey)
	if err != nil {
		return loadgen.Result{}, fmt.Errorf("bench: ceiling sub-CA: %w", err)
	}
	// The URLs a leaf of a sub-CA without a CRL carries (see service.issuerURLs).
	ocspURLs := []string{"http://127.0.0.1:8080/pki/ocsp"}
	issuers := []string{"http://127.0.0.1:8080/pki/ca/019a0000-0000-7000-8000-000000000000.crt"}
	op := func(ctx context.Context, _ int) error {
		var pub crypto.PublicKey
		subj := subject(issueCN)
		if keygen {
			k, err := pki.GenerateKey(pca.ECC256, rand.Reader)
			if err != nil {
				return err
			}
			pub = k.Public()
		} else {
			csr, err := pki.ParseCSR("Csr", csrPEM)
			if err != nil {
				return err
			}
			if subj, _, err = pki.SubjectFromCSR("Csr", csr); err != nil {
				return err
			}
			if subj, err = pki.ValidateSubject(subj, "Country"); err != nil {
				return err
			}
			pub = csr.PublicKey
		}
		dns, ips, err := pki.ServerNames(subj.CommonName, "")
		if err != nil {
			return err
		}
		nb, na, err := pki.LeafWindow(time.Now(), pki.Validity{Days: 30}, sub.Cert.NotBefore, sub.Cert.NotAfter, 0)
		if err != nil {
			return err
		}
		serial, err := pki.NewSerial(rand.Reader)
		if err != nil {
			return err
		}
		_, err = pki.NewLeaf(rand.Reader, pki.LeafRequest{Profile: pki.ProfileServer, Subject: subj, NotBefore: nb, NotAfter: na,
			Serial: serial, DNSNames: dns, IPAddresses: ips, PublicKey: pub, OCSPServers: ocspURLs, IssuingCertificateURLs: issuers},
			sub.Cert, subKey)
		return err
	}
	name := "ceiling/csr"
	if keygen {
		name = "ceiling/keygen"
	}
	cpu0, err0 := loadgen.ReadProcCPU(os.Getpid())
	res, err := loadgen.Run(ctx, loadgen.Options{Name: name, Workers: runtime.GOMAXPROCS(0), Duration: d, MaxErrors: 1}, op)
	if err != nil {
		return res, err
	}
	if res.Errors > 0 {
		return res, fmt.Errorf("bench: the in-process ceiling failed: %s", res.FirstError)
	}
	if cpu1, err1 := loadgen.ReadProcCPU(os.Getpid()); err0 == nil && err1 == nil && res.Count > 0 {
		res.SetFigure("cpu_ms_per_call", loadgen.Millis(cpu1-cpu0)/float64(res.Count))
	}
	return res, nil
}
