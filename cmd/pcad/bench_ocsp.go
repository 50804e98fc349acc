package main

// pcad bench ocsp: OCSP responses per second and their latency over HTTP:
// cached answers by POST and by GET, and answers signed per request
// because each carries a fresh nonce.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/pcad-dev/pcad/internal/loadgen"
	"github.com/pcad-dev/pcad/internal/pki"
)

// benchOCSP runs `pcad bench ocsp`.
func benchOCSP(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o benchOpts
	fs := newBenchFlags("ocsp", stderr, &o, 16, 10*time.Second)
	certs := fs.Int("certs", 200, "certificates issued (one in four revoked); the questions cycle over them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.check(fs); err != nil {
		return err
	}
	if *certs < 4 {
		return errors.New("bench ocsp: --certs must be at least 4")
	}
	r := newBenchRun("ocsp", args, o, stdout, stderr)
	defer r.close()
	r.report.Settings["clients"] = fmt.Sprint(o.clients)
	r.report.Settings["duration_per_scenario"] = o.duration.String()
	r.report.Settings["certs"] = fmt.Sprint(*certs)

	srv, api, sub, err := r.startWithHierarchy(ctx, 2*o.clients+2)
	if err != nil {
		return err
	}
	defer api.close()
	r.logf("issuing %d certificates and revoking one in four", *certs)
	qs, err := ocspQuestions(ctx, api, sub, *certs)
	if err != nil {
		return err
	}
	// Every question once by POST, checked in full (this also fills the
	// cache), then by GET, which must get the very same bytes.
	for _, q := range qs {
		body, err := ocspPost(ctx, api, q.der)
		if err != nil {
			return err
		}
		if err := q.check(body, nil); err != nil {
			return err
		}
		q.cached = body
		if body, _, err = api.get(ctx, q.getPath); err != nil {
			return fmt.Errorf("OCSP GET: %w", err)
		}
		if !bytes.Equal(body, q.cached) {
			return fmt.Errorf("bench ocsp: the GET answer for %x differs from the POST answer: the cache did not serve it", q.cert.SerialNumber)
		}
	}

	var next atomic.Uint64 // spreads the clients over the questions
	pick := func() *ocspQuestion { return qs[next.Add(1)%uint64(len(qs))] }
	var resigned atomic.Int64
	// cached: the same bytes as the first answer, or (if the cache was
	// refreshed meanwhile) a new answer that checks in full.
	cached := func(get bool) loadgen.Op {
		return func(ctx context.Context, _ int) error {
			q := pick()
			var body []byte
			var err error
			if get {
				var ctype string
				if body, ctype, err = api.get(ctx, q.getPath); err == nil && ctype != "application/ocsp-response" {
					err = fmt.Errorf("OCSP GET answered %q", ctype)
				}
			} else {
				body, err = ocspPost(ctx, api, q.der)
			}
			if err != nil {
				return err
			}
			if !bytes.Equal(body, q.cached) {
				resigned.Add(1)
				return q.check(body, nil)
			}
			return nil
		}
	}
	// nonced: a fresh 16-byte nonce each time, which the answer must echo;
	// one answer in 64 is also checked in full.
	rngs := make([]*rand.ChaCha8, o.clients)
	for i := range rngs {
		rngs[i] = rand.NewChaCha8([32]byte{'o', 'c', 's', 'p', byte(i), byte(i >> 8)})
	}
	var nonced atomic.Int64
	nonce := func(ctx context.Context, w int) error {
		q := pick()
		n := make([]byte, 16)
		rngs[w].Read(n)
		req, err := q.withNonce(n)
		if err != nil {
			return err
		}
		body, err := ocspPost(ctx, api, req)
		if err != nil {
			return err
		}
		if !bytes.Contains(body, n) {
			return fmt.Errorf("OCSP answer for %x does not echo the nonce", q.cert.SerialNumber)
		}
		if nonced.Add(1)%64 == 1 {
			return q.check(body, n)
		}
		return nil
	}
	for _, s := range []struct {
		name string
		op   loadgen.Op
	}{{"ocsp/cached-post", cached(false)}, {"ocsp/cached-get", cached(true)}, {"ocsp/nonce-post", nonce}} {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.logf("%s with %d clients for %v", s.name, o.clients, o.duration)
		res, err := runLoad(ctx, srv, loadgen.Options{Name: s.name, Workers: o.clients, Duration: o.duration, MaxErrors: 100}, s.op)
		if err != nil {
			return err
		}
		res.Extra = fmt.Sprintf("%d clients, %d questions; %s", o.clients, len(qs), cpuExtra(res))
		r.report.Add(res)
	}
	if err := srv.alive(); err != nil {
		return err
	}
	r.recordServerMemory(srv)
	r.report.Note("Cached answers must be byte-identical to the first (checked) answer; %d were re-signed meanwhile and checked in full.", resigned.Load())
	r.report.Note("Nonce answers must echo their nonce; one in 64 is parsed and its signature and status checked.")
	return r.finish()
}

// ocspQuestion is one OCSP request the benchmark asks over and over.
type ocspQuestion struct {
	cert, issuer *x509.Certificate
	want         int           // ocsp.Good or ocsp.Revoked
	der          []byte        // the request, without a nonce
	getPath      string        // the GET path of der
	single       asn1.RawValue // der's one Request, for nonce variants
	cached       []byte        // the first answer to der
}

