package main

// pcad bench: load figures measured against a real pcad server. Each
// subcommand makes a fresh store (a temporary data directory, and for
// --db a fresh PostgreSQL schema), seeds it where it needs to (in this
// process, through the same wiring as `pcad serve`), runs this same binary
// as `pcad serve` on a free loopback port, drives it over HTTP with signed
// requests, checks every answer, and prints a table (and --json FILE). The
// server runs in its own process so that its peak resident memory (VmHWM)
// is its own. Everything the run made is removed at the end, also on
// Ctrl-C, unless --keep is given.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pcad-dev/pcad/internal/casapi"
	"github.com/pcad-dev/pcad/internal/loadgen"
	"github.com/pcad-dev/pcad/internal/service"
)

const benchUsage = `usage:
  pcad bench issue [--clients 4] [--duration 15s] [--keygen] [--db URL] [--json FILE]
  pcad bench list  [--certs 1000000] [--clients 1] [--duration 3s] [--data DIR] [--db URL] [--json FILE]
  pcad bench crl   [--revoked 1000000] [--db URL] [--json FILE]
  pcad bench ocsp  [--clients 16] [--duration 10s] [--db URL] [--json FILE]
Each runs a fresh pcad server (this binary) on 127.0.0.1 and prints a table.
Run "pcad bench <subcommand> -h" for its flags.
`

// benchServerBin overrides the binary run as the server under test (tests
// set it: there os.Executable is the test binary). Empty: os.Executable.
var benchServerBin string

// benchCommand runs `pcad bench SUBCOMMAND`: issue, list, crl or ocsp. It
// fails when a call failed or an answer was wrong.
func benchCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, benchUsage)
		return errors.New("bench: no subcommand given")
	}
	switch args[0] {
	case "issue":
		return benchIssue(ctx, args[1:], stdout, stderr)
	case "list":
		return benchList(ctx, args[1:], stdout, stderr)
	case "crl":
		return benchCRL(ctx, args[1:], stdout, stderr)
	case "ocsp":
		return benchOCSP(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, benchUsage)
		return nil
	}
	fmt.Fprint(stderr, benchUsage)
	return fmt.Errorf("bench: unknown subcommand %q", args[0])
}

// benchOpts are the flags every subcommand takes. The bench reads no PCAD_*
// variables: a PCAD_DATA or PCAD_DB meant for a real server must never
// reach a benchmark.
type benchOpts struct {
	jsonPath string
	db       string
	keep     bool
	profile  string // --server-profile: directory for the server's CPU profile of each measured scenario
	load     bool   // --clients and --duration apply
	clients  int
	duration time.Duration
}

// newBenchFlags makes the flag set of subcommand name with the common
// flags and, when clients > 0, --clients and --duration with these
// defaults.
func newBenchFlags(name string, stderr io.Writer, o *benchOpts, clients int, duration time.Duration) *flag.FlagSet {
	fs := flag.NewFlagSet("bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.jsonPath, "json", "", "also write the results as JSON to this file")
	fs.StringVar(&o.db, "db", "", "PostgreSQL URL: run on a fresh schema pcad_bench_<random> there (dropped afterwards unless --keep); empty: SQLite")
	fs.BoolVar(&o.keep, "keep", false, "keep the data directory (and PostgreSQL schema) and print where they are")
	if clients > 0 {
		fs.StringVar(&o.profile, "server-profile", "", "write the server's CPU profile of each measured scenario to DIR/<scenario>.pprof (go tool pprof reads it)")
	}
	if clients > 0 {
		o.load = true
		fs.IntVar(&o.clients, "clients", clients, "concurrent closed-loop clients")
		fs.DurationVar(&o.duration, "duration", duration, "how long each measured scenario runs")
	}
	return fs
}

// check validates the common flags after parsing, and the environment:
// the bench signs with the fresh server's own key (benchCredentials).
func (o *benchOpts) check(fs *flag.FlagSet) error {
	if err := checkCredentialEnv(); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", fs.Name(), fs.Args())
	}
	if err := checkDB(o.db); err != nil {
		return fmt.Errorf("%s: %w", fs.Name(), err)
	}
	if o.load && o.clients < 1 {
		return fmt.Errorf("%s: --clients must be at least 1", fs.Name())
	}
	if o.load && o.duration <= 0 {
		return fmt.Errorf("%s: --duration must be positive", fs.Name())
	}
	return nil
}

