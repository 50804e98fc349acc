package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pcad-dev/pcad/internal/casapi"
	"github.com/pcad-dev/pcad/internal/console"
	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/metrics"
	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pkixhttp"
	"github.com/pcad-dev/pcad/internal/ramapi"
	"github.com/pcad-dev/pcad/internal/ratelimit"
	"github.com/pcad-dev/pcad/internal/service"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
)

// config is what `pcad serve` needs to start.
type config struct {
	Addr        string
	Data        string
	DB          string // --db: empty = SQLite under Data; postgres:// or postgresql:// = PostgreSQL
	QPSPerUser  float64
	MasterKey   string // PCAD_MASTER_KEY, hex; MasterKey and MasterKeyFile empty: <data>/master.key (rotate.go)
	LogLevel    string
	PublicURL   string // base of the CRL/OCSP/CA URLs in certificates; empty: http://<addr>
	LimitsFile  string // --limits: JSON request-rate table (limits.go); empty: --qps-per-user for all
	Redis       string // --redis: redis:// URL of shared throttling and nonce state (redis.go); empty: in-process
	TrustProxy  string // --trust-proxy: CIDRs of load balancers whose X-Forwarded-For names the client (proxy.go)
	MaxInFlight int    // --max-inflight: API actions running at once; beyond, ServiceUnavailable after a short wait

	TLSCert string // --tls-cert: PEM certificate chain to serve over TLS (hardening.go)
	TLSKey  string // --tls-key: PEM private key of TLSCert
	TLSSelf bool   // --tls-self: serve over TLS with a self-issued certificate kept in Data (hardening.go)

	DebugAddr string // --debug-addr: address of the unauthenticated profiler listener (debug.go); empty: none

	MasterKeyFile string // --master-key-file (PCAD_MASTER_KEY_FILE): file holding the hex master key

	KMS        string // --kms: pkcs11: URI of the token for CA keys (kms.go); may hold a PIN: never log it
	CAKeyStore string // --ca-key-store: software or hsm, where new CA keys go by default (kms.go)

	now      func() time.Time // service clock for tests; nil: time.Now
	timeouts serverTimeouts   // HTTP server timeouts for tests; zero: the defaults (hardening.go)

	limits  *limitTable    // parsed LimitsFile (limits.go)
	proxies trustedProxies // parsed TrustProxy (proxy.go)

	rdb         *redis.Client // opened from Redis by newApp (redis.go)
	redisPrefix string        // tests: prefix of the Redis keys; empty: the packages' defaults
}

func parseServeFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (PCAD_ADDR)")
	fs.StringVar(&c.Data, "data", "./pcad-data", "data directory: SQLite store, master key, credentials (PCAD_DATA)")
	fs.StringVar(&c.DB, "db", "", "PostgreSQL URL (postgres://...) of the store; empty: SQLite under --data (PCAD_DB)")
	fs.Float64Var(&c.QPSPerUser, "qps-per-user", 10, "requests per second per user and action; 0 turns throttling off (PCAD_QPS_PER_USER)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error (PCAD_LOG_LEVEL)")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", "", "file holding the master key (64 hex digits); default: $PCAD_MASTER_KEY, else <data>/master.key, generated on a fresh store (PCAD_MASTER_KEY_FILE)")
	fs.StringVar(&c.LimitsFile, "limits", "", "JSON file of request rates by action and by account, overriding --qps-per-user (PCAD_LIMITS)")
	fs.StringVar(&c.Redis, "redis", "", "redis:// URL: keep throttling counters and signature nonces in Redis, shared by replicas; empty: in-process (PCAD_REDIS)")
	fs.IntVar(&c.MaxInFlight, "max-inflight", 64, "API actions running at once; a call beyond waits up to 100 ms, then gets ServiceUnavailable; 0: no bound (PCAD_MAX_INFLIGHT)")
	fs.StringVar(&c.TrustProxy, "trust-proxy", "", "comma-separated CIDRs of load balancers whose X-Forwarded-For header names the client, for the audit log and acs:SourceIp (PCAD_TRUST_PROXY)")
	fs.StringVar(&c.KMS, "kms", "", "PKCS#11 token for CA keys: pkcs11:module=PATH;token=LABEL;pin-file=FILE (builds with -tags pkcs11 only) (PCAD_KMS)")
	fs.StringVar(&c.CAKeyStore, "ca-key-store", "software", "where new CA keys are generated unless a create call says: software or hsm (needs --kms) (PCAD_CA_KEY_STORE)")
	fs.StringVar(&c.PublicURL, "public-url", "", "base URL of the public CRL, OCSP and CA-certificate endpoints that issued certificates name (default http://<addr>, https://<addr> with TLS) (PCAD_PUBLIC_URL)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate (chain) file: serve over TLS; needs --tls-key (PCAD_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key file of --tls-cert (PCAD_TLS_KEY)")
	fs.BoolVar(&c.TLSSelf, "tls-self", false, "serve over TLS with a self-signed certificate kept in --data (tls-self.crt), made on first start (PCAD_TLS_SELF)")
	fs.StringVar(&c.DebugAddr, "debug-addr", "", "serve Go's profiler (/debug/pprof/) on this address, without authentication: use a loopback address; empty: off (PCAD_DEBUG_ADDR)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := envDefaults(fs, os.Getenv); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	if err := checkDB(c.DB); err != nil {
		return c, fmt.Errorf("serve: %w", err)
	}
	if err := checkTLSFlags(c); err != nil { // hardening.go
		return c, fmt.Errorf("serve: %w", err)
	}
	if c.PublicURL == "" {
		c.PublicURL = c.scheme() + "://" + c.Addr
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("serve: --public-url %q is not an http(s) URL", c.PublicURL)
	}
	if c.MaxInFlight < 0 {
		return c, fmt.Errorf("serve: --max-inflight must be >= 0, got %d", c.MaxInFlight)
	}
	if c.QPSPerUser < 0 {
		return c, fmt.Errorf("serve: --qps-per-user must be >= 0, got %v", c.QPSPerUser)
	}
	if err := checkKMSFlags(&c); err != nil { // kms.go
		return c, fmt.Errorf("serve: %w", err)
	}
	proxies, err := parseTrustedProxies(c.TrustProxy)
	if err != nil {
		return c, fmt.Errorf("serve: %w", err)
	}
	c.proxies = proxies
	if c.LimitsFile != "" { // --limits, see limits.go
		lt, err := loadLimits(c.LimitsFile)
		if err != nil {
			return c, fmt.Errorf("serve: --limits: %w", err)
		}
		c.limits = lt
	}
	c.MasterKey = os.Getenv("PCAD_MASTER_KEY")
	if c.MasterKey != "" && c.MasterKeyFile != "" {
		return c, errors.New("serve: both --master-key-file (PCAD_MASTER_KEY_FILE) and PCAD_MASTER_KEY are set: set one")
	}
	return c, nil
}

// checkDB accepts the values of --db: empty (SQLite under --data) or a
// postgres:// or postgresql:// URL. The error names only the scheme: the URL
// may carry a password.
func checkDB(db string) error {
	if db == "" {
		return nil
	}
	scheme, _, ok := strings.Cut(db, "://")
	if ok && (strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql")) {
		return nil
	}
	if !ok {
		return errors.New("--db must be a postgres:// or postgresql:// URL (leave it empty for SQLite under --data)")
	}
	return fmt.Errorf("--db: unsupported scheme %q: use a postgres:// or postgresql:// URL (leave it empty for SQLite under --data)", scheme)
}

// openStore opens the store --db names: PostgreSQL for a postgres:// URL,
// else SQLite at <data>/pcad.db. Both apply pending migrations.
func openStore(ctx context.Context, db, data string) (*sqlstore.Store, error) {
	if err := checkDB(db); err != nil {
		return nil, err
	}
	if db != "" {
		return sqlstore.OpenPostgres(ctx, db)
	}
	return sqlstore.OpenSQLite(ctx, filepath.Join(data, "pcad.db"))
}

// pkiPollInterval is how often the service checks for revocations made by
// other replicas and for CRLs that need re-issuing.
const pkiPollInterval = time.Second

// app is a wired pcad: service, store and the HTTP handler.
type app struct {
	cfg     config
	store   *sqlstore.Store
	svc     *service.Service
	handler http.Handler
	log     *slog.Logger
	hsm     keys.HSM // --kms (kms.go); nil without; the caller closes it
}

