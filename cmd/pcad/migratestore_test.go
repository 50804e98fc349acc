package main

// pcad admin migrate-store: a real pcad on SQLite, moved to PostgreSQL and
// served from there. The PostgreSQL tests run only when PCAD_TEST_POSTGRES
// holds a DSN; each gets its own schema.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
	"github.com/pcad-dev/pcad/internal/store/sqlstore/pgtest"
)

// startStoppable runs pcad with cfg (whose Data, and DB for PostgreSQL, the
// caller sets) behind a real listener whose address is the public URL, and
// returns a stop function that shuts it down and closes its store (also
// run at the end of the test). created reports whether the first start made
// the bootstrap account.
func startStoppable(t *testing.T, cfg config) (ts *testServer, created bool, stop func()) {
	t.Helper()
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.PublicURL = "http://" + ln.Addr().String()
	a, err := newApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	_, created, err = a.bootstrap(ctx)
	if err != nil {
		a.store.Close()
		ln.Close()
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	pkiCtx, stopPKI := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.svc.RunPKI(pkiCtx, pkiPollInterval); close(done) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			srv.Close()
			stopPKI()
			<-done
			a.store.Close()
		})
	}
	t.Cleanup(stop)
	u, _ := url.Parse(srv.URL)
	return &testServer{app: a, srv: srv, endpoint: u.Host}, created, stop
}

// withPassword adds a password to a PostgreSQL URL (the test server trusts
// every connection, so any password works) to check that none is shown.
func withPassword(t *testing.T, dsn, pw string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	return u.String()
}

// pgContents digests every table of the schema dsn's search_path names,
// but the leases of running replicas: row count and an md5 of the sorted
// rows, per table.
func pgContents(t *testing.T, db *sql.DB) string {
	t.Helper()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'leases' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("only %d tables in the schema: %v", len(tables), tables)
	}
	var b strings.Builder
	for _, n := range tables {
		var count int64
		var sum string
		q := fmt.Sprintf(`SELECT COUNT(*), COALESCE(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM %q t`, n)
		if err := db.QueryRowContext(ctx, q).Scan(&count, &sum); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %d %s\n", n, count, sum)
	}
	return b.String()
}

// without returns b without its RequestId.
func without(b map[string]any, key string) string {
	c := map[string]any{}
	for k, v := range b {
		if k != key {
			c[k] = v
		}
	}
	return fmt.Sprint(c)
}