// benchRun is one invocation: its report, what it must undo, and where it
// prints.
type benchRun struct {
	opts     benchOpts
	stdout   io.Writer
	stderr   io.Writer
	report   *loadgen.Report
	cleanups []func() // run in reverse order by close
}

func newBenchRun(name string, args []string, o benchOpts, stdout, stderr io.Writer) *benchRun {
	r := &benchRun{opts: o, stdout: stdout, stderr: stderr,
		report: loadgen.NewReport(strings.TrimSpace("pcad bench " + name + " " + redactArgs(args)))}
	r.report.Settings["store"] = "sqlite"
	if o.db != "" {
		r.report.Settings["store"] = "postgres"
	}
	return r
}

// redactArgs joins args for the report, with the --db URL replaced: it may
// carry a password.
func redactArgs(args []string) string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--db" || a == "-db":
			out = append(out, a, "<postgres URL>")
			i++
		case strings.HasPrefix(a, "--db=") || strings.HasPrefix(a, "-db="):
			out = append(out, a[:strings.Index(a, "=")+1]+"<postgres URL>")
		default:
			out = append(out, a)
		}
	}
	return strings.Join(out, " ")
}

// defer1 registers fn to run at close.
func (r *benchRun) defer1(fn func()) { r.cleanups = append(r.cleanups, fn) }

// close undoes what the run made, last first.
func (r *benchRun) close() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.cleanups = nil
}

// logf prints a progress line on stderr.
func (r *benchRun) logf(format string, args ...any) {
	fmt.Fprintf(r.stderr, "bench: "+format+"\n", args...)
}

// finish prints the table, writes the JSON file if asked, and fails when any
// call failed or an answer was wrong.
func (r *benchRun) finish() error {
	if err := r.report.WriteTable(r.stdout); err != nil {
		return err
	}
	if r.opts.jsonPath != "" {
		if err := r.report.WriteJSONFile(r.opts.jsonPath); err != nil {
			return err
		}
	}
	if n := r.report.Errors(); n > 0 {
		return fmt.Errorf("bench: %d calls failed or were answered wrongly (see the table)", n)
	}
	return nil
}

// ---------------------------------------------------------------- store

// benchStore is where the server under test keeps its state: a data
// directory (master key, credentials, SQLite file) and, with --db, a
// PostgreSQL schema made for the run.
type benchStore struct {
	dir    string // --data of the server
	db     string // --db of the server: "" (SQLite) or the DSN with search_path set to the run's schema
	schema string // the run's PostgreSQL schema, "" for SQLite
}

