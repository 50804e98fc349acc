package main

// Crash safety (issue 9): `pcad serve` is killed with SIGKILL in the middle
// of a burst of concurrent issuances and revocations, then restarted on the
// same store with the same master key. Whatever the server acknowledged
// must still be there: every acknowledged certificate with its serial and
// bytes, every acknowledged revocation (also on the CRL the restarted
// server publishes), exact counts, unique serials and an audit chain that
// verifies, with a record of every acknowledged call. On SQLite always, on
// PostgreSQL when PCAD_TEST_POSTGRES is set.
//
// The server processes and their helpers (repBuild, repStart, repCall,
// repCRL) come from e2e_replicas_test.go.

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/pcad-dev/pcad/internal/store/sqlstore/pgtest"
)

// crashIssuers and crashRevokers are the goroutines of the burst;
// crashKillAfter is when SIGKILL arrives after the burst started.
const (
	crashIssuers   = 4
	crashRevokers  = 2
	crashKillAfter = 900 * time.Millisecond
	crashInitial   = 8 // certificates issued before the burst
)

// crashIssued is one acknowledged issuance.
type crashIssued struct {
	serial    string // SerialNumber of the answer (hex)
	der       []byte // the certificate of the answer
	requestID string
}

func TestCrashSafety(t *testing.T) {
	dir := t.TempDir()
	buildStart := time.Now()
	bin := repBuild(t, dir)
	t.Logf("built the binary in %v", time.Since(buildStart).Round(time.Millisecond))

	t.Run("sqlite", func(t *testing.T) {
		crashRun(t, bin, filepath.Join(dir, "sqlite"), "")
	})
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(pgtest.Env) == "" {
			t.Skip(pgtest.Env + " is not set")
		}
		crashRun(t, bin, filepath.Join(dir, "postgres"), crashDSN(t))
	})
}