func TestMigrateStore(t *testing.T) {
	dsn := pgtest.Schema(t, "pcad_migrate")
	const pw = "s3cret-Db-pw"
	target := withPassword(t, dsn, pw)
	dir := filepath.Join(t.TempDir(), "data")

	// A team's pcad on SQLite.
	old, created, stopOld := startStoppable(t, config{Data: dir})
	if !created {
		t.Fatal("no bootstrap account")
	}
	var err error
	if old.keyID, old.secret, err = loadCredentials(filepath.Join(dir, "credentials.ini"), "default"); err != nil {
		t.Fatal(err)
	}
	c := old.client(t, "v3")
	root := createRoot(t, c, "ECC_256", nil)
	sub := createSub(t, c, root.ID, "ECC_256", map[string]string{"EnableCrl": "true", "CrlDay": "7"})
	srvB := mustCall(t, c, "CreateServerCertificate", serverParams(sub.ID))
	srvID, srvLeaf := jStr(t, srvB, "Identifier"), parsePEM(t, jStr(t, srvB, "X509Certificate"))
	issueClient(t, c, sub.ID, nil)
	revB := mustCall(t, c, "CreateServerCertificate", with(serverParams(sub.ID), map[string]string{"CommonName": "revoked.example.com"}))
	revID, revLeaf := jStr(t, revB, "Identifier"), parsePEM(t, jStr(t, revB, "X509Certificate"))
	revoke(t, c, revID)
	mustCall(t, c, "TagResources", lcWithTags(lcTagQuery("certificate", srvID), "env=prod", "team=pki"))
	const policy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"yundun-cert:ListCert","Resource":"*"}]}`
	mustRAM(t, c, "CreateUser", map[string]string{"UserName": "lister"})
	mustRAM(t, c, "CreatePolicy", map[string]string{"PolicyName": "list-only", "PolicyDocument": policy})
	mustRAM(t, c, "AttachPolicyToUser", map[string]string{"PolicyType": "Custom", "PolicyName": "list-only", "UserName": "lister"})
	ak := jObj(t, mustRAM(t, c, "CreateAccessKey", map[string]string{"UserName": "lister"}), "AccessKey")
	userID, userSecret := jStr(t, ak, "AccessKeyId"), jStr(t, ak, "AccessKeySecret")
	mustCall(t, clientFor(t, old, "v1", userID, userSecret), "ListCert", nil)

	// What the API shows before the move.
	query := map[string]string{"ShowSize": "50"}
	listBefore := without(list(t, c, query), "RequestId")
	totalBefore := total(t, c, nil)
	describeBefore := without(mustCall(t, c, "DescribeClientCertificate", map[string]string{"Identifier": srvID}), "RequestId")
	tagsBefore := without(mustCall(t, c, "ListTagResources", lcTagQuery("certificate", srvID)), "RequestId")
	if totalBefore != 3 {
		t.Fatalf("ListCert TotalCount %d before the move, want 3", totalBefore)
	}
	stopOld()

	// The move.
	out, errOut, err := runAdmin(t, "migrate-store", "--from", dir, "--to", target, "--yes")
	if err != nil {
		t.Fatalf("migrate-store: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	masterHex, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	master := strings.TrimSpace(string(masterHex))
	for _, s := range []string{pw, master, old.secret, userSecret} {
		if strings.Contains(out+errOut, s) {
			t.Errorf("migrate-store printed a secret (%.4s...):\nstdout:\n%s\nstderr:\n%s", s, out, errOut)
		}
	}
	for _, want := range []string{"Copied the pcad store under " + dir, "certificates", "audit_log", "Every table matches the source",
		"On the copy, audit log OK", `export PCAD_MASTER_KEY="$(cat ` + filepath.Join(dir, "master.key") + `)"`, "pcad serve --db 'postgres://"} {
		if !strings.Contains(out, want) {
			t.Errorf("migrate-store output lacks %q:\n%s", want, out)
		}
	}
	if !strings.HasPrefix(errOut, "copy: accounts") || !strings.Contains(errOut, "\nverify: ") || strings.Contains(errOut, "\r") {
		t.Errorf("progress on a non-terminal stderr: want plain lines, got:\n%s", errOut)
	}

	// pcad on PostgreSQL with the same master key, elsewhere: no bootstrap,
	// the same answers.
	neu, created, stopNew := startStoppable(t, config{Data: t.TempDir(), DB: dsn, MasterKey: master})
	if created {
		t.Fatal("pcad on the migrated store bootstrapped a new account")
	}
	neu.keyID, neu.secret = old.keyID, old.secret
	c2 := neu.client(t, "v1")
	if got := total(t, c2, nil); got != totalBefore {
		t.Errorf("ListCert TotalCount %d after the move, want %d", got, totalBefore)
	}
	if got := without(list(t, c2, query), "RequestId"); got != listBefore {
		t.Errorf("ListCert after the move:\n%s\nbefore:\n%s", got, listBefore)
	}
	if got := without(mustCall(t, c2, "DescribeClientCertificate", map[string]string{"Identifier": srvID}), "RequestId"); got != describeBefore {
		t.Errorf("DescribeClientCertificate after the move:\n%s\nbefore:\n%s", got, describeBefore)
	}
	if got := without(mustCall(t, c2, "ListTagResources", lcTagQuery("certificate", srvID)), "RequestId"); got != tagsBefore {
		t.Errorf("tags after the move:\n%s\nbefore:\n%s", got, tagsBefore)
	}

	// The CRL the new server serves (same path the certificates name).
	dp, err := url.Parse(revLeaf.CRLDistributionPoints[0])
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(httpGet(t, "http://"+neu.endpoint+dp.Path))
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(sub.Cert); err != nil {
		t.Fatalf("CRL signature: %v", err)
	}
	if !onCRL(crl, revLeaf.SerialNumber) || onCRL(crl, srvLeaf.SerialNumber) {
		t.Errorf("served CRL: revoked serial listed %v (want true), valid serial listed %v (want false)",
			onCRL(crl, revLeaf.SerialNumber), onCRL(crl, srvLeaf.SerialNumber))
	}

	// The service-generated key, exported from the copy.
	const exportPW = "Migrate-Pw#4711"
	pemKey := jStr(t, mustCall(t, c2, "DescribeCertificatePrivateKey", map[string]string{"Identifier": srvID, "EncryptedCode": exportPW}), "EncryptedData")
	signer, err := keys.DecryptPKCS8PEM([]byte(pemKey), []byte(exportPW))
	if err != nil {
		t.Fatal(err)
	}
	if pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(srvLeaf.PublicKey) {
		t.Error("the exported key is not the certificate's")
	}

	// The RAM user's AccessKey and its policy came along.
	userC := clientFor(t, neu, "v3", userID, userSecret)
	mustCall(t, userC, "ListCert", nil)
	_, err = call(t, userC, "CreateRootCACertificate", rootParams("ECC_256"))
	wantErr(t, err, 403, "Forbidden.RAM")

	// Sequences were moved: new rows on PostgreSQL.
	newID := issueServer(t, c2, sub.ID, map[string]string{"CommonName": "after.example.com"})
	createSub(t, c2, root.ID, "ECC_256", map[string]string{"CommonName": "Second Sub"})
	mustRAM(t, c2, "CreateUser", map[string]string{"UserName": "second"})
	if got := total(t, c2, nil); got != totalBefore+1 {
		t.Errorf("ListCert TotalCount %d after one more issue, want %d", got, totalBefore+1)
	}
	mustCall(t, c2, "DescribeClientCertificate", map[string]string{"Identifier": newID})

	// The audit chain on PostgreSQL, with the master key from --data.
	if out := mustAdmin(t, "audit", "verify", "--data", dir, "--db", dsn); !strings.HasPrefix(out, "audit log OK: ") {
		t.Errorf("audit verify --db:\n%s", out)
	}
	stopNew()

	// A second move into the same database is refused and changes nothing.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := pgContents(t, db)
	out, errOut, err = runAdmin(t, "migrate-store", "--from", dir, "--to", target, "--yes")
	if !errors.Is(err, sqlstore.ErrTargetNotEmpty) || !strings.Contains(err.Error(), "accounts") || strings.Contains(err.Error()+out+errOut, pw) {
		t.Fatalf("second migrate-store: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	if after := pgContents(t, db); after != before {
		t.Errorf("the refused migrate-store changed the target:\n%s\nwas:\n%s", after, before)
	}
}

// TestMigrateStoreRefuses: bad flags, a missing source, no confirmation and
// an unreachable target fail before anything is copied, and never show
// the URL's password.
func TestMigrateStoreRefuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustAdmin(t, "account", "create", "--data", dir, "--credentials-out", filepath.Join(t.TempDir(), "c.ini"))
	notTTY, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	defer notTTY.Close()
	saved := confirmInput
	confirmInput = notTTY
	t.Cleanup(func() { confirmInput = saved })

	const unreachable = "postgres://pcad:hunter2@127.0.0.1:1/pcad?connect_timeout=2&sslmode=disable"
	cases := []struct {
		name    string
		args    []string
		mention string
	}{
		{"no --from", []string{"--to", unreachable, "--yes"}, "--from DIR and --to postgres://... are both required"},
		{"no --to", []string{"--from", dir, "--yes"}, "both required"},
		{"not postgres", []string{"--from", dir, "--to", "mysql://root:hunter2@db/pcad", "--yes"}, "--to must be a postgres:// or postgresql:// URL"},
		{"stray argument", []string{"--from", dir, "--to", unreachable, "--yes", "now"}, "unexpected arguments"},
		{"no store", []string{"--from", t.TempDir(), "--to", unreachable, "--yes"}, "no pcad store"},
		{"no terminal to confirm on", []string{"--from", dir, "--to", unreachable}, "pass --yes"},
		{"unreachable target", []string{"--from", dir, "--to", unreachable, "--yes"}, "connect"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, err := runAdmin(t, append([]string{"migrate-store"}, c.args...)...)
			if err == nil || !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("err %v, want one mentioning %q", err, c.mention)
			}
			if s := err.Error() + out + errOut; strings.Contains(s, "hunter2") {
				t.Errorf("the password is shown: %s", s)
			}
		})
	}
}

func TestDisplayDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://pcad:pw@db:5432/pcad?sslmode=require": "postgres://pcad:xxxxx@db:5432/pcad?sslmode=require",
		"postgres://db/pcad?password=pw&sslmode=disable":  "postgres://db/pcad?password=xxxxx&sslmode=disable",
		"postgresql://pcad@db/pcad":                       "postgresql://pcad@db/pcad",
		"postgres://pcad:p%40ss%3Aw@db/pcad":              "postgres://pcad:xxxxx@db/pcad",
		"postgres://pcad:pw@[::1:bad/pcad":                "postgres://...",
	} {
		if got := displayDSN(in); got != want {
			t.Errorf("displayDSN(%q) = %q, want %q", in, got, want)
		}
	}
	err := redactDSN(fmt.Errorf("wrap: %w", errors.New("cannot reach postgres://pcad:p@ss:w@db with p@ss:w")), "postgres://pcad:p%40ss%3Aw@db/pcad")
	if strings.Contains(err.Error(), "p@ss:w") || !strings.Contains(err.Error(), "xxxxx") {
		t.Errorf("redactDSN: %v", err)
	}
}

// TestProgressBar: on a terminal one line rewritten in place; elsewhere
// plain lines, at most one a second.
func TestProgressBar(t *testing.T) {
	clock := time.Unix(1_700_000_000, 0)
	at := func(d time.Duration) func() time.Time { return func() time.Time { return clock.Add(d) } }
	steps := []struct {
		after time.Duration
		p     sqlstore.Progress
	}{
		{0, sqlstore.Progress{Table: "accounts", Done: 0, Total: 2}},
		{10 * time.Millisecond, sqlstore.Progress{Table: "accounts", Done: 2, Total: 2}},
		{20 * time.Millisecond, sqlstore.Progress{Table: "certificates", Done: 0, Total: 40000}},
		{500 * time.Millisecond, sqlstore.Progress{Table: "certificates", Done: 10000, Total: 40000}},
		{1100 * time.Millisecond, sqlstore.Progress{Table: "certificates", Done: 20000, Total: 40000}},
		{1900 * time.Millisecond, sqlstore.Progress{Table: "certificates", Done: 30000, Total: 40000}},
		{2200 * time.Millisecond, sqlstore.Progress{Table: "certificates", Done: 40000, Total: 40000}},
		{2300 * time.Millisecond, sqlstore.Progress{Table: sqlstore.IndexProgress, Done: 0, Total: 10}},
		{3400 * time.Millisecond, sqlstore.Progress{Table: sqlstore.IndexProgress, Done: 4, Total: 10}},
	}
	run := func(tty bool) string {
		var b bytes.Buffer
		p := newProgressBar(&b, "copy")
		p.tty = tty
		if tty {
			p.every = 100 * time.Millisecond
		}
		for _, s := range steps {
			p.now = at(s.after)
			p.update(s.p)
		}
		p.finish()
		return b.String()
	}

	plain := run(false)
	lines := strings.Split(strings.TrimSuffix(plain, "\n"), "\n")
	want := []string{
		"copy: accounts   0% (0/2 rows)",
		"copy: certificates  50% (20000/40000 rows), 18519 rows/s",
		"copy: certificates 100% (40000/40000 rows), 18349 rows/s",
		"copy: building indexes  40% (4/10)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") || strings.Contains(plain, "\r") {
		t.Errorf("plain output:\n%s\nwant:\n%s", plain, strings.Join(want, "\n"))
	}

	tty := run(true)
	if !strings.HasPrefix(tty, "\rcopy: accounts") || !strings.HasSuffix(tty, "\n") || strings.Count(tty, "\n") != 1 {
		t.Errorf("terminal output %q: want \\r-rewritten lines and one final newline", tty)
	}
	draws := strings.Split(strings.TrimSuffix(tty, "\n"), "\r")[1:]
	if len(draws) < 4 || !strings.HasPrefix(draws[len(draws)-1], "copy: building indexes  40% (4/10)") {
		t.Errorf("terminal draws %q", draws)
	}
	for i := 1; i < len(draws); i++ {
		if len(draws[i]) < len(strings.TrimRight(draws[i-1], " ")) {
			t.Errorf("draw %q does not cover the longer one before it, %q", draws[i], draws[i-1])
		}
	}
}