// newApp opens the store (cfg.DB, else SQLite under cfg.Data), loads the master key and wires the
// service and the HTTP endpoints. The caller closes app.store (and app.hsm, when set).
func newApp(ctx context.Context, cfg config, logger *slog.Logger) (_ *app, err error) {
	// --kms (kms.go): a missing module or token, or a wrong PIN, stops here, before anything is touched.
	hsm, err := openKMS(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil && hsm != nil {
			hsm.Close()
		}
	}()
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	// The master key (rotate.go): read now, checked against the store once it is open.
	master, err := loadMasterKey(cfg)
	if err != nil {
		return nil, err
	}
	defer clear(master.key)
	// --redis (redis.go): shared throttling counters and nonce cache.
	if cfg.Redis != "" {
		if cfg.rdb, err = openRedis(ctx, cfg.Redis); err != nil {
			return nil, err
		}
	}
	closeRedis := func() {
		if cfg.rdb != nil {
			cfg.rdb.Close()
		}
	}
	st, err := openStore(ctx, cfg.DB, cfg.Data)
	if err != nil {
		closeRedis()
		return nil, err
	}
	// A wrong master key, or a rotation left half done, stops here, before anything is written.
	ring, err := openKeyring(ctx, st, master)
	if err != nil {
		st.Close()
		closeRedis()
		return nil, err
	}
	replica, err := replicaID(cfg.Data) // the background lease's holder name (replica.go)
	if err != nil {
		st.Close()
		closeRedis()
		return nil, err
	}
	svc, err := service.New(ctx, service.Config{Store: st, Keyring: ring, Logger: logger, Now: cfg.now, PublicURL: cfg.PublicURL,
		HSM: hsm, CAKeyStore: serviceKeyStore(cfg), ReplicaID: replica})
	if err != nil {
		st.Close()
		closeRedis()
		return nil, err
	}
	// Request rates (--qps-per-user, --limits; limits.go), whose action names
	// are checked against the served action tables.
	limiter, err := newLimiter(cfg, logger, casapi.Actions(svc), ramapi.Actions(svc))
	if err != nil {
		st.Close()
		closeRedis()
		return nil, err
	}
	// GET /metrics (Prometheus text format; internal/metrics).
	mx := metrics.New(metrics.Options{Leading: svc.Leading, Version: version})
	api, err := openapi.NewHandler(openapi.Config{
		Version: casapi.Version,
		Actions: casapi.Actions(svc),
		Keys:    keyLookup{svc},
		Limiter: limiter,
		Nonces:  redisNonces(cfg), // nil without --redis: in-process (redis.go)
		// At most --max-inflight actions at once: overload answers quickly.
		MaxInFlight: cfg.MaxInFlight,
		Logger:      logger,

		// Every call whose AccessKeyId exists goes to the hash-chained audit log (auditHook).
		Audit: auditHook(svc),
		// Every call is counted and timed by action and answer code.
		Observe: mx.ObserveCall,

		// RAM-compatible users, AccessKeys and policies on the same endpoint (internal/ramapi).
		MoreVersions: map[string]map[string]openapi.HandlerFunc{ramapi.Version: ramapi.Actions(svc)},
	})
	if err != nil {
		st.Close()
		closeRedis()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/{$}", api)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := svc.Ready(ctx); err != nil {
			logger.Warn("readiness check failed", "err", err)
			http.Error(w, "store unavailable\n", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", mx.Handler())
	mux.Handle("/console/", console.Handler()) // the web console, a client of the API above (internal/console)
	return &app{cfg: cfg, store: st, svc: svc, handler: wrapHandler(mx, cfg, logger, pkixhttp.Handler(svc, logger, mux)), log: logger,
		hsm: hsm}, nil
}

// bootstrap creates the first account on an empty store and writes its
// AccessKey to <data>/credentials.ini (mode 0600). It never rewrites the file.
func (a *app) bootstrap(ctx context.Context) (credPath string, created bool, err error) {
	credPath = filepath.Join(a.cfg.Data, "credentials.ini")
	key, created, err := a.svc.Bootstrap(ctx, "default")
	if err != nil || !created {
		return credPath, false, err
	}
	f, err := os.OpenFile(credPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return credPath, false, fmt.Errorf("write credentials: %w", err)
	}
	err = writeCredentials(f, key)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return credPath, false, fmt.Errorf("write credentials: %w", err)
	}
	return credPath, true, nil
}

func serveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("serve: --log-level: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	a, err := newApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.store.Close()
	if a.cfg.rdb != nil { // --redis
		defer a.cfg.rdb.Close()
	}
	if a.hsm != nil { // --kms
		defer a.hsm.Close()
	}
	// Every CA whose key is in a PKCS#11 token must find it in this one (kms.go).
	if err := a.svc.CheckCAKeys(ctx); err != nil {
		return err
	}
	credPath, created, err := a.bootstrap(ctx)
	if err != nil {
		return err
	}
	tlsCfg, err := serverTLS(cfg, stdout) // --tls-cert/--tls-key or --tls-self (hardening.go)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	endpoint := cfg.scheme() + "://" + ln.Addr().String()
	fmt.Fprintf(stdout, "pcad is serving the cas 2020-06-30 API at %s\n", endpoint)
	if created {
		fmt.Fprintf(stdout, "First start: created an account; its AccessKey is in %s (mode 0600).\n", credPath)
	} else if _, err := os.Stat(credPath); err == nil {
		fmt.Fprintf(stdout, "Credentials of the first account: %s\n", credPath)
	} else {
		fmt.Fprintf(stdout, "No %s: use the credentials file written by `pcad admin account create`.\n", credPath)
	}
	fmt.Fprintf(stdout, "Try:  go run ./cmd/pcad call --endpoint %s --credentials %s ListCert\n", endpoint, credPath)

	_, stopDebug, err := startDebugServer(cfg.DebugAddr, logger) // debug.go
	if err != nil {
		ln.Close()
		return fmt.Errorf("serve: %w", err)
	}
	defer stopDebug()

	srv := newHTTPServer(cfg, a.handler, logger) // limits and timeouts: hardening.go
	srv.TLSConfig = tlsCfg
	errc := make(chan error, 1)
	go func() {
		if tlsCfg != nil {
			errc <- srv.ServeTLS(ln, "", "") // the certificate is in srv.TLSConfig
			return
		}
		errc <- srv.Serve(ln)
	}()
	// The PKI poller outlives the signal: it stops once the calls in flight
	// are done, before the store closes (deferred above).
	pkiCtx, stopPKI := context.WithCancel(context.WithoutCancel(ctx))
	pkiDone := make(chan struct{})
	go func() { a.svc.RunPKI(pkiCtx, pkiPollInterval); close(pkiDone) }()
	defer func() { stopPKI(); <-pkiDone }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	// Graceful shutdown: stop accepting, let the calls in flight finish
	// (at most shutdownGrace), then stop the poller and close the store.
	logger.Info("shutting down: finishing calls in flight", "grace", shutdownGrace.String())
	shutdown, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		srv.Close()
		return fmt.Errorf("serve: shutdown: calls still in flight after %s were cut: %w", shutdownGrace, err)
	}
	stopPKI()
	<-pkiDone
	fmt.Fprintln(stdout, "pcad stopped")
	return nil
}