// ocspQuestions issues n server certificates under sub through the API,
// revokes every fourth, and makes one question per certificate (CertID
// hash SHA-1 and SHA-256 in turn).
func ocspQuestions(ctx context.Context, api *benchAPI, sub benchCA, n int) ([]*ocspQuestion, error) {
	var qs []*ocspQuestion
	for i := range n {
		var ans struct{ Identifier, X509Certificate string }
		if err := api.call(ctx, "CreateServerCertificate", url.Values{"ParentIdentifier": {sub.ID}, "Algorithm": {"ECC_256"},
			"CommonName": {fmt.Sprintf("h%d.ocsp.example.com", i)}, "Days": {"30"}, "Immediately": {"1"}}, &ans); err != nil {
			return nil, err
		}
		cert, err := parseCertPEM(ans.X509Certificate)
		if err != nil {
			return nil, fmt.Errorf("CreateServerCertificate: %w", err)
		}
		q := &ocspQuestion{cert: cert, issuer: sub.Cert, want: ocsp.Good}
		if i%4 == 3 {
			if err := api.call(ctx, "CreateRevokeClientCertificate", url.Values{"Identifier": {ans.Identifier}}, nil); err != nil {
				return nil, err
			}
			q.want = ocsp.Revoked
		}
		hash := crypto.SHA1
		if i%2 == 1 {
			hash = crypto.SHA256
		}
		if q.der, err = ocsp.CreateRequest(cert, sub.Cert, &ocsp.RequestOptions{Hash: hash}); err != nil {
			return nil, err
		}
		var in struct {
			TBS struct{ RequestList []asn1.RawValue }
		}
		if rest, err := asn1.Unmarshal(q.der, &in); err != nil || len(rest) > 0 || len(in.TBS.RequestList) != 1 {
			return nil, fmt.Errorf("bench ocsp: unexpected request encoding: %v", err)
		}
		q.single = in.TBS.RequestList[0]
		q.getPath = "/pki/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString(q.der))
		qs = append(qs, q)
	}
	return qs, nil
}

// withNonce is q's request with a nonce extension carrying nonce.
func (q *ocspQuestion) withNonce(nonce []byte) ([]byte, error) {
	return ocspRequestWithNonce(q.single, nonce)
}

// ocspRequestWithNonce is an unsigned OCSP request asking about the one
// certificate single (a DER Request) with a nonce extension (RFC 8954).
func ocspRequestWithNonce(single asn1.RawValue, nonce []byte) ([]byte, error) {
	v, err := asn1.Marshal(nonce)
	if err != nil {
		return nil, err
	}
	var req struct {
		TBS struct {
			RequestList []asn1.RawValue
			Extensions  []pkix.Extension `asn1:"explicit,tag:2"`
		}
	}
	req.TBS.RequestList = []asn1.RawValue{single}
	req.TBS.Extensions = []pkix.Extension{{Id: pki.OIDOCSPNonce, Value: v}}
	return asn1.Marshal(req)
}

// check parses and verifies an answer for q (signed for q's issuer, about
// q's certificate, with q's status) and checks that it echoes nonce
// (nil: that it carries none).
func (q *ocspQuestion) check(body, nonce []byte) error {
	resp, err := ocsp.ParseResponseForCert(body, q.cert, q.issuer)
	if err != nil {
		return fmt.Errorf("OCSP answer for %x: %w", q.cert.SerialNumber, err)
	}
	if resp.Status != q.want {
		return fmt.Errorf("OCSP status for %x: %d, want %d", q.cert.SerialNumber, resp.Status, q.want)
	}
	got, err := ocspResponseNonce(body)
	if err != nil {
		return fmt.Errorf("OCSP answer for %x: %w", q.cert.SerialNumber, err)
	}
	if !bytes.Equal(got, nonce) {
		return fmt.Errorf("OCSP answer for %x echoes nonce %x, want %x", q.cert.SerialNumber, got, nonce)
	}
	return nil
}

// ocspResponseNonce returns the nonce in a DER OCSP response's
// responseExtensions (nil when there is none), which golang.org/x/crypto/ocsp
// does not expose.
func ocspResponseNonce(der []byte) ([]byte, error) {
	var resp struct {
		Status asn1.Enumerated
		Bytes  struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(der, &resp); err != nil {
		return nil, fmt.Errorf("OCSPResponse: %w", err)
	}
	var basic struct{ TBS asn1.RawValue }
	if _, err := asn1.Unmarshal(resp.Bytes.Response, &basic); err != nil {
		return nil, fmt.Errorf("BasicOCSPResponse: %w", err)
	}
	var data struct {
		Version     int `asn1:"explicit,tag:0,default:0,optional"`
		ResponderID asn1.RawValue
		ProducedAt  time.Time `asn1:"generalized"`
		Responses   asn1.RawValue
		Extensions  []pkix.Extension `asn1:"explicit,tag:1,optional"`
	}
	if _, err := asn1.Unmarshal(basic.TBS.FullBytes, &data); err != nil {
		return nil, fmt.Errorf("ResponseData: %w", err)
	}
	for _, e := range data.Extensions {
		if e.Id.Equal(pki.OIDOCSPNonce) {
			var n []byte
			if _, err := asn1.Unmarshal(e.Value, &n); err != nil {
				return nil, fmt.Errorf("nonce extension: %w", err)
			}
			return n, nil
		}
	}
	return nil, nil
}

// ocspPost sends a DER request to the responder by POST and returns the
// DER answer.
func ocspPost(ctx context.Context, api *benchAPI, der []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api.base.String()+"/pki/ocsp", bytes.NewReader(der))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/ocsp-request")
	body, ctype, err := api.do(req)
	if err != nil {
		return nil, fmt.Errorf("OCSP POST: %w", err)
	}
	if ctype != "application/ocsp-response" {
		return nil, fmt.Errorf("OCSP POST answered %q", ctype)
	}
	return body, nil
}
