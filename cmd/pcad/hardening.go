package main

// Limits and protections of the HTTP server against hostile or broken
// clients: header and time bounds, security headers, panic recovery and TLS.
// README.md, "Limits and hardening", documents them.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/metrics"
	"github.com/pcad-dev/pcad/internal/openapi"
)

// Bounds of the HTTP server.
const (
	// maxHeaderBytes bounds the request line (so the URL with its query
	// string: the official client sends a PEM CSR there) plus the headers.
	// An RSA 4096 CSR is about 6 KiB once percent-encoded. Beyond the bound
	// (Go allows 4 KiB of slack) the server answers 431 Request Header
	// Fields Too Large itself, in plain text, and closes the connection.
	maxHeaderBytes = 64 << 10

	defaultReadHeaderTimeout = 5 * time.Second  // request line and headers (slow-header clients)
	defaultReadTimeout       = 30 * time.Second // whole request, body (at most 1 MiB) included
	defaultWriteTimeout      = 2 * time.Minute  // from the end of the headers to the end of the answer
	defaultIdleTimeout       = 2 * time.Minute  // keep-alive connection between requests

	// shutdownGrace is how long a SIGTERM waits for calls in flight.
	shutdownGrace = 15 * time.Second
)

// serverTimeouts are the http.Server timeouts; a zero field takes its
// default. Tests shorten them; there is no flag.
type serverTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// newHTTPServer is the http.Server of `pcad serve` for handler h.
func newHTTPServer(cfg config, h http.Handler, logger *slog.Logger) *http.Server {
	or := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	t := cfg.timeouts
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: or(t.readHeader, defaultReadHeaderTimeout),
		ReadTimeout:       or(t.read, defaultReadTimeout),
		WriteTimeout:      or(t.write, defaultWriteTimeout),
		IdleTimeout:       or(t.idle, defaultIdleTimeout),
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// securityHeaders sets, before next runs, the security headers of every
// answer: nosniff, no referrer, no framing, and no caching unless next says
// otherwise (the CRL and CA-certificate endpoints do). Over TLS it adds
// Strict-Transport-Security. The console sets its own Content-Security-Policy.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// wrapHandler puts the protections around h (pkixhttp around the mux):
// security headers first, so that every answer has them, then the metrics,
// then panic recovery (counted as 5xx), then the trusted-proxy rewrite.
func wrapHandler(mx *metrics.Metrics, cfg config, logger *slog.Logger, h http.Handler) http.Handler {
	return securityHeaders(mx.Wrap(openapi.Recover(cfg.proxies.handler(h), logger)))
}

// checkTLSFlags checks --tls-cert, --tls-key and --tls-self together.
func checkTLSFlags(c config) error {
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return errors.New("--tls-cert and --tls-key go together")
	case c.TLSSelf && c.TLSCert != "":
		return errors.New("--tls-self and --tls-cert are exclusive: give one")
	}
	return nil
}

// tlsEnabled reports whether the server answers over TLS.
func (c config) tlsEnabled() bool { return c.TLSCert != "" || c.TLSSelf }

// serverTLS returns the TLS configuration of the server (nil without TLS):
// TLS 1.2 at least, Go's default cipher suites (AEAD only with forward
// secrecy for TLS 1.2; TLS 1.3's are not configurable) and curves; HTTP/2
// and HTTP/1.1 (http.Server.ServeTLS adds them). With --tls-self it loads or makes the self-issued
// certificate and writes its path and fingerprint to out.
func serverTLS(cfg config, out io.Writer) (*tls.Config, error) {
	if !cfg.tlsEnabled() {
		return nil, nil
	}
	var cert tls.Certificate
	var err error
	if cfg.TLSSelf {
		var path string
		cert, path, err = selfCertificate(cfg.Data, serverHosts(cfg), time.Now())
		if err != nil {
			return nil, fmt.Errorf("--tls-self: %w", err)
		}
		sum := sha256.Sum256(cert.Certificate[0])
		fmt.Fprintf(out, "TLS: self-issued certificate %s, SHA-256 fingerprint %s\n", path, fingerprint(sum[:]))
	} else if cert, err = tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey); err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}, nil
}

// fingerprint formats a digest as colon-separated upper-case hex pairs.
func fingerprint(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// serverHosts are the names the self-issued certificate covers: localhost,
// the loopback addresses, the host of --addr (unless it is a wildcard
// address: then the machine's host name) and the host of --public-url.
func serverHosts(cfg config) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	add := func(h string) {
		if h != "" && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		host = cfg.Addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		if name, err := os.Hostname(); err == nil {
			add(name)
		}
	} else {
		add(host)
	}
	if u, err := url.Parse(cfg.PublicURL); err == nil {
		add(u.Hostname())
	}
	return hosts
}

// Files of the self-issued serving certificate in the data directory.
const (
	selfCertFile = "tls-self.crt"
	selfKeyFile  = "tls-self.key" // mode 0600
)

// selfCertificate returns the self-signed serving certificate kept in dir,
// with the path of its certificate file. The certificate is reused while it
// covers hosts and has more than 30 days left, so that clients that pinned
// or trusted it keep working across restarts; else a new one (ECDSA P-256,
// one year) replaces it.
func selfCertificate(dir string, hosts []string, now time.Time) (tls.Certificate, string, error) {
	certPath, keyPath := filepath.Join(dir, selfCertFile), filepath.Join(dir, selfKeyFile)
	if c, err := tls.LoadX509KeyPair(certPath, keyPath); err == nil {
		if leaf := c.Leaf; leaf != nil && now.Add(30*24*time.Hour).Before(leaf.NotAfter) && coversAll(leaf, hosts) {
			return c, certPath, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return tls.Certificate{}, "", fmt.Errorf("reading %s: %w", certPath, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("generating key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "pcad serving", Organization: []string{"pcad"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("signing certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("encoding key: %w", err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// The key first: a certificate file never names a key that is not there.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, "", err
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, "", err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("loading the new certificate: %w", err)
	}
	return c, certPath, nil
}

// coversAll reports whether leaf is valid for every one of hosts.
func coversAll(leaf *x509.Certificate, hosts []string) bool {
	for _, h := range hosts {
		if leaf.VerifyHostname(h) != nil {
			return false
		}
	}
	return true
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory and a rename, with mode perm.
func writeFileAtomic(path string, b []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly once renamed
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