// crashDSN returns a fresh schema's DSN (dropped when t ends) without the
// synchronous_commit=off that pgtest.Schema adds for speed: this test is
// about durability, so the server's own synchronous_commit setting (on by
// default) applies, as in production. (SIGKILL hits pcad, not PostgreSQL,
// so a commit PostgreSQL acknowledged survives either way; the setting only
// keeps the test honest should the database ever be restarted too.)
func crashDSN(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(pgtest.Schema(t, "crash"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Del("synchronous_commit")
	if q.Get("search_path") == "" {
		t.Fatal("pgtest.Schema gave a DSN without search_path")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// crashRun runs the whole scenario in dir on SQLite (dsn "") or on the
// PostgreSQL schema dsn names.
func crashRun(t *testing.T, bin, dir, dsn string) {
	start := time.Now()
	master := make([]byte, 32)
	rand.Read(master)
	env := repEnv(hex.EncodeToString(master))
	args := []string{"--qps-per-user", "0", "--log-level", "info"}
	if dsn != "" {
		args = append(args, "--db", dsn)
	}

	first := repStart(t, bin, "first", dir, args, env)
	keyID, secret := readCredentials(t, filepath.Join(first.data, "credentials.ini"))
	first.ts = &testServer{keyID: keyID, secret: secret, endpoint: first.addr}
	cli := first.ts.client(t, "v3")

	root := createRoot(t, cli, "ECC_256", nil)
	sub := createSub(t, cli, root.ID, "ECC_256", map[string]string{"EnableCrl": "true", "CrlDay": "7"})
	initial := map[string]crashIssued{}
	for i := range crashInitial {
		r := mustCall(t, cli, "CreateServerCertificate", with(serverParams(sub.ID),
			map[string]string{"CommonName": fmt.Sprintf("before-%d.example.com", i)}))
		initial[jStr(t, r, "Identifier")] = crashIssued{serial: jStr(t, r, "SerialNumber"),
			der: parsePEM(t, jStr(t, r, "X509Certificate")).Raw, requestID: jStr(t, r, "RequestId")}
	}
	crlBefore := repCRL(t, first.addr, sub.ID, sub.Cert)

	// The burst. Revokers take certificates acknowledged earlier: the
	// initial ones first, then those the issuers get acknowledged.
	csrs := make([]string, crashIssuers)
	for w := range csrs {
		csrs[w] = csrMake(t, csrP256(t), pkix.Name{CommonName: fmt.Sprintf("csr-%d.example.com", w)})
	}
	targets := make(chan string, 1<<16)
	for id := range initial {
		targets <- id
	}
	hc := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: crashIssuers + crashRevokers}}
	defer hc.CloseIdleConnections()
	var (
		mu            sync.Mutex
		acked         = map[string]crashIssued{} // burst issuances answered 200
		issueInFlight int                        // issuances sent while the server lived whose answer was lost
		revAcked      = map[string]string{}      // Identifier -> RequestId of revocations answered 200
		revInFlight   = map[string]bool{}        // revocations sent while the server lived whose answer was lost
		bad           []string
		killSent      atomic.Bool
		dead          atomic.Bool
		stop          = make(chan struct{}) // closed once the server is dead
		wg            sync.WaitGroup
	)
	// transportErr records a call without an answer; it reports whether
	// the call was in flight (sent while the server was alive).
	transportErr := func(sentAlive bool, what string, err error) bool {
		if !killSent.Load() {
			bad = append(bad, what+": transport error before the kill: "+err.Error())
		}
		return sentAlive
	}
	for w := range crashIssuers {
		wg.Go(func() {
			for i := 0; ; i++ {
				action, params := "CreateServerCertificate", url.Values{"ParentIdentifier": {sub.ID}, "Algorithm": {"ECC_256"},
					"CommonName": {fmt.Sprintf("burst-%d-%d.example.com", w, i)}, "Days": {"30"}, "Immediately": {"1"}}
				if (i+w)%2 == 1 {
					action, params = "CreateServerCertificateWithCsr", url.Values{"ParentIdentifier": {sub.ID}, "Csr": {csrs[w]},
						"Days": {"30"}, "Immediately": {"1"}}
				}
				sentAlive := !dead.Load()
				ans, err := repCall(context.Background(), hc, first.addr, action, params, keyID, secret)
				mu.Lock()
				nbad := len(bad)
				switch {
				case err != nil:
					if transportErr(sentAlive, action, err) {
						issueInFlight++
					}
				case ans.status != http.StatusOK:
					bad = append(bad, fmt.Sprintf("%s: HTTP %d %s", action, ans.status, ans.code))
				default:
					id, _ := ans.body["Identifier"].(string)
					serial, _ := ans.body["SerialNumber"].(string)
					pemText, _ := ans.body["X509Certificate"].(string)
					reqID, _ := ans.body["RequestId"].(string)
					cert, perr := crashParsePEM(pemText)
					switch {
					case id == "" || serial == "" || reqID == "":
						bad = append(bad, fmt.Sprintf("%s: 200 without Identifier, SerialNumber and RequestId: %v", action, ans.body))
					case perr != nil:
						bad = append(bad, fmt.Sprintf("%s: 200 with X509Certificate that does not parse: %v", action, perr))
					default:
						acked[id] = crashIssued{serial: serial, der: cert.Raw, requestID: reqID}
						if i%5 == 4 {
							break // kept out of the revokers' reach: revoked after the restart
						}
						select {
						case targets <- id:
						default:
						}
					}
				}
				done := err != nil || len(bad) > nbad
				mu.Unlock()
				if done {
					return
				}
			}
		})
	}
	for range crashRevokers {
		wg.Go(func() {
			for {
				var id string
				select {
				case id = <-targets:
				case <-stop:
					return
				}
				sentAlive := !dead.Load()
				ans, err := repCall(context.Background(), hc, first.addr, "CreateRevokeClientCertificate", url.Values{"Identifier": {id}}, keyID, secret)
				mu.Lock()
				switch {
				case err != nil:
					if transportErr(sentAlive, "CreateRevokeClientCertificate", err) {
						revInFlight[id] = true
					}
				case ans.status != http.StatusOK:
					bad = append(bad, fmt.Sprintf("CreateRevokeClientCertificate %s: HTTP %d %s", id, ans.status, ans.code))
				default:
					reqID, _ := ans.body["RequestId"].(string)
					revAcked[id] = reqID
				}
				mu.Unlock()
				if err != nil || ans.status != http.StatusOK {
					return
				}
			}
		})
	}
	time.Sleep(crashKillAfter)
	killSent.Store(true)
	killedAt := time.Now()
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	select {
	case <-first.exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not exit within 10 s of SIGKILL")
	}
	dead.Store(true)
	close(stop)
	wg.Wait()
	if len(bad) > 0 {
		t.Fatalf("%d unexpected answers during the burst, first: %s", len(bad), bad[0])
	}
	t.Logf("burst: %d issuances and %d revocations acknowledged before SIGKILL at %v; in flight at the kill: %d issuances, %d revocations",
		len(acked), len(revAcked), crashKillAfter, issueInFlight, len(revInFlight))
	if len(acked) < crashIssuers || len(revAcked) < crashRevokers {
		t.Fatalf("only %d issuances and %d revocations acknowledged: the burst did not run", len(acked), len(revAcked))
	}
	all := map[string]crashIssued{} // every acknowledged issuance
	for id, c := range initial {
		all[id] = c
	}
	for id, c := range acked {
		all[id] = c
	}

	// Restart on the same store: same --data (credentials, SQLite file),
	// same --db, same master key. The later --data wins.
	second := repStart(t, bin, "second", dir, append(args, "--data", first.data), env)
	t.Logf("restarted %v after the kill", time.Since(killedAt).Round(time.Millisecond))
	second.ts = &testServer{keyID: keyID, secret: secret, endpoint: second.addr}
	cli = second.ts.client(t, "v3")

	roots := x509.NewCertPool()
	roots.AddCert(root.Cert)
	inter := x509.NewCertPool()
	inter.AddCert(sub.Cert)

	// Every acknowledged certificate, as it was answered.
	for id, want := range all {
		b, err := call(t, cli, "DescribeClientCertificate", map[string]string{"Identifier": id})
		if err != nil {
			t.Errorf("acknowledged %s after the restart: %s", id, describeErr(err))
			continue
		}
		d := jObj(t, b, "Certificate")
		if got := jStr(t, d, "SerialNumber"); got != want.serial {
			t.Errorf("%s: serial %s after the restart, %s acknowledged", id, got, want.serial)
		}
		cert := parsePEM(t, jStr(t, d, "X509Certificate"))
		if string(cert.Raw) != string(want.der) {
			t.Errorf("%s: another certificate after the restart than the one acknowledged", id)
		}
		if cert.SerialNumber.Text(16) != want.serial {
			t.Errorf("%s: certificate serial %x, SerialNumber %s", id, cert.SerialNumber, want.serial)
		}
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			t.Errorf("%s: does not verify under the sub-CA: %v", id, err)
		}
		status := jStr(t, d, "Status")
		switch {
		case revAcked[id] != "":
			if status != "REVOKE" {
				t.Errorf("%s: revocation acknowledged, status %q after the restart", id, status)
			}
		case revInFlight[id]:
			// Either outcome is right.
		case status != "ISSUE":
			t.Errorf("%s: never revoked, status %q after the restart", id, status)
		}
	}

	// Listing: TotalCount is the number of rows, serials are unique, the
	// acknowledged certificates are there and at most the in-flight
	// issuances come on top.
	totalCount, listed := crashListAll(t, cli, nil)
	if int64(len(listed)) != totalCount {
		t.Errorf("ListCert: TotalCount %d, %d rows", totalCount, len(listed))
	}
	serials := map[string]string{}
	unknown := 0
	for id, serial := range listed {
		if other, dup := serials[serial]; dup {
			t.Errorf("serial %s is used by both %s and %s", serial, other, id)
		}
		serials[serial] = id
		if _, ok := all[id]; !ok {
			unknown++
		}
	}
	for id, want := range all {
		if got, ok := listed[id]; !ok {
			t.Errorf("ListCert does not list the acknowledged %s", id)
		} else if got != want.serial {
			t.Errorf("ListCert lists %s with serial %s, %s acknowledged", id, got, want.serial)
		}
	}
	if unknown > issueInFlight {
		t.Errorf("ListCert lists %d certificates nobody acknowledged, with only %d issuances in flight", unknown, issueInFlight)
	}
	lo, hi := int64(len(all)), int64(len(all)+issueInFlight)
	t.Logf("after the restart: TotalCount %d = %d acknowledged (%d before the burst + %d in it) + %d of the %d in flight",
		totalCount, len(all), len(initial), len(acked), totalCount-lo, issueInFlight)
	if totalCount < lo || totalCount > hi {
		t.Errorf("TotalCount %d, want within [%d, %d]", totalCount, lo, hi)
	}

	revCount, revoked := crashListAll(t, cli, map[string]string{"Status": "REVOKE"})
	if int64(len(revoked)) != revCount {
		t.Errorf("ListCert Status=REVOKE: TotalCount %d, %d rows", revCount, len(revoked))
	}
	for id := range revAcked {
		if _, ok := revoked[id]; !ok {
			t.Errorf("ListCert Status=REVOKE does not list %s, whose revocation was acknowledged", id)
		}
	}
	for id := range revoked {
		if revAcked[id] == "" && !revInFlight[id] {
			t.Errorf("ListCert Status=REVOKE lists %s, which nobody revoked", id)
		}
	}
	t.Logf("after the restart: Status=REVOKE TotalCount %d = %d acknowledged + %d of the %d in flight",
		revCount, len(revAcked), revCount-int64(len(revAcked)), len(revInFlight))
	if revCount < int64(len(revAcked)) || revCount > int64(len(revAcked)+len(revInFlight)) {
		t.Errorf("Status=REVOKE TotalCount %d, want within [%d, %d]", revCount, len(revAcked), len(revAcked)+len(revInFlight))
	}

	// The CRL. Right after the restart the server serves the CRL stored
	// last, which the killed process may or may not have rebuilt after the
	// last acknowledged revocation: CRLs are rebuilt in the background, by
	// the holder of the background lease, and the killed process holds it
	// until it expires (15 s, internal/service/leader.go). One more
	// revocation, made on the restarted server, must reach its CRL too:
	// CRL publishing resumes after a crash. The CRL that has it must have
	// every revocation acknowledged before the kill.
	crlRestart := repCRL(t, second.addr, sub.ID, sub.Cert)
	revSerial := func(id string) *big.Int {
		n, ok := new(big.Int).SetString(all[id].serial, 16)
		if !ok {
			t.Fatalf("%s: serial %q is not hex", id, all[id].serial)
		}
		return n
	}
	onRestart := 0
	for id := range revAcked {
		if onCRL(crlRestart, revSerial(id)) {
			onRestart++
		}
	}
	t.Logf("CRL served right after the restart: number %v (%v before the burst), %d entries, %d of the %d revocations acknowledged before the kill",
		crlRestart.Number, crlBefore.Number, len(crlRestart.RevokedCertificateEntries), onRestart, len(revAcked))
	var late string // never revoked, nor in flight
	for id := range all {
		if revAcked[id] == "" && !revInFlight[id] {
			late = id
			break
		}
	}
	if late == "" {
		t.Fatal("no acknowledged certificate left to revoke after the restart")
	}
	lateReq := jStr(t, mustCall(t, cli, "CreateRevokeClientCertificate", map[string]string{"Identifier": late}), "RequestId")
	lateAt := time.Now()
	for {
		crl := repCRL(t, second.addr, sub.ID, sub.Cert)
		missing := 0
		for id := range revAcked {
			if !onCRL(crl, revSerial(id)) {
				missing++
			}
		}
		if onCRL(crl, revSerial(late)) {
			t.Logf("CRL: the revocation made after the restart on the CRL %v after it was acknowledged (%v after the kill): number %v -> %v, %d entries",
				time.Since(lateAt).Round(time.Millisecond), time.Since(killedAt).Round(time.Millisecond), crlRestart.Number, crl.Number,
				len(crl.RevokedCertificateEntries))
			if missing > 0 {
				t.Errorf("the CRL built after the restart (number %v) misses %d of the %d revocations acknowledged before the kill",
					crl.Number, missing, len(revAcked))
			}
			if crl.Number.Cmp(crlRestart.Number) <= 0 || crl.Number.Cmp(crlBefore.Number) <= 0 {
				t.Errorf("CRL number %v; %v right after the restart, %v before the burst", crl.Number, crlRestart.Number, crlBefore.Number)
			}
			for _, e := range crl.RevokedCertificateEntries {
				if id, ok := serials[e.SerialNumber.Text(16)]; !ok {
					t.Errorf("the CRL names serial %x, which no listed certificate has", e.SerialNumber)
				} else if _, ok := revoked[id]; !ok && id != late {
					t.Errorf("the CRL names %s (serial %x), which is not revoked", id, e.SerialNumber)
				}
			}
			if n := len(crl.RevokedCertificateEntries); int64(n) != revCount+1 {
				t.Errorf("the CRL has %d entries, %d certificates are revoked", n, revCount+1)
			}
			break
		}
		if time.Since(lateAt) > 30*time.Second {
			t.Fatalf("30 s after the restart the CRL (number %v) does not have the revocation made after the restart", crl.Number)
		}
		time.Sleep(200 * time.Millisecond)
	}
	revAckedAll := map[string]string{late: lateReq}
	for id, reqID := range revAcked {
		revAckedAll[id] = reqID
	}

	// Stop the restarted server, then read the store itself.
	second.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-second.exited:
	case <-time.After(15 * time.Second):
		t.Error("the restarted server did not stop within 15 s of SIGTERM")
		second.kill()
	}
	crashCheckStore(t, dsn, filepath.Join(first.data, "pcad.db"), totalCount, revCount+1, all, revAckedAll)

	// The audit chain verifies.
	vargs := []string{"admin", "audit", "verify", "--data", first.data}
	if dsn != "" {
		vargs = append(vargs, "--db", dsn)
	}
	cmd := exec.Command(bin, vargs...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("pcad admin audit verify: %v\n%s", err, out)
	} else {
		t.Logf("pcad admin audit verify: %s", strings.TrimSpace(string(out)))
	}
	t.Logf("%s ran %v", t.Name(), time.Since(start).Round(time.Millisecond))
}

