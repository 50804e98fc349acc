package main

// pcad bench crl: how long the server takes to build the CRL of a sub-CA
// with many revocations, its peak memory meanwhile, and how fast the CRL is
// served.

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"time"

	"github.com/pcad-dev/pcad/internal/loadgen"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
	"github.com/pcad-dev/pcad/internal/store/seedgen"
)

// benchCRL runs `pcad bench crl`.
func benchCRL(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o benchOpts
	fs := newBenchFlags("crl", stderr, &o, 0, 0)
	revoked := fs.Int("revoked", 1_000_000, "revoked certificates on the CRL")
	fetches := fs.Int("fetches", 5, "downloads of the built CRL to time")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up when the CRL is not built within this time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.check(fs); err != nil {
		return err
	}
	if *revoked < 1 || *fetches < 1 {
		return errors.New("bench crl: --revoked and --fetches must be at least 1")
	}
	r := newBenchRun("crl", args, o, stdout, stderr)
	defer r.close()
	r.report.Settings["revoked"] = fmt.Sprint(*revoked)

	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	st, err := r.freshStore(ctx, "")
	if err != nil {
		return err
	}
	seed, err := seedCRLStore(ctx, st, "http://"+addr, *revoked, r.stderr)
	if err != nil {
		return err
	}

	// The server's first poll finds the sub-CA's CRL stale (its revocation
	// sequence moved) and rebuilds it from the store: time that, and the
	// memory it took, until the API reports the new CRL.
	r.logf("starting the server on %s (%s); it rebuilds the CRL of %d revocations at start", addr, r.report.Settings["store"], *revoked)
	srv, err := r.startServer(ctx, st, addr)
	if err != nil {
		return err
	}
	id, secret, err := benchCredentials(filepath.Join(st.dir, "credentials.ini"))
	if err != nil {
		return err
	}
	api := newBenchAPI(srv.base, id, secret, 4)
	defer api.close()
	cpuReady, cpuErr := loadgen.ReadProcCPU(srv.pid())
	deadline := time.Now().Add(*timeout)
	var info struct{ HashCode, CrlUrl string }
	for {
		if err := api.call(ctx, "GetCaInstanceCrlAddress", url.Values{"CaIdentifier": {seed.sub}}, &info); err != nil {
			return err
		}
		if info.HashCode != seed.oldHash {
			break
		}
		if err := srv.alive(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench crl: no new CRL after %v", *timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	built := time.Now()
	buildMem, memErr := srv.memory()
	cpuBuilt, cpuErr2 := loadgen.ReadProcCPU(srv.pid())

	// The CRL as a client gets it: signed by the sub-CA, every entry there.
	u, err := url.Parse(info.CrlUrl)
	if err != nil || u.Path == "" {
		return fmt.Errorf("bench crl: CrlUrl %q", info.CrlUrl)
	}
	t0 := time.Now()
	der, ctype, err := api.get(ctx, u.Path)
	if err != nil {
		return fmt.Errorf("bench crl: download: %w", err)
	}
	first := time.Since(t0)
	if ctype != "application/pkix-crl" {
		return fmt.Errorf("bench crl: CRL served as %q", ctype)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return fmt.Errorf("bench crl: the CRL does not parse: %w", err)
	}
	if err := crl.CheckSignatureFrom(seed.subCert); err != nil {
		return fmt.Errorf("bench crl: CRL signature: %w", err)
	}
	if n := len(crl.RevokedCertificateEntries); n != *revoked {
		return fmt.Errorf("bench crl: the CRL has %d entries, want %d", n, *revoked)
	}
	if !crl.NextUpdate.After(time.Now()) {
		return fmt.Errorf("bench crl: CRL NextUpdate %v has passed", crl.NextUpdate)
	}

	build := loadgen.Single("crl/build", built.Sub(srv.ready))
	build.PerSecond = float64(*revoked) / built.Sub(srv.ready).Seconds() // entries per second
	build.SetFigure("entries", float64(*revoked))
	build.SetFigure("crl_bytes", float64(len(der)))
	build.SetFigure("after_process_start_ms", loadgen.Millis(built.Sub(srv.start)))
	build.Extra = fmt.Sprintf("%d entries, %s; per-second is entries/s", *revoked, loadgen.FormatBytes(float64(len(der))))
	if memErr == nil {
		build.SetFigure("server_peak_rss_bytes", float64(buildMem.PeakRSS))
		build.Extra += ", server peak RSS " + loadgen.FormatBytes(float64(buildMem.PeakRSS))
	}
	if cpuErr == nil && cpuErr2 == nil {
		// CPU the server used meanwhile (the build, and answering the polls).
		build.SetFigure("server_cpu_ms", loadgen.Millis(cpuBuilt-cpuReady))
		build.Extra += ", server CPU " + loadgen.FormatMillis(loadgen.Millis(cpuBuilt-cpuReady))
	}
	r.report.Add(build)

	// Serving: whole downloads, one at a time, each the same bytes.
	fetch := func(ctx context.Context, _ int) error {
		b, _, err := api.get(ctx, u.Path)
		if err != nil {
			return err
		}
		if !bytes.Equal(b, der) {
			return fmt.Errorf("CRL download of %d bytes differs from the first (%d bytes)", len(b), len(der))
		}
		return nil
	}
	res, err := runLoad(ctx, srv, loadgen.Options{Name: "crl/fetch", Workers: 1, Requests: int64(*fetches), MaxErrors: 1}, fetch)
	if err != nil {
		return err
	}
	res.SetFigure("first_download_ms", loadgen.Millis(first))
	res.SetFigure("mib_per_second", float64(len(der))*res.PerSecond/(1<<20))
	res.Extra = fmt.Sprintf("whole CRL over HTTP, %.0f MiB/s; %s", float64(len(der))*res.PerSecond/(1<<20), cpuExtra(res))
	r.report.Add(res)
	if err := srv.alive(); err != nil {
		return err
	}
	r.recordServerMemory(srv)
	r.report.Note("crl/build runs from the server's first /readyz answer until GetCaInstanceCrlAddress reports the new CRL (polled every 10 ms);")
	r.report.Note("the CRL was downloaded, parsed, its signature checked against the sub-CA and its %d entries counted.", *revoked)
	return r.finish()
}

// crlSeed is what the CRL benchmark knows of its seeded store.
type crlSeed struct {
	sub     string            // the sub-CA's identifier
	subCert *x509.Certificate // its certificate
	oldHash string            // GetCaInstanceCrlAddress HashCode of its CRL before the revocations
}

// seedCRLStore makes the first account, a root and a sub-CA publishing a
// CRL through the service, builds the sub-CA's first (empty) CRL, then revokes n
// certificates of the sub-CA through the bulk path (revoked records:
// BulkInsertCertificates writes each one's revocation and moves the CA's
// revocation sequence, as a revocation does), with a progress bar.
func seedCRLStore(ctx context.Context, st benchStore, publicURL string, n int, progressOut io.Writer) (seed crlSeed, err error) {
	a, act, err := openSeedApp(ctx, st, publicURL)
	if err != nil {
		return seed, err
	}
	defer func() {
		if cerr := a.store.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	subject := func(cn string) pca.Subject {
		return pca.Subject{CommonName: cn, Organization: "pcad", OrganizationUnit: "Bench", Locality: "Hangzhou", State: "Zhejiang", Country: "CN"}
	}
	root, err := a.svc.CreateRootCA(ctx, act, service.RootCARequest{Subject: subject("pcad CRL Bench Root"), Years: 10, Algorithm: pca.ECC256})
	if err != nil {
		return seed, fmt.Errorf("bench crl: root CA: %w", err)
	}
	sub, err := a.svc.CreateSubCA(ctx, act, service.SubCARequest{ParentIdentifier: root.Identifier, Subject: subject("pcad CRL Bench Sub"),
		Years: 5, Algorithm: pca.ECC256, EnableCRL: true, CRLDays: 7})
	if err != nil {
		return seed, fmt.Errorf("bench crl: sub-CA: %w", err)
	}
	if seed.subCert, err = x509.ParseCertificate(sub.DER); err != nil {
		return seed, err
	}
	seed.sub = sub.Identifier
	// CRLInfo builds the sub-CA's first CRL. (Not svc.Poll: that would take
	// the background lease for this process, and the server would wait for
	// it to expire before rebuilding anything.)
	info, err := a.svc.CRLInfo(ctx, act, "CaIdentifier", sub.Identifier)
	if err != nil {
		return seed, fmt.Errorf("bench crl: first CRL: %w", err)
	}
	seed.oldHash = info.HashCode
	inst, err := a.store.GetInstance(ctx, act.AccountID, sub.InstanceUUID)
	if err != nil {
		return seed, fmt.Errorf("bench crl: instance of the sub-CA: %w", err)
	}

	g := seedgen.New(2)
	now := time.Now().UTC()
	t0 := now.AddDate(-1, 0, 0) // issued over the last year, each revoked a day later
	step := 365 * 24 * time.Hour / time.Duration(n)
	bar := newBenchProgress(progressOut, "revoking certificates", n)
	batch := make([]pca.Certificate, 0, listSeedBatch)
	for i := range n {
		created := t0.Add(time.Duration(i) * step).Truncate(time.Millisecond)
		c, err := g.Cert(sub, inst.ID, i, created)
		if err != nil {
			return seed, err
		}
		// Still valid (expired entries leave the CRL) and revoked before now.
		c.NotAfter = created.Truncate(time.Second).AddDate(2, 0, 0)
		if c.Status != pca.StatusRevoke {
			g.Revoke(&c, created.Add(24*time.Hour))
		}
		if c.RevokedAt.After(now) {
			c.RevokedAt, c.Changed = now.Add(-time.Minute).Truncate(time.Millisecond), now.Add(-time.Minute).Truncate(time.Millisecond)
		}
		batch = append(batch, c)
		if len(batch) == cap(batch) || i == n-1 {
			if err := ctx.Err(); err != nil {
				return seed, err
			}
			if err := a.store.BulkInsertCertificates(ctx, batch); err != nil {
				return seed, fmt.Errorf("bench crl: bulk insert: %w", err)
			}
			batch = batch[:0]
			bar.update(i + 1)
		}
	}
	bar.finish(n)
	return seed, nil
}