// freshStore makes an empty data directory (dir, or a new temporary one
// when dir is "") and, when r.opts.db is set, an empty schema
// pcad_bench_<random> on that server. The temporary directory and the schema
// are removed at close unless --keep; a directory the caller named is never
// removed.
func (r *benchRun) freshStore(ctx context.Context, dir string) (benchStore, error) {
	var st benchStore
	if dir == "" {
		tmp, err := os.MkdirTemp("", "pcad-bench-")
		if err != nil {
			return st, fmt.Errorf("bench: %w", err)
		}
		r.defer1(func() {
			if r.opts.keep {
				r.logf("kept the data directory %s", tmp)
				return
			}
			if err := os.RemoveAll(tmp); err != nil {
				r.logf("could not remove %s: %v", tmp, err)
			}
		})
		dir = filepath.Join(tmp, "data")
	}
	st.dir = dir
	if r.opts.db == "" {
		return st, nil
	}
	schema, dsn, err := createBenchSchema(ctx, r.opts.db)
	if err != nil {
		return st, err
	}
	st.db, st.schema = dsn, schema
	r.report.Settings["schema"] = schema
	r.defer1(func() {
		if r.opts.keep {
			r.logf("kept the PostgreSQL schema %s", schema)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := dropBenchSchema(ctx, r.opts.db, schema); err != nil {
			r.logf("could not drop the PostgreSQL schema %s: %v", schema, err)
		}
	})
	return st, nil
}

// createBenchSchema creates an empty schema pcad_bench_<random> on the
// PostgreSQL server of db and returns it with the DSN that selects it
// (search_path, which pgx sends as a run-time setting). Errors never
// include the URL: it may carry a password.
func createBenchSchema(ctx context.Context, db string) (schema, dsn string, err error) {
	u, err := url.Parse(db)
	if err != nil {
		return "", "", errors.New("bench: --db is not a valid URL")
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	schema = "pcad_bench_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return "", "", fmt.Errorf("bench: connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", "", fmt.Errorf("bench: create schema %s: %w", schema, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return schema, u.String(), nil
}

// dropBenchSchema drops a schema createBenchSchema made, with its tables.
func dropBenchSchema(ctx context.Context, db, schema string) error {
	if !strings.HasPrefix(schema, "pcad_bench_") {
		return fmt.Errorf("bench: refusing to drop schema %q", schema)
	}
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		return fmt.Errorf("bench: connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		return fmt.Errorf("bench: drop schema %s: %w", schema, err)
	}
	return nil
}

// openSeedApp opens pcad in this process on st, wired as `pcad serve` wires
// it (newApp: the same master key file, store and service), creates the
// first account as a first start does (credentials.ini in st.dir), and
// returns the app with that account's owner as actor. The caller closes
// a.store before a server starts on st.
func openSeedApp(ctx context.Context, st benchStore, publicURL string) (*app, service.Actor, error) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := newApp(ctx, config{Data: st.dir, DB: st.db, PublicURL: publicURL}, logger)
	if err != nil {
		return nil, service.Actor{}, err
	}
	credPath, _, err := a.bootstrap(ctx)
	if err != nil {
		a.store.Close()
		return nil, service.Actor{}, err
	}
	id, _, err := benchCredentials(credPath)
	if err != nil {
		a.store.Close()
		return nil, service.Actor{}, err
	}
	key, err := a.svc.LookupAccessKey(ctx, id)
	if err != nil {
		a.store.Close()
		return nil, service.Actor{}, fmt.Errorf("bench: look up the first account's key: %w", err)
	}
	return a, service.Actor{AccountID: key.AccountID, PrincipalID: key.PrincipalID}, nil
}

// benchCredentials reads the AccessKey of a bench server's first account
// from its credentials file. loadCredentials prefers the
// ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET variables to any file; here they
// would name a key the fresh server does not have, so their presence is an
// error rather than a silent mismatch.
func benchCredentials(path string) (id, secret string, err error) {
	if err := checkCredentialEnv(); err != nil {
		return "", "", err
	}
	return loadCredentials(path, "default")
}

// checkCredentialEnv fails when the AccessKey variables are set (see
// benchCredentials).
func checkCredentialEnv() error {
	if os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID") != "" && os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET") != "" {
		return errors.New("bench: ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are set and would replace the bench server's own key: unset them for the run")
	}
	return nil
}

// ---------------------------------------------------------------- server

// childServer is `pcad serve` running in its own process.
type childServer struct {
	cmd   *exec.Cmd
	base  *url.URL
	logs  *tailBuffer
	start time.Time // when the process was started
	ready time.Time // when /readyz first answered 200
	done  chan struct{}
	err   error // Wait's result, once done is closed

	debugAddr  string // the server's --debug-addr; empty: no profiles
	profileDir string // where runLoad writes the CPU profile of each scenario
}

// freeLoopbackAddr returns a 127.0.0.1 address with a port that was free a
// moment ago.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("bench: find a free port: %w", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// benchChildEnv is this process's environment without PCAD_* variables, which
// would change the server under test (another data directory, Redis, a
// master key, rates).
func benchChildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PCAD_") {
			env = append(env, kv)
		}
	}
	return env
}

// startServer runs the server binary as `pcad serve` on addr with st and
// throttling off, waits until /readyz answers, and registers its stop at
// close. The server's output is kept (its end is shown if it fails).
func (r *benchRun) startServer(ctx context.Context, st benchStore, addr string) (*childServer, error) {
	bin := benchServerBin
	if bin == "" {
		var err error
		if bin, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("bench: find the pcad binary: %w", err)
		}
	}
	args := []string{"serve", "--addr", addr, "--data", st.dir, "--qps-per-user", "0", "--log-level", "warn"}
	if st.db != "" {
		args = append(args, "--db", st.db)
	}
	var debugAddr string
	if r.opts.profile != "" {
		if err := os.MkdirAll(r.opts.profile, 0o755); err != nil {
			return nil, fmt.Errorf("bench: --server-profile: %w", err)
		}
		var err error
		if debugAddr, err = freeLoopbackAddr(); err != nil {
			return nil, err
		}
		args = append(args, "--debug-addr", debugAddr)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = benchChildEnv()
	logs := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = logs, logs
	setChildAttrs(cmd)
	c := &childServer{cmd: cmd, base: &url.URL{Scheme: "http", Host: addr}, logs: logs, done: make(chan struct{}),
		debugAddr: debugAddr, profileDir: r.opts.profile}
	c.start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start the server: %w", err)
	}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	r.defer1(func() {
		if err := c.stop(); err != nil {
			r.logf("server: %v", err)
		}
	})
	if err := c.waitReady(ctx, 2*time.Minute); err != nil {
		return nil, err
	}
	return c, nil
}

