package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"io"
	"math/big"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

// benchIssuer makes a P-256 root CA to sign benchmark CRLs.
func benchIssuer(b *testing.B) (*x509.Certificate, crypto.Signer) {
	b.Helper()
	key, err := GenerateKey(pca.ECC256, rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	is, err := NewRoot(rand.Reader, RootRequest{Subject: pca.Subject{CommonName: "pcad Bench Root"}, NotBefore: now, NotAfter: now.AddDate(10, 0, 0), Serial: big.NewInt(1)}, key)
	if err != nil {
		b.Fatal(err)
	}
	return is.Cert, key
}

// genEntries yields n entries made on the fly: 16-octet serials (17 in DER,
// like NewSerial's), one revocation a second before thisUpdate, a reason on
// five entries of six. It reuses one big.Int, as WriteCRL allows.
func genEntries(n int, thisUpdate time.Time) func(func(CRLEntry) error) error {
	return func(fn func(CRLEntry) error) error {
		base := new(big.Int).Lsh(big.NewInt(1), 127)
		serial, step := new(big.Int), new(big.Int)
		for i := range n {
			step.SetUint64(uint64(i+1) * 0x9E3779B97F4A7C15)
			serial.Add(base, step)
			if err := fn(CRLEntry{Serial: serial, RevokedAt: thisUpdate.Add(-time.Duration(i) * time.Second), Reason: i % 6}); err != nil {
				return err
			}
		}
		return nil
	}
}

// measure runs op b.N times while sampling the heap every 5 ms, and reports
// the peak HeapInuse seen (MB) and the bytes allocated per op (MB).
func measure(b *testing.B, op func()) {
	b.Helper()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	peak.Store(before.HeapInuse)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	})
	b.ResetTimer()
	for range b.N {
		op()
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	runtime.ReadMemStats(&after)
	if after.HeapInuse > peak.Load() {
		peak.Store(after.HeapInuse)
	}
	b.ReportMetric(float64(peak.Load())/1e6, "peak-heap-MB")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/1e6, "alloc-MB/op")
}

func benchWriteCRL(b *testing.B, n int) {
	issuer, key := benchIssuer(b)
	this := time.Now().Truncate(time.Second)
	tmpl := CRLTemplate{Number: big.NewInt(42), ThisUpdate: this, NextUpdate: this.Add(7 * 24 * time.Hour)}
	entries := genEntries(n, this)
	b.ReportAllocs()
	var size int64
	measure(b, func() {
		var err error
		if size, err = WriteCRL(io.Discard, rand.Reader, tmpl, issuer, key, entries); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(size)/1e6, "crl-MB")
}

// BenchmarkWriteCRL1M streams a 1,000,000-entry CRL into io.Discard.
func BenchmarkWriteCRL1M(b *testing.B) { benchWriteCRL(b, 1_000_000) }

// BenchmarkCreateCRL1M adds 1,000,000 entries (given as hex, as the store
// keeps serials) to a CRLEntries and makes the CRL in memory with
// CreateCRL, as the service does; both count in the time and the heap.
func BenchmarkCreateCRL1M(b *testing.B) {
	const n = 1_000_000
	issuer, key := benchIssuer(b)
	this := time.Now().Truncate(time.Second)
	tmpl := CRLTemplate{Number: big.NewInt(42), ThisUpdate: this, NextUpdate: this.Add(7 * 24 * time.Hour)}
	type row struct {
		serial string
		at     time.Time
		reason int
	}
	rows := make([]row, 0, n)
	if err := genEntries(n, this)(func(e CRLEntry) error {
		rows = append(rows, row{e.Serial.Text(16), e.RevokedAt, e.Reason})
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var size int
	measure(b, func() {
		var l CRLEntries
		for _, r := range rows {
			if err := l.AddHex(r.serial, r.at, r.reason); err != nil {
				b.Fatal(err)
			}
		}
		der, err := CreateCRL(rand.Reader, tmpl, issuer, key, &l)
		if err != nil {
			b.Fatal(err)
		}
		size = len(der)
	})
	b.ReportMetric(float64(size)/1e6, "crl-MB")
}

// BenchmarkWriteCRL100k is WriteCRL at the size of
// BenchmarkCRLCreateRevocationList100k, for comparison.
func BenchmarkWriteCRL100k(b *testing.B) { benchWriteCRL(b, 100_000) }

// BenchmarkCRLCreateRevocationList100k builds a 100,000-entry CRL with
// crypto/x509, which needs every entry in memory (the template's entries are
// built before the timer starts but count in the peak heap).
func BenchmarkCRLCreateRevocationList100k(b *testing.B) {
	issuer, key := benchIssuer(b)
	this := time.Now().Truncate(time.Second)
	tmpl := &x509.RevocationList{Number: big.NewInt(42), ThisUpdate: this, NextUpdate: this.Add(7 * 24 * time.Hour)}
	if err := genEntries(100_000, this)(func(e CRLEntry) error {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: new(big.Int).Set(e.Serial), RevocationTime: e.RevokedAt, ReasonCode: e.Reason})
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var size int
	measure(b, func() {
		der, err := x509.CreateRevocationList(rand.Reader, tmpl, issuer, key)
		if err != nil {
			b.Fatal(err)
		}
		size = len(der)
	})
	b.ReportMetric(float64(size)/1e6, "crl-MB")
}
