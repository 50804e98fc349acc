package main

// Tests of `pcad bench`: every subcommand on tiny sizes against a real
// server process (the pcad binary, built once here), with the JSON it
// writes checked for sane figures and correct answers; the checks that
// judge answers, on wrong answers; interruption; flag errors. Plus
// BenchmarkIssueHTTP, the issuance path served in process, for CPU
// profiles:
//
//	go test ./cmd/pcad -run '^$' -bench IssueHTTP/csr -benchtime 10s -cpuprofile /tmp/issue.cpu

import (
	"bytes"
	"context"
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
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pcad-dev/pcad/internal/loadgen"
	"github.com/pcad-dev/pcad/internal/store/sqlstore/pgtest"
)

// runBench runs `pcad bench args... --json FILE` in this process and
// returns the report it wrote and what it printed.
func runBench(t *testing.T, ctx context.Context, args ...string) (*loadgen.Report, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	err := run(ctx, append(append([]string{"bench"}, args...), "--json", path), &stdout, &stderr)
	if err != nil {
		t.Fatalf("pcad bench %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep loadgen.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, data)
	}
	for _, h := range []string{"scenario", "per-second", "p50", "p99", "max"} {
		if !strings.Contains(stdout.String(), h) {
			t.Errorf("the table lacks %q:\n%s", h, stdout.String())
		}
	}
	return &rep, stdout.String() + stderr.String()
}

// benchResult returns the named result of rep.
func benchResult(t *testing.T, rep *loadgen.Report, name string) loadgen.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Name == name {
			return r
		}
	}
	var names []string
	for _, r := range rep.Results {
		names = append(names, r.Name)
	}
	t.Fatalf("no result %q in %v", name, names)
	return loadgen.Result{}
}

// benchSane checks the figures every measured scenario must have.
func benchSane(t *testing.T, r loadgen.Result) {
	t.Helper()
	if r.Errors != 0 || r.FirstError != "" {
		t.Errorf("%s: %d errors, first %q", r.Name, r.Errors, r.FirstError)
	}
	if r.Count <= 0 || r.PerSecond <= 0 || r.Seconds <= 0 {
		t.Errorf("%s: count %d, %v/s over %vs", r.Name, r.Count, r.PerSecond, r.Seconds)
	}
	if !(r.P50Ms > 0 && r.P99Ms >= r.P50Ms && r.MaxMs >= r.P99Ms) {
		t.Errorf("%s: p50 %v p99 %v max %v ms", r.Name, r.P50Ms, r.P99Ms, r.MaxMs)
	}
	if want := float64(r.Count) / r.Seconds; r.Name != "crl/build" && (r.PerSecond < want*0.999 || r.PerSecond > want*1.001) {
		t.Errorf("%s: %v/s, but %d in %vs", r.Name, r.PerSecond, r.Count, r.Seconds)
	}
}

// benchServerMemory checks the run-wide server memory figures.
func benchServerMemory(t *testing.T, rep *loadgen.Report) {
	t.Helper()
	rss, peak := rep.Figures["server_rss_bytes"], rep.Figures["server_peak_rss_bytes"]
	if rss < 1<<20 || peak < rss || peak > 4<<30 {
		t.Errorf("server RSS %v, peak %v bytes", rss, peak)
	}
}