// waitReady polls /readyz until it answers 200, the process exits, ctx ends
// or timeout passes.
func (c *childServer) waitReady(ctx context.Context, timeout time.Duration) error {
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := hc.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				c.ready = time.Now()
				return nil
			}
		}
		select {
		case <-c.done:
			return fmt.Errorf("bench: the server exited before it was ready (%v); its output ends with:\n%s", c.err, c.logs.String())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: the server was not ready after %v; its output ends with:\n%s", timeout, c.logs.String())
		}
	}
}

// pid is the server's process id.
func (c *childServer) pid() int { return c.cmd.Process.Pid }

// memory reads the server's resident memory.
func (c *childServer) memory() (loadgen.ProcMemory, error) { return loadgen.ReadProcMemory(c.pid()) }

// alive fails when the server has exited.
func (c *childServer) alive() error {
	select {
	case <-c.done:
		return fmt.Errorf("bench: the server exited (%v); its output ends with:\n%s", c.err, c.logs.String())
	default:
		return nil
	}
}

// stop asks the server to shut down (SIGTERM, as Ctrl-C would), waits up
// to 15 s, then kills it. An exit caused by the signal is not an error.
func (c *childServer) stop() error {
	select {
	case <-c.done:
		return nil
	default:
	}
	terminate(c.cmd.Process)
	select {
	case <-c.done:
		return nil
	case <-time.After(15 * time.Second):
	}
	c.cmd.Process.Kill()
	<-c.done
	return errors.New("the server did not stop within 15 s and was killed")
}

// tailBuffer keeps the last max bytes written to it. Safe for concurrent
// use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = append(t.b[:0], t.b[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// recordServerMemory puts the server's resident memory now and its peak
// (VmHWM, whole life) into the report's figures.
func (r *benchRun) recordServerMemory(c *childServer) {
	m, err := c.memory()
	if err != nil {
		r.report.Note("server memory: %v", err)
		return
	}
	r.report.SetFigure("server_rss_bytes", float64(m.RSS))
	r.report.SetFigure("server_peak_rss_bytes", float64(m.PeakRSS))
}

// runLoad runs one measured scenario against srv (loadgen.Run) and adds
// the CPU time a call cost the server and this process (the clients) to
// its figures: server_cpu_ms_per_call, client_cpu_ms_per_call and
// server_cpu_cores (the cores the server kept busy on average). On a
// machine shared with other work these hold better than rates do.
func runLoad(ctx context.Context, srv *childServer, o loadgen.Options, op loadgen.Op) (loadgen.Result, error) {
	prof := srv.profile(ctx, o)
	s0, err0 := loadgen.ReadProcCPU(srv.pid())
	c0, err1 := loadgen.ReadProcCPU(os.Getpid())
	res, err := loadgen.Run(ctx, o, op)
	if perr := prof(); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return res, err
	}
	s1, err2 := loadgen.ReadProcCPU(srv.pid())
	c1, err3 := loadgen.ReadProcCPU(os.Getpid())
	if calls := float64(res.Count + res.Errors); errors.Join(err0, err1, err2, err3) == nil && calls > 0 && res.Seconds > 0 {
		res.SetFigure("server_cpu_ms_per_call", loadgen.Millis(s1-s0)/calls)
		res.SetFigure("client_cpu_ms_per_call", loadgen.Millis(c1-c0)/calls)
		res.SetFigure("server_cpu_cores", (s1-s0).Seconds()/res.Seconds)
	}
	return res, nil
}