// scheme is "https" when the server answers over TLS, else "http".
func (c config) scheme() string {
	if c.tlsEnabled() {
		return "https"
	}
	return "http"
}

// keyLookup adapts the service's AccessKey lookup to the protocol layer.
type keyLookup struct{ svc *service.Service }

func (k keyLookup) LookupAccessKey(ctx context.Context, id string) (openapi.Credential, error) {
	key, err := k.svc.LookupAccessKey(ctx, id)
	if err != nil {
		return openapi.Credential{}, err
	}
	return openapi.Credential{AccessKeyID: key.ID, Secret: key.Secret, AccountID: key.AccountID,
		PrincipalID: key.PrincipalID, Active: key.Active}, nil
}

// limiterAdapter adapts the rate limiter to the protocol layer.
type limiterAdapter struct {
	m interface { // *ratelimit.Memory, or *ratelimit.Redis with --redis
		Allow(context.Context, string) (ratelimit.Decision, error)
	}
}

func (l limiterAdapter) Allow(ctx context.Context, key string) (openapi.Decision, error) {
	d, err := l.m.Allow(ctx, key)
	return openapi.Decision{Allowed: d.Allowed, Limit: d.Limit, Remaining: d.Remaining, RetryAfter: d.RetryAfter}, err
}

// auditHook adapts the protocol layer's audit hook to the service's audit log.
func auditHook(svc *service.Service) func(context.Context, openapi.AuditEvent) {
	return func(ctx context.Context, e openapi.AuditEvent) {
		svc.Audit(ctx, service.AuditEntry{Time: e.Time, RequestID: e.RequestID, Action: e.Action, AccessKeyID: e.AccessKeyID,
			AccountID: e.AccountID, PrincipalID: e.PrincipalID, SourceIP: e.SourceIP, Resource: e.Resource, Code: e.Code})
	}
}

// version names this build in /metrics (pcad_build_info): set at link time
// with -ldflags "-X main.version=v1.2.3", else the module's version from
// the build information, else "dev".
var version = ""

func init() {
	if version != "" {
		return
	}
	version = "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		version = bi.Main.Version
	}
}