// benchProcesses lists the processes running bin.
func benchProcesses(bin string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.HasPrefix(cmdline, []byte(bin+"\x00")) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestBenchCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real servers under load for about half a minute")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool to build the pcad binary")
	}
	bin := filepath.Join(t.TempDir(), "pcad")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	benchServerBin = bin
	t.Cleanup(func() { benchServerBin = "" })
	ctx := context.Background()
	// Every run removes its temporary directory: they all go here.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Cleanup(func() {
		if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
			t.Errorf("left behind in the temporary directory: %v", ents)
		}
		if ps := benchProcesses(bin); len(ps) > 0 {
			t.Errorf("servers still running: %v", ps)
		}
	})

	t.Run("issue", func(t *testing.T) {
		rep, out := runBench(t, ctx, "issue", "--duration", "1s", "--clients", "2", "--ceiling", "300ms")
		res := benchResult(t, rep, "issue/csr")
		benchSane(t, res)
		ceil := benchResult(t, rep, "ceiling/csr")
		benchSane(t, ceil)
		// The store holds exactly what was answered: the run's calls and 10
		// warm-up calls per client.
		if got, want := res.Figures["stored_total"], float64(res.Count+20); got != want {
			t.Errorf("ListCert counted %v certificates, %v were answered", got, want)
		}
		if v := res.Figures["verified_in_full"]; v < 2 || v > float64(res.Count+20) {
			t.Errorf("%v answers checked in full", v)
		}
		if got, want := res.Figures["ratio_to_ceiling"], res.PerSecond/ceil.PerSecond; got != want || rep.Figures["ratio_to_ceiling"] != want {
			t.Errorf("ratio %v, want %v", got, want)
		}
		// CPU per call: the server's (child process) and the clients'
		// (this process) are both measured; the server works for each.
		if ms, ok := res.Figures["server_cpu_ms_per_call"]; !ok || ms <= 0 || ms > 1000 {
			t.Errorf("server CPU per certificate %v ms (%v)", ms, ok)
		}
		if _, ok := res.Figures["client_cpu_ms_per_call"]; !ok || ceil.Figures["cpu_ms_per_call"] <= 0 {
			t.Errorf("client CPU figure missing, or ceiling CPU %v", ceil.Figures["cpu_ms_per_call"])
		}
		if ceil.Workers < 1 || res.Workers != 2 {
			t.Errorf("workers: ceiling %d, issue %d", ceil.Workers, res.Workers)
		}
		if rep.Settings["store"] != "sqlite" || rep.Settings["mode"] != "csr" || !strings.HasPrefix(rep.Command, "pcad bench issue") {
			t.Errorf("settings %v, command %q", rep.Settings, rep.Command)
		}
		if rep.Machine.CPUs < 1 || rep.Machine.GoVersion == "" {
			t.Errorf("machine %+v", rep.Machine)
		}
		benchServerMemory(t, rep)
		if !strings.Contains(out, "% of the ceiling") {
			t.Errorf("the table does not give the ratio to the ceiling:\n%s", out)
		}
	})

	t.Run("issue-keygen", func(t *testing.T) {
		profiles := t.TempDir()
		rep, _ := runBench(t, ctx, "issue", "--keygen", "--duration", "500ms", "--clients", "1", "--ceiling", "0", "--server-profile", profiles)
		res := benchResult(t, rep, "issue/keygen")
		benchSane(t, res)
		if len(rep.Results) != 1 || res.Figures["stored_total"] != float64(res.Count+10) {
			t.Errorf("results %d (no ceiling asked), stored %v of %d+10", len(rep.Results), res.Figures["stored_total"], res.Count)
		}
		// --server-profile: the server's CPU profile of the scenario, a
		// gzipped pprof file.
		prof, err := os.ReadFile(filepath.Join(profiles, "issue-keygen.pprof"))
		if err != nil || len(prof) < 2 || prof[0] != 0x1f || prof[1] != 0x8b {
			t.Errorf("server profile: %d bytes, %v; want a gzipped pprof profile", len(prof), err)
		}
	})

	t.Run("list", func(t *testing.T) {
		data := filepath.Join(t.TempDir(), "seeded")
		rep, _ := runBench(t, ctx, "list", "--certs", "2000", "--duration", "300ms", "--data", data)
		names := []string{"token/no-filter", "token/status+type", "token/parent", "token/instance", "token/date-window",
			"token/depth-1000", "page/page-20"}
		if len(rep.Results) != len(names) {
			t.Fatalf("%d results, want %d", len(rep.Results), len(names))
		}
		totals := map[string]float64{}
		for _, n := range names {
			r := benchResult(t, rep, n)
			benchSane(t, r)
			totals[n] = r.Figures["total_count"]
		}
		for _, n := range []string{"token/no-filter", "token/depth-1000", "page/page-20"} {
			if totals[n] != 2000 {
				t.Errorf("%s: TotalCount %v, want 2000", n, totals[n])
			}
		}
		// The two sub-CAs share the certificates; the filters select real
		// subsets.
		if totals["token/parent"]+totals["token/instance"] != 2000 {
			t.Errorf("parent %v + instance %v, want 2000", totals["token/parent"], totals["token/instance"])
		}
		for _, n := range []string{"token/status+type", "token/parent", "token/instance", "token/date-window"} {
			if totals[n] <= 0 || totals[n] >= 2000 {
				t.Errorf("%s: TotalCount %v is not a proper subset of 2000", n, totals[n])
			}
		}
		if rep.Figures["server_idle_rss_bytes"] <= 0 || rep.Figures["walk_ms"] <= 0 {
			t.Errorf("figures %v", rep.Figures)
		}
		benchServerMemory(t, rep)
		if _, err := os.Stat(filepath.Join(data, listSeedFile)); err != nil {
			t.Fatalf("the seeded directory has no %s: %v", listSeedFile, err)
		}

		// The seeded directory is reused as it is, with the same answers.
		again, out := runBench(t, ctx, "list", "--duration", "100ms", "--data", data)
		if !strings.Contains(out, "reusing the store seeded in") || strings.Contains(out, "seeding certificates") {
			t.Errorf("second run did not reuse the seed:\n%s", out)
		}
		for _, n := range names {
			if r := benchResult(t, again, n); r.Errors != 0 || r.Figures["total_count"] != totals[n] {
				t.Errorf("reused %s: %d errors, TotalCount %v, want %v", n, r.Errors, r.Figures["total_count"], totals[n])
			}
		}
		var stdout, stderr bytes.Buffer
		if err := run(ctx, []string{"bench", "list", "--certs", "3000", "--data", data}, &stdout, &stderr); err == nil ||
			!strings.Contains(err.Error(), "seeded with 2000") {
			t.Errorf("--certs 3000 on a 2000 seed: %v", err)
		}
	})

	t.Run("crl", func(t *testing.T) {
		rep, _ := runBench(t, ctx, "crl", "--revoked", "1000", "--fetches", "3")
		b := benchResult(t, rep, "crl/build")
		benchSane(t, b)
		if b.Count != 1 || b.Figures["entries"] != 1000 || b.Figures["crl_bytes"] < 1000*20 || b.Figures["server_peak_rss_bytes"] < 1<<20 {
			t.Errorf("build: %+v", b)
		}
		if b.Figures["after_process_start_ms"] < b.P50Ms {
			t.Errorf("built %v ms after the start but %v ms after ready", b.Figures["after_process_start_ms"], b.P50Ms)
		}
		f := benchResult(t, rep, "crl/fetch")
		benchSane(t, f)
		if f.Count != 3 {
			t.Errorf("%d fetches, want 3", f.Count)
		}
		benchServerMemory(t, rep)
	})

	t.Run("ocsp", func(t *testing.T) {
		rep, _ := runBench(t, ctx, "ocsp", "--duration", "700ms", "--clients", "4", "--certs", "8")
		for _, n := range []string{"ocsp/cached-post", "ocsp/cached-get", "ocsp/nonce-post"} {
			benchSane(t, benchResult(t, rep, n))
		}
		benchServerMemory(t, rep)
	})

	t.Run("postgres", func(t *testing.T) {
		dsn := os.Getenv(pgtest.Env)
		if dsn == "" {
			t.Skip(pgtest.Env + " is not set")
		}
		rep, _ := runBench(t, ctx, "issue", "--db", dsn, "--duration", "500ms", "--clients", "2", "--ceiling", "0")
		benchSane(t, benchResult(t, rep, "issue/csr"))
		schema := rep.Settings["schema"]
		if rep.Settings["store"] != "postgres" || !strings.HasPrefix(schema, "pcad_bench_") || strings.Contains(rep.Command, dsn) {
			t.Fatalf("settings %v, command %q", rep.Settings, rep.Command)
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = $1", schema).Scan(&n); err != nil || n != 0 {
			t.Errorf("schema %s left behind (%d, %v)", schema, n, err)
		}
	})

	t.Run("interrupt", func(t *testing.T) {
		// Ctrl-C in the middle of a run: the command returns at once, the
		// server stops and the temporary directory goes (checked at the
		// end of the test).
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stdout, stderr := &tailBuffer{max: 1 << 20}, &tailBuffer{max: 1 << 20} // read while written
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"bench", "ocsp", "--duration", "1m", "--certs", "4"}, stdout, stderr)
		}()
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(stderr.String(), "ocsp/cached-post with") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(stderr.String(), "ocsp/cached-post with") {
			t.Fatalf("the run did not reach its load phase:\n%s", stderr.String())
		}
		if len(benchProcesses(bin)) != 1 {
			t.Errorf("servers running during the run: %v", benchProcesses(bin))
		}
		start := time.Now()
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("interrupted run returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the interrupted run did not return")
		}
		if took := time.Since(start); took > 20*time.Second {
			t.Errorf("stopping took %v", took)
		}
		if ps := benchProcesses(bin); len(ps) > 0 {
			t.Errorf("servers still running after the interrupt: %v", ps)
		}
	})
}

func TestBenchFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the error
	}{
		{"no subcommand", []string{"bench"}, "no subcommand"},
		{"unknown subcommand", []string{"bench", "load"}, "unknown subcommand"},
		{"zero clients", []string{"bench", "issue", "--clients", "0"}, "--clients"},
		{"zero duration", []string{"bench", "ocsp", "--duration", "0s"}, "--duration"},
		{"negative ceiling", []string{"bench", "issue", "--ceiling", "-1s"}, "--ceiling"},
		{"other database", []string{"bench", "issue", "--db", "mysql://u:secret@db/pcad"}, "unsupported scheme"},
		{"too few certs", []string{"bench", "list", "--certs", "10"}, "--certs"},
		{"data with db", []string{"bench", "list", "--data", "x", "--db", "postgres://u:secret@h/db"}, "--data"},
		{"no revocations", []string{"bench", "crl", "--revoked", "0"}, "--revoked"},
		{"no clients flag for crl", []string{"bench", "crl", "--clients", "2"}, "not defined"},
		{"extra argument", []string{"bench", "ocsp", "now"}, "unexpected arguments"},
		{"not empty and not seeded", []string{"bench", "list", "--data", "."}, "not seeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.want) {
				t.Fatalf("error %v (stderr %q), want one about %q", err, stderr.String(), tc.want)
			}
			if strings.Contains(err.Error()+stderr.String()+stdout.String(), "secret") {
				t.Errorf("a password was printed: %v %s", err, stderr.String())
			}
		})
	}
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"bench", "help"}, &stdout, io.Discard); err != nil || !strings.Contains(stdout.String(), "pcad bench list") {
		t.Errorf("bench help: %v %q", err, stdout.String())
	}
	// An AccessKey in the environment would replace the fresh server's:
	// refused before anything starts.
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIsomeoneelse")
	t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret")
	for _, sub := range []string{"issue", "list", "crl", "ocsp"} {
		err := run(context.Background(), []string{"bench", sub}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "unset them") {
			t.Errorf("bench %s with an AccessKey in the environment: %v", sub, err)
		}
	}
}

func TestRedactArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"plain", []string{"--clients", "4"}, "--clients 4"},
		{"db value", []string{"--db", "postgres://u:pw@h/db", "--keep"}, "--db <postgres URL> --keep"},
		{"db equals", []string{"-db=postgres://u:pw@h/db"}, "-db=<postgres URL>"},
		{"db last", []string{"--db"}, "--db <postgres URL>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := redactArgs(tc.args); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBenchChecks feeds the answer checks wrong answers: each must be
// caught, and the right answer must pass.
func TestBenchChecks(t *testing.T) {
	var answer atomic.Value // the body every call gets
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer.Load().(string))
	}))
	defer srv.Close()
	base, _ := url.Parse(srv.URL)
	api := newBenchAPI(base, "LTAIbench", "secret", 2)
	defer api.close()
	ctx := context.Background()

	t.Run("ListCert", func(t *testing.T) {
		s := listScenario{name: "x", params: url.Values{}, total: 10, size: 2, firstID: 9, status: "ISSUE", typ: "SERVER"}
		item := func(id, status, typ string) string {
			return fmt.Sprintf(`{"Id":%q,"Status":%q,"CertificateType":%q}`, id, status, typ)
		}
		tests := []struct {
			name, body string
			ok         bool
		}{
			{"right", `{"TotalCount":10,"List":[` + item("9", "ISSUE", "SERVER") + "," + item("7", "ISSUE", "SERVER") + `]}`, true},
			{"total", `{"TotalCount":11,"List":[` + item("9", "ISSUE", "SERVER") + "," + item("7", "ISSUE", "SERVER") + `]}`, false},
			{"short page", `{"TotalCount":10,"List":[` + item("9", "ISSUE", "SERVER") + `]}`, false},
			{"order", `{"TotalCount":10,"List":[` + item("9", "ISSUE", "SERVER") + "," + item("12", "ISSUE", "SERVER") + `]}`, false},
			{"first id", `{"TotalCount":10,"List":[` + item("8", "ISSUE", "SERVER") + "," + item("7", "ISSUE", "SERVER") + `]}`, false},
			{"filter", `{"TotalCount":10,"List":[` + item("9", "ISSUE", "SERVER") + "," + item("7", "REVOKE", "SERVER") + `]}`, false},
			{"id not digits", `{"TotalCount":10,"List":[` + item("9", "ISSUE", "SERVER") + "," + item("x", "ISSUE", "SERVER") + `]}`, false},
			{"not JSON", `<html>`, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				answer.Store(tc.body)
				err := (&listOp{api: api, s: s}).do(ctx, 0)
				if (err == nil) != tc.ok {
					t.Fatalf("check of %s: %v, want ok=%v", tc.body, err, tc.ok)
				}
			})
		}
	})

	t.Run("issue", func(t *testing.T) {
		f := newCheckFixture(t)
		op := newIssueOp(api, f.sub, 1, false, f.key.Public(), "csr")
		other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			body string
			ok   bool
		}{
			{"right", f.answer(t, 0x1234, issueCN, f.key, f.subKey), true},
			{"serial", strings.Replace(f.answer(t, 0x1234, issueCN, f.key, f.subKey), `"SerialNumber":"1234"`, `"SerialNumber":"1235"`, 1), false},
			{"name", f.answer(t, 0x1234, "other.example.com", f.key, f.subKey), false},
			{"key", f.answer(t, 0x1234, issueCN, other, f.subKey), false},
			{"issuer", f.answer(t, 0x1234, issueCN, f.key, other), false},
			{"no certificate", `{"Identifier":"x","SerialNumber":"1234"}`, false},
			{"error answer", `{"Code":"InvalidParameter"}`, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				answer.Store(tc.body)
				op.workers[0].n = 0 // the first answer of a client is checked in full
				err := op.do(ctx, 0)
				if (err == nil) != tc.ok {
					t.Fatalf("check: %v, want ok=%v", err, tc.ok)
				}
			})
		}
		op.workers[0].serials = nil
		for _, hex := range []string{"a", "123456789abcdef0123456789abcdef", "b", "123456789abcdef0123456789abcdef"} {
			v, err := serialBits(hex)
			if err != nil {
				t.Fatal(err)
			}
			op.workers[0].serials = append(op.workers[0].serials, v)
		}
		if got := op.duplicateSerial(); got != "123456789abcdef0123456789abcdef" {
			t.Errorf("duplicate serial %q", got)
		}
		op.workers[0].serials = op.workers[0].serials[:3]
		if got := op.duplicateSerial(); got != "" {
			t.Errorf("duplicate serial %q among distinct ones", got)
		}
		for _, bad := range []string{"", "xyz", "123456789abcdef0123456789abcdef01"} {
			if _, err := serialBits(bad); err == nil {
				t.Errorf("serialBits(%q) accepted", bad)
			}
		}
	})
}