// profile starts recording the server's CPU profile for scenario o (its
// Duration, at least one second) when the run asked for profiles, and
// returns the function that waits for it and writes it to
// <profileDir>/<scenario>.pprof.
func (c *childServer) profile(ctx context.Context, o loadgen.Options) (wait func() error) {
	if c.debugAddr == "" || o.Duration <= 0 {
		return func() error { return nil }
	}
	secs := max(1, int((o.Duration+time.Second-1)/time.Second))
	name := strings.NewReplacer("/", "-", " ", "_").Replace(o.Name)
	if name == "" {
		name = "load"
	}
	path := filepath.Join(c.profileDir, name+".pprof")
	done := make(chan error, 1)
	go func() {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", c.debugAddr, secs), nil)
		if err != nil {
			done <- err
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- fmt.Errorf("bench: server profile: %w", err)
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			done <- fmt.Errorf("bench: server profile: HTTP %d", resp.StatusCode)
			return
		}
		f, err := os.Create(path)
		if err != nil {
			done <- fmt.Errorf("bench: server profile: %w", err)
			return
		}
		if _, err := io.Copy(f, resp.Body); err != nil {
			f.Close()
			done <- fmt.Errorf("bench: server profile: %w", err)
			return
		}
		done <- f.Close()
	}()
	return func() error { return <-done }
}

// cpuExtra is the table's note of a result's server CPU per call ("" when
// unknown).
func cpuExtra(res loadgen.Result) string {
	ms, ok := res.Figures["server_cpu_ms_per_call"]
	if !ok {
		return ""
	}
	return fmt.Sprintf("server CPU %s/call on %.1f cores", loadgen.FormatMillis(ms), res.Figures["server_cpu_cores"])
}

// ---------------------------------------------------------------- API client

// benchAPI calls the server with signed requests (V3, as `pcad call`
// signs them) over one keep-alive HTTP client.
type benchAPI struct {
	hc         *http.Client
	base       *url.URL
	id, secret string
}

// newBenchAPI makes a client of base keeping up to conns idle connections.
func newBenchAPI(base *url.URL, id, secret string, conns int) *benchAPI {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute,
		DisableCompression: true}
	return &benchAPI{hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}, base: base, id: id, secret: secret}
}

// close drops the client's idle connections.
func (c *benchAPI) close() { c.hc.CloseIdleConnections() }

// benchAPIError is an error answer of the API.
type benchAPIError struct {
	Action  string
	Status  int
	Code    string
	Message string
}

func (e *benchAPIError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s: %s", e.Action, e.Status, e.Code, e.Message)
}

// call signs and sends action with params, and decodes a 200 answer into
// out (nil: not decoded). Other answers are *benchAPIError.
func (c *benchAPI) call(ctx context.Context, action string, params url.Values, out any) error {
	body, err := c.callRaw(ctx, action, params)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: decode answer: %w", action, err)
	}
	return nil
}

// callRaw is call without decoding: the body of a 200 answer.
func (c *benchAPI) callRaw(ctx context.Context, action string, params url.Values) ([]byte, error) {
	req, err := signedRequest(ctx, c.base, action, casapi.Version, params, c.id, c.secret, time.Now())
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", action, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, fmt.Errorf("%s: read answer: %w", action, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &benchAPIError{Action: action, Status: resp.StatusCode}
		var env struct{ Code, Message string }
		if json.Unmarshal(buf.Bytes(), &env) == nil {
			e.Code, e.Message = env.Code, env.Message
		} else {
			e.Message = fmt.Sprintf("%.200q", buf.Bytes())
		}
		return nil, e
	}
	return buf.Bytes(), nil
}

// get fetches a public (unsigned) path of the server and returns the body
// of a 200 answer with its Content-Type.
func (c *benchAPI) get(ctx context.Context, path string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base.String()+path, nil)
	if err != nil {
		return nil, "", err
	}
	return c.do(req)
}

// do sends req and returns the body of a 200 answer with its Content-Type.
func (c *benchAPI) do(req *http.Request) ([]byte, string, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("%s %s: HTTP %d: %.200q", req.Method, req.URL.Path, resp.StatusCode, buf.Bytes())
	}
	return buf.Bytes(), resp.Header.Get("Content-Type"), nil
}

// benchCA is a CA the bench made: its identifier and parsed certificate.
type benchCA struct {
	ID   string
	Cert *x509.Certificate
}