// crashListAll walks every ListCert page with the filter q and returns
// TotalCount (of the first page; every page must agree) and Identifier ->
// SerialNumber of the rows. An Identifier listed twice is an error.
func crashListAll(t *testing.T, c *openapiclient.Client, q map[string]string) (int64, map[string]string) {
	t.Helper()
	const size = 200
	rows := map[string]string{}
	var totalCount int64
	for page := 1; ; page++ {
		b := list(t, c, with(q, map[string]string{"ShowSize": strconv.Itoa(size), "CurrentPage": strconv.Itoa(page)}))
		n := jInt(t, b, "TotalCount")
		if page == 1 {
			totalCount = n
		} else if n != totalCount {
			t.Errorf("ListCert %v: TotalCount %d on page %d, %d on page 1", q, n, page, totalCount)
		}
		items := jObjects(t, b, "List")
		for _, it := range items {
			id := jStr(t, it, "Identifier")
			if _, dup := rows[id]; dup {
				t.Errorf("ListCert %v lists %s twice", q, id)
			}
			rows[id] = jStr(t, it, "SerialNumber")
		}
		if len(items) < size {
			return totalCount, rows
		}
		if page > 1000 {
			t.Fatalf("ListCert %v: more than 1000 pages", q)
		}
	}
}

// crashCheckStore reads the store directly (PostgreSQL schema dsn, else
// the SQLite file): its certificate rows and count table agree with what
// ListCert said, no issuer used a serial twice, and every acknowledged call
// has its audit record.
func crashCheckStore(t *testing.T, dsn, sqlitePath string, totalCount, revCount int64, all map[string]crashIssued, revAcked map[string]string) {
	t.Helper()
	var db *sql.DB
	var err error
	if dsn != "" {
		db, err = sql.Open("pgx", dsn)
	} else {
		db, err = sql.Open("sqlite", "file:"+sqlitePath+"?_pragma=busy_timeout(10000)")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	if dsn != "" {
		var sc string
		if err := db.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&sc); err != nil {
			t.Fatal(err)
		}
		t.Logf("PostgreSQL synchronous_commit for the server's DSN: %s", sc)
	}

	var rows, revRows int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM certificates").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM certificates WHERE status = 'REVOKE'").Scan(&revRows); err != nil {
		t.Fatal(err)
	}
	if rows != totalCount || revRows != revCount {
		t.Errorf("store: %d certificate rows (%d revoked), ListCert TotalCount %d (Status=REVOKE %d)", rows, revRows, totalCount, revCount)
	}
	var counted, revCounted sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT SUM(n) FROM cert_counts").Scan(&counted); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, "SELECT SUM(n) FROM cert_counts WHERE status = 'REVOKE'").Scan(&revCounted); err != nil {
		t.Fatal(err)
	}
	if counted.Int64 != rows || revCounted.Int64 != revRows {
		t.Errorf("store: cert_counts say %d certificates (%d revoked), the table has %d (%d revoked)", counted.Int64, revCounted.Int64, rows, revRows)
	}

	dups, err := db.QueryContext(ctx, "SELECT ca_id, serial, COUNT(*) FROM certificates GROUP BY ca_id, serial HAVING COUNT(*) > 1")
	if err != nil {
		t.Fatal(err)
	}
	for dups.Next() {
		var caID, n int64
		var serial string
		if err := dups.Scan(&caID, &serial, &n); err != nil {
			t.Fatal(err)
		}
		t.Errorf("store: issuer %d used serial %s %d times", caID, serial, n)
	}
	if err := dups.Err(); err != nil {
		t.Fatal(err)
	}
	dups.Close()
	var stored int64
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM certificates c JOIN serials s ON s.issuer_id = c.ca_id AND s.serial = c.serial").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != rows {
		t.Errorf("store: %d of %d certificates have their serial reserved in the serials table", stored, rows)
	}

	// The audit record of each acknowledged call (written before the
	// answer: internal/openapi/handler.go).
	okRecords := map[string]string{} // RequestId -> Action
	recs, err := db.QueryContext(ctx, "SELECT request_id, action FROM audit_log WHERE code = 'OK'")
	if err != nil {
		t.Fatal(err)
	}
	for recs.Next() {
		var reqID, action string
		if err := recs.Scan(&reqID, &action); err != nil {
			t.Fatal(err)
		}
		okRecords[reqID] = action
	}
	if err := recs.Err(); err != nil {
		t.Fatal(err)
	}
	recs.Close()
	missing := 0
	for id, c := range all {
		if a := okRecords[c.requestID]; a != "CreateServerCertificate" && a != "CreateServerCertificateWithCsr" {
			missing++
			if missing <= 3 {
				t.Errorf("audit log: no OK record of the acknowledged issuance of %s (request %s)", id, c.requestID)
			}
		}
	}
	for id, reqID := range revAcked {
		if okRecords[reqID] != "CreateRevokeClientCertificate" {
			missing++
			if missing <= 3 {
				t.Errorf("audit log: no OK record of the acknowledged revocation of %s (request %s)", id, reqID)
			}
		}
	}
	if missing > 0 {
		t.Errorf("audit log: %d acknowledged calls without their record", missing)
	}
	t.Logf("store: %d certificate rows (%d revoked), cert_counts %d (%d revoked), %d of them with a reserved serial; %d OK audit records",
		rows, revRows, counted.Int64, revCounted.Int64, stored, len(okRecords))
}

// crashParsePEM parses the first certificate of s without a *testing.T
// (for goroutines).
func crashParsePEM(s string) (*x509.Certificate, error) {
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return nil, errors.New("no CERTIFICATE block")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}