// checkFixture is a sub-CA and a leaf key for answers the issue check
// judges.
type checkFixture struct {
	sub    benchCA
	subKey *ecdsa.PrivateKey
	key    *ecdsa.PrivateKey
}

func newCheckFixture(t *testing.T) *checkFixture {
	t.Helper()
	f := &checkFixture{}
	var err error
	if f.subKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if f.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Check CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, f.subKey.Public(), f.subKey)
	if err != nil {
		t.Fatal(err)
	}
	if f.sub.Cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	f.sub.ID = "sub"
	return f
}

// answer is an issuance answer for a certificate of key named cn, signed
// by signer as the fixture's sub-CA (or as an impostor with the same name,
// when signer is not the sub-CA's key).
func (f *checkFixture) answer(t *testing.T, serial int64, cn string, key, signer *ecdsa.PrivateKey) string {
	t.Helper()
	parent := f.sub.Cert
	if !signer.PublicKey.Equal(f.subKey.Public()) {
		fake := *parent
		fake.PublicKey = signer.Public()
		parent = &fake
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"Identifier": "id", "SerialNumber": big.NewInt(serial).Text(16),
		"X509Certificate": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))})
	return string(b)
}

// BenchmarkIssueHTTP issues server certificates through the whole server
// (signed HTTP requests, protocol layer, service, SQLite store) served in
// this process, so that a CPU profile shows where an issuance's time goes.
// Four clients, as `pcad bench issue` uses by default. It reports
// certificates per second.
func BenchmarkIssueHTTP(b *testing.B) {
	for _, mode := range []string{"csr", "keygen"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			base := &url.URL{Scheme: "http", Host: ln.Addr().String()}
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			a, err := newApp(ctx, config{Data: filepath.Join(b.TempDir(), "data"), PublicURL: base.String()}, logger)
			if err != nil {
				b.Fatal(err)
			}
			defer a.store.Close()
			credPath, _, err := a.bootstrap(ctx)
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second}
			go srv.Serve(ln)
			defer srv.Close()
			pkiCtx, stopPKI := context.WithCancel(ctx)
			defer stopPKI()
			go a.svc.RunPKI(pkiCtx, pkiPollInterval)
			id, secret, err := benchCredentials(credPath)
			if err != nil {
				b.Fatal(err)
			}
			const parallelism = 2 // goroutines per GOMAXPROCS
			clients := parallelism * max(1, runtime.GOMAXPROCS(0))
			api := newBenchAPI(base, id, secret, 2*clients)
			defer api.close()
			_, sub, err := api.hierarchy(ctx, false)
			if err != nil {
				b.Fatal(err)
			}
			key, csrPEM, err := benchCSR()
			if err != nil {
				b.Fatal(err)
			}
			op := newIssueOp(api, sub, clients, mode == "keygen", key.Public(), csrPEM)
			var worker, failed atomic.Int64
			var firstErr atomic.Value
			b.SetParallelism(parallelism)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := int(worker.Add(1) - 1)
				for pb.Next() {
					if err := op.do(ctx, w); err != nil && failed.Add(1) == 1 {
						firstErr.Store(err)
					}
				}
			})
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d of %d issuances failed; first: %v", n, b.N, firstErr.Load())
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "certs/s")
		})
	}
}