// createCA calls action (CreateRootCACertificate or
// CreateSubCACertificate) and parses the new CA's certificate.
func (c *benchAPI) createCA(ctx context.Context, action string, params url.Values) (benchCA, error) {
	var out struct{ Identifier, Certificate string }
	if err := c.call(ctx, action, params, &out); err != nil {
		return benchCA{}, err
	}
	cert, err := parseCertPEM(out.Certificate)
	if err != nil {
		return benchCA{}, fmt.Errorf("%s: %w", action, err)
	}
	if out.Identifier == "" {
		return benchCA{}, fmt.Errorf("%s: no Identifier in the answer", action)
	}
	return benchCA{ID: out.Identifier, Cert: cert}, nil
}

// hierarchy creates an ECC_256 root and a sub-CA under it through the API
// (the sub-CA publishes a CRL when crl is set).
func (c *benchAPI) hierarchy(ctx context.Context, crl bool) (root, sub benchCA, err error) {
	subject := func(cn string) url.Values {
		return url.Values{"CommonName": {cn}, "Organization": {"pcad"}, "OrganizationUnit": {"Bench"},
			"Locality": {"Hangzhou"}, "State": {"Zhejiang"}, "CountryCode": {"CN"}, "Algorithm": {"ECC_256"}}
	}
	rp := subject("pcad Bench Root")
	rp.Set("Years", "10")
	if root, err = c.createCA(ctx, "CreateRootCACertificate", rp); err != nil {
		return root, sub, err
	}
	sp := subject("pcad Bench Issuing CA")
	sp.Set("Years", "5")
	sp.Set("ParentIdentifier", root.ID)
	if crl {
		sp.Set("EnableCrl", "1")
	}
	sub, err = c.createCA(ctx, "CreateSubCACertificate", sp)
	return root, sub, err
}

// parseCertPEM parses one PEM certificate.
func parseCertPEM(text string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate in the answer")
	}
	return x509.ParseCertificate(block.Bytes)
}

// ---------------------------------------------------------------- progress

// benchProgress prints a one-line progress bar on w, at most every 250 ms.
type benchProgress struct {
	w        io.Writer
	label    string
	total    int
	start    time.Time
	last     time.Time
	lastDone int
}

func newBenchProgress(w io.Writer, label string, total int) *benchProgress {
	return &benchProgress{w: w, label: label, total: total, start: time.Now()}
}

// update shows done of total.
func (p *benchProgress) update(done int) {
	now := time.Now()
	if now.Sub(p.last) < 250*time.Millisecond && done < p.total {
		return
	}
	p.last, p.lastDone = now, done
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = done * width / p.total
	}
	rate := float64(done) / max(now.Sub(p.start).Seconds(), 1e-9)
	left := ""
	if rate > 0 && done < p.total {
		left = fmt.Sprintf(", %v left", time.Duration(float64(p.total-done)/rate*float64(time.Second)).Round(time.Second))
	}
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d (%.0f/s%s)   ", p.label, strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		done, p.total, rate, left)
}

// finish ends the bar's line.
func (p *benchProgress) finish(done int) {
	if p.lastDone != done || p.last.IsZero() {
		p.last = time.Time{}
		p.update(done)
	}
	fmt.Fprintf(p.w, "in %v\n", time.Since(p.start).Round(time.Millisecond))
}

// startWithHierarchy makes a fresh store, starts a server on it on a free
// loopback port, and creates a root and a sub-CA through the API with a
// client of conns connections; the caller closes the client.
func (r *benchRun) startWithHierarchy(ctx context.Context, conns int) (*childServer, *benchAPI, benchCA, error) {
	st, err := r.freshStore(ctx, "")
	if err != nil {
		return nil, nil, benchCA{}, err
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, nil, benchCA{}, err
	}
	r.logf("starting the server on %s (%s)", addr, r.report.Settings["store"])
	srv, err := r.startServer(ctx, st, addr)
	if err != nil {
		return nil, nil, benchCA{}, err
	}
	id, secret, err := benchCredentials(filepath.Join(st.dir, "credentials.ini"))
	if err != nil {
		return nil, nil, benchCA{}, err
	}
	api := newBenchAPI(srv.base, id, secret, conns)
	_, sub, err := api.hierarchy(ctx, false)
	if err != nil {
		api.close()
		return nil, nil, benchCA{}, err
	}
	return srv, api, sub, nil
}
