package service

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/store"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
)

// auditLogBuffer is a bytes.Buffer safe for concurrent logging.
type auditLogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *auditLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *auditLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newAuditService returns a Service on a fresh SQLite store, the store's
// database handle (to tamper with) and the service's log.
func newAuditService(t *testing.T) (*Service, *sql.DB, *auditLogBuffer) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "pcad.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &auditLogBuffer{}
	svc, err := New(ctx, Config{Store: st, Keyring: testKeyring(t, st, bytes.Repeat([]byte{7}, keys.MasterKeySize)), Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st.DB(), logs
}

var auditT0 = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// auditEntry returns the i-th test entry; every field differs between entries.
func auditEntry(i int) AuditEntry {
	code := "OK"
	if i%3 == 2 {
		code = "NotFound.Certificate"
	}
	return AuditEntry{Time: auditT0.Add(time.Duration(i) * time.Second), RequestID: fmt.Sprintf("REQ-%04d", i),
		Action:      []string{"ListCert", "CreateRootCACertificate", "DescribeCertificatePrivateKey"}[i%3],
		AccessKeyID: fmt.Sprintf("LTAIkey%02d", i%2), AccountID: 1000000000000001 + int64(i%2), PrincipalID: int64(10 + i%2),
		SourceIP: fmt.Sprintf("192.0.2.%d", i+1), Resource: fmt.Sprintf("ca/ca-%d", i), Code: code}
}

// appendAudit appends entries 1..n and checks that none failed.
func appendAudit(t *testing.T, svc *Service, from, to int) {
	t.Helper()
	before := AuditFailures()
	for i := from; i <= to; i++ {
		svc.Audit(context.Background(), auditEntry(i))
	}
	if n := AuditFailures() - before; n != 0 {
		t.Fatalf("%d audit failures", n)
	}
}

func auditRecords(t *testing.T, svc *Service) []store.AuditRecord {
	t.Helper()
	recs, err := svc.store.AuditRecords(context.Background(), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func verifyAudit(t *testing.T, svc *Service) AuditReport {
	t.Helper()
	rep, err := svc.VerifyAudit(context.Background())
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	return rep
}

func auditKey(t *testing.T, svc *Service) []byte {
	t.Helper()
	k, err := svc.serverSecret(context.Background(), auditKeyName, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAuditChain(t *testing.T) {
	svc, _, _ := newAuditService(t)
	appendAudit(t, svc, 1, 5)
	recs := auditRecords(t, svc)
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5", len(recs))
	}
	key := auditKey(t, svc)
	var prev []byte
	for i, r := range recs {
		e := auditEntry(i + 1)
		want := store.AuditRecord{ID: int64(i + 1), At: e.Time.Truncate(time.Millisecond), AccountID: e.AccountID, PrincipalID: e.PrincipalID,
			AccessKeyID: e.AccessKeyID, Action: e.Action, Resource: e.Resource, Code: e.Code, RequestID: e.RequestID, SourceIP: e.SourceIP,
			PrevHash: r.PrevHash, Hash: r.Hash}
		if fmt.Sprint(r) != fmt.Sprint(want) {
			t.Errorf("record %d =\n%+v, want\n%+v", i+1, r, want)
		}
		if !bytes.Equal(r.PrevHash, prev) {
			t.Errorf("record %d: PrevHash %x, want %x", r.ID, r.PrevHash, prev)
		}
		if !bytes.Equal(r.Hash, auditHash(key, r)) || len(r.Hash) != sha256.Size {
			t.Errorf("record %d: Hash %x does not recompute", r.ID, r.Hash)
		}
		prev = r.Hash
	}
	rep := verifyAudit(t, svc)
	if rep.Err != nil || rep.Records != 5 || rep.HeadID != 5 || !bytes.Equal(rep.HeadHash, recs[4].Hash) || rep.Unsealed != 0 || rep.FirstBad != 0 {
		t.Fatalf("report %+v, want 5 records sealed up to record 5", rep)
	}
}

// TestAuditHashEncoding checks auditHash against the encoding documented at
// the top of audit.go, built here by hand, and that every field counts.
func TestAuditHashEncoding(t *testing.T) {
	key := bytes.Repeat([]byte{0x42}, 32)
	r := store.AuditRecord{ID: 99, At: time.UnixMilli(1700000000123).UTC(), AccountID: 1000000000000001, PrincipalID: -3,
		AccessKeyID: "LTAIabc", Action: "ListCert", Resource: "ca/x", Code: "OK", RequestID: "R-1", SourceIP: "::1",
		PrevHash: []byte{1, 2, 3}}
	var b []byte
	b = append(b, "pcad-audit-v1"...)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3)
	b = binary.BigEndian.AppendUint64(b, 1700000000123)
	b = binary.BigEndian.AppendUint64(b, 1000000000000001)
	b = append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd)
	for _, s := range []string{"LTAIabc", "ListCert", "ca/x", "OK", "R-1", "::1"} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	m := hmac.New(sha256.New, key)
	m.Write(b)
	if got, want := auditHash(key, r), m.Sum(nil); !bytes.Equal(got, want) {
		t.Fatalf("auditHash = %x, want %x (the documented encoding)", got, want)
	}
	r.ID = 100
	if !bytes.Equal(auditHash(key, r), m.Sum(nil)) {
		t.Error("the id changes the hash; the store assigns it after hashing")
	}

	base := auditHash(key, r)
	changes := map[string]func(*store.AuditRecord){
		"prev-hash":      func(r *store.AuditRecord) { r.PrevHash = []byte{1, 2, 4} },
		"no-prev-hash":   func(r *store.AuditRecord) { r.PrevHash = nil },
		"time":           func(r *store.AuditRecord) { r.At = r.At.Add(time.Millisecond) },
		"account":        func(r *store.AuditRecord) { r.AccountID++ },
		"principal":      func(r *store.AuditRecord) { r.PrincipalID++ },
		"access-key":     func(r *store.AuditRecord) { r.AccessKeyID += "x" },
		"action":         func(r *store.AuditRecord) { r.Action = "DeleteClientCertificate" },
		"resource":       func(r *store.AuditRecord) { r.Resource = "" },
		"code":           func(r *store.AuditRecord) { r.Code = "Forbidden" },
		"request-id":     func(r *store.AuditRecord) { r.RequestID = "R-2" },
		"source-ip":      func(r *store.AuditRecord) { r.SourceIP = "127.0.0.1" },
		"boundary-shift": func(r *store.AuditRecord) { r.Action, r.Resource = "ListCertca/", "x" },
		"boundary-code":  func(r *store.AuditRecord) { r.Code, r.RequestID = "OKR-1", "" },
		"ints-swapped":   func(r *store.AuditRecord) { r.AccountID, r.PrincipalID = r.PrincipalID, r.AccountID },
	}
	for name, change := range changes {
		c := r
		change(&c)
		if bytes.Equal(auditHash(key, c), base) {
			t.Errorf("%s: the hash did not change", name)
		}
	}
	if bytes.Equal(auditHash(bytes.Repeat([]byte{0x43}, 32), r), base) {
		t.Error("another key gives the same hash")
	}
}

// tamper names one change to a log of five records (sealed up to record 5)
// and the record verification must name.
type tamper struct {
	name     string
	sql      []string
	fn       func(t *testing.T, svc *Service, db *sql.DB)
	firstBad int64
	mention  string
}

func TestVerifyAuditDetectsTampering(t *testing.T) {
	// forge inserts a record whose hash is what someone without the audit
	// key can compute: a plain SHA-256 of the documented encoding.
	forge := func(id int64, prevOf int64) func(t *testing.T, svc *Service, db *sql.DB) {
		return func(t *testing.T, svc *Service, db *sql.DB) {
			var prev []byte
			if err := db.QueryRow("SELECT hash FROM audit_log WHERE id = ?", prevOf).Scan(&prev); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(append([]byte("forged"), prev...))
			if _, err := db.Exec(`INSERT INTO audit_log (id, at, account_id, principal_id, access_key_id, action, resource, code, request_id, source_ip, prev_hash, hash)
				VALUES (?, 1772366400000, 1000000000000001, 10, 'LTAIkey00', 'DeleteClientCertificate', 'cert/x', 'OK', 'FORGED', '192.0.2.99', ?, ?)`,
				id, prev, sum[:]); err != nil {
				t.Fatal(err)
			}
		}
	}
	cases := []tamper{
		{name: "edited-action", sql: []string{"UPDATE audit_log SET action = 'DeleteClientCertificate' WHERE id = 3"}, firstBad: 3, mention: "altered"},
		{name: "edited-time", sql: []string{"UPDATE audit_log SET at = at + 1 WHERE id = 2"}, firstBad: 2, mention: "altered"},
		{name: "edited-account", sql: []string{"UPDATE audit_log SET account_id = account_id + 1 WHERE id = 1"}, firstBad: 1},
		{name: "edited-code", sql: []string{"UPDATE audit_log SET code = 'OK' WHERE id = 2"}, firstBad: 2},
		{name: "edited-source-ip", sql: []string{"UPDATE audit_log SET source_ip = '10.0.0.1' WHERE id = 5"}, firstBad: 5},
		{name: "edited-hash", sql: []string{"UPDATE audit_log SET hash = zeroblob(32) WHERE id = 4"}, firstBad: 4},
		{name: "edited-prev-hash", sql: []string{"UPDATE audit_log SET prev_hash = zeroblob(32) WHERE id = 4"}, firstBad: 4, mention: "does not follow"},
		{name: "deleted-first", sql: []string{"DELETE FROM audit_log WHERE id = 1"}, firstBad: 2, mention: "first"},
		{name: "deleted-middle", sql: []string{"DELETE FROM audit_log WHERE id = 3"}, firstBad: 4, mention: "does not follow"},
		{name: "deleted-last", sql: []string{"DELETE FROM audit_log WHERE id = 5"}, firstBad: 5, mention: "deleted from its end"},
		{name: "deleted-last-two", sql: []string{"DELETE FROM audit_log WHERE id >= 4"}, firstBad: 4, mention: "deleted from its end"},
		{name: "deleted-all", sql: []string{"DELETE FROM audit_log"}, firstBad: 1, mention: "records were deleted"},
		{name: "reordered", sql: []string{
			"CREATE TEMP TABLE swap AS SELECT * FROM audit_log WHERE id IN (2, 4)",
			`UPDATE audit_log SET (at, account_id, principal_id, access_key_id, action, resource, code, request_id, source_ip, prev_hash, hash) =
				(SELECT at, account_id, principal_id, access_key_id, action, resource, code, request_id, source_ip, prev_hash, hash
				 FROM swap WHERE swap.id = 6 - audit_log.id) WHERE id IN (2, 4)`,
		}, firstBad: 2, mention: "does not follow"},
		{name: "renumbered-last", sql: []string{"UPDATE audit_log SET id = 9 WHERE id = 5"}, firstBad: 5, mention: "missing"},
		{name: "forged-append", fn: forge(6, 5), firstBad: 6, mention: "altered"},
		{name: "forged-insert-middle", sql: []string{"UPDATE audit_log SET id = id + 100 WHERE id >= 3"}, fn: forge(3, 2), firstBad: 3, mention: "altered"},
		{name: "rehashed-without-key", fn: func(t *testing.T, svc *Service, db *sql.DB) {
			// Edit record 3 and rebuild the chain from it with a guessed key.
			guess := bytes.Repeat([]byte{0}, 32)
			recs := auditRecords(t, svc)
			prev := recs[1].Hash
			for _, r := range recs[2:] {
				if r.ID == 3 {
					r.Resource = "ca/innocent"
				}
				r.PrevHash = prev
				r.Hash = auditHash(guess, r)
				if _, err := db.Exec("UPDATE audit_log SET resource = ?, prev_hash = ?, hash = ? WHERE id = ?", r.Resource, r.PrevHash, r.Hash, r.ID); err != nil {
					t.Fatal(err)
				}
				prev = r.Hash
			}
		}, firstBad: 3, mention: "altered"},
		{name: "head-deleted", sql: []string{"DELETE FROM server_secrets WHERE name = 'audit-head'"}, mention: "no sealed head"},
		{name: "head-altered", sql: []string{"UPDATE server_secrets SET sealed = substr(sealed, 1, 20) || zeroblob(40) WHERE name = 'audit-head'"}, mention: "does not open"},
		{name: "head-moved-to-other-secret", sql: []string{
			"UPDATE server_secrets SET sealed = (SELECT sealed FROM server_secrets WHERE name = 'list-token-hmac') WHERE name = 'audit-head'"}, mention: "does not open"},
		{name: "key-deleted", sql: []string{"DELETE FROM server_secrets WHERE name = 'audit-hmac'"}, firstBad: 1, mention: "key is missing"},
		{name: "key-replaced", sql: []string{
			"UPDATE server_secrets SET sealed = (SELECT sealed FROM server_secrets WHERE name = 'list-token-hmac') WHERE name = 'audit-hmac'"}, mention: "does not open"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc, db, _ := newAuditService(t)
			appendAudit(t, svc, 1, 5)
			if rep := verifyAudit(t, svc); rep.Err != nil {
				t.Fatalf("before tampering: %v", rep.Err)
			}
			for _, q := range tc.sql {
				if _, err := db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if tc.fn != nil {
				tc.fn(t, svc, db)
			}
			rep := verifyAudit(t, svc)
			if rep.Err == nil {
				t.Fatalf("tampering not detected: %+v", rep)
			}
			if rep.FirstBad != tc.firstBad {
				t.Errorf("FirstBad = %d, want %d (%v)", rep.FirstBad, tc.firstBad, rep.Err)
			}
			if !strings.Contains(rep.Err.Error(), tc.mention) {
				t.Errorf("Err %q does not mention %q", rep.Err, tc.mention)
			}
		})
	}
}

// TestAuditKeepsTamperingVisible: calls after the end of the log was cut
// off are appended, but the head is not moved over the gap, so later calls
// do not hide the deletion.
func TestAuditKeepsTamperingVisible(t *testing.T) {
	svc, db, logs := newAuditService(t)
	appendAudit(t, svc, 1, 5)
	if _, err := db.Exec("DELETE FROM audit_log WHERE id >= 4"); err != nil {
		t.Fatal(err)
	}
	before := AuditFailures()
	for i := 6; i <= 8; i++ {
		svc.Audit(context.Background(), auditEntry(i))
	}
	if got := len(auditRecords(t, svc)); got != 6 {
		t.Fatalf("%d records after three more calls, want 6: calls must still be recorded", got)
	}
	rep := verifyAudit(t, svc)
	if rep.Err == nil || rep.FirstBad != 5 || rep.HeadID != 5 {
		t.Fatalf("report %+v, want the head kept at record 5 and record 5 reported", rep)
	}
	// SQLite reuses ids 4 and 5 for the next two calls: they lie at or below
	// the head, which stays. Record 6 does not chain from the head: refused.
	if n := AuditFailures() - before; n != 1 {
		t.Errorf("%d audit failures counted, want 1", n)
	}
	if !strings.Contains(logs.String(), "AUDIT FAILURE") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("the refusal to seal was not logged at Error level:\n%s", logs)
	}
}

// TestAuditSealsLaggingHead: records appended while the head could not move
// are reported as unsealed, and the next call seals them.
func TestAuditSealsLaggingHead(t *testing.T) {
	svc, db, _ := newAuditService(t)
	appendAudit(t, svc, 1, 3)
	var old []byte
	if err := db.QueryRow("SELECT sealed FROM server_secrets WHERE name = 'audit-head'").Scan(&old); err != nil {
		t.Fatal(err)
	}
	appendAudit(t, svc, 4, 5)
	if _, err := db.Exec("UPDATE server_secrets SET sealed = ? WHERE name = 'audit-head'", old); err != nil {
		t.Fatal(err)
	}
	rep := verifyAudit(t, svc)
	if rep.Err != nil || rep.HeadID != 3 || rep.Unsealed != 2 || rep.Records != 5 {
		t.Fatalf("report %+v, want OK with head 3 and 2 unsealed records", rep)
	}
	appendAudit(t, svc, 6, 6)
	rep = verifyAudit(t, svc)
	if rep.Err != nil || rep.HeadID != 6 || rep.Unsealed != 0 || rep.Records != 6 {
		t.Fatalf("report %+v, want OK and sealed up to record 6", rep)
	}
}

func TestAuditConcurrent(t *testing.T) {
	svc, _, _ := newAuditService(t)
	before := AuditFailures()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc.Audit(context.Background(), auditEntry(i))
		}()
	}
	wg.Wait()
	if n := AuditFailures() - before; n != 0 {
		t.Fatalf("%d audit failures", n)
	}
	rep := verifyAudit(t, svc)
	if rep.Err != nil || rep.Records != 40 || rep.HeadID != 40 || rep.Unsealed != 0 {
		t.Fatalf("report %+v, want 40 records sealed up to record 40", rep)
	}
}

func TestAuditEmptyLogVerifies(t *testing.T) {
	svc, _, _ := newAuditService(t)
	if rep := verifyAudit(t, svc); rep.Err != nil || rep.Records != 0 || rep.HeadID != 0 {
		t.Fatalf("report %+v, want an empty log that verifies", rep)
	}
}

// TestAuditFailureDoesNotFail: a store that refuses writes loses the
// record, loudly and counted, and Audit returns normally.
func TestAuditFailureDoesNotFail(t *testing.T) {
	svc, db, logs := newAuditService(t)
	appendAudit(t, svc, 1, 1)
	if _, err := db.Exec("DROP TABLE audit_log"); err != nil {
		t.Fatal(err)
	}
	before := AuditFailures()
	svc.Audit(context.Background(), auditEntry(2))
	if n := AuditFailures() - before; n != 1 {
		t.Fatalf("%d audit failures counted, want 1", n)
	}
	out := logs.String()
	if !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "not in the audit log") || !strings.Contains(out, "REQ-0002") {
		t.Fatalf("the failure was not logged at Error level with the request id:\n%s", out)
	}
}

func TestExportAudit(t *testing.T) {
	svc, _, _ := newAuditService(t)
	appendAudit(t, svc, 1, 4)
	recs := auditRecords(t, svc)
	for _, tc := range []struct {
		name    string
		from    int64
		wantIDs []int64
	}{
		{"all", 0, []int64{1, 2, 3, 4}},
		{"from-1", 1, []int64{1, 2, 3, 4}},
		{"from-3", 3, []int64{3, 4}},
		{"past-the-end", 5, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			n, err := svc.ExportAudit(context.Background(), &buf, tc.from)
			if err != nil || n != int64(len(tc.wantIDs)) {
				t.Fatalf("ExportAudit = %d, %v; want %d records", n, err, len(tc.wantIDs))
			}
			sc := bufio.NewScanner(&buf)
			var ids []int64
			for sc.Scan() {
				var m map[string]any
				dec := json.NewDecoder(strings.NewReader(sc.Text()))
				dec.UseNumber()
				if err := dec.Decode(&m); err != nil {
					t.Fatalf("line %q: %v", sc.Text(), err)
				}
				id, _ := m["id"].(json.Number).Int64()
				ids = append(ids, id)
				r, e := recs[id-1], auditEntry(int(id))
				want := map[string]any{
					"id": json.Number(fmt.Sprint(id)), "time": e.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
					"account_id": json.Number(fmt.Sprint(e.AccountID)), "principal_id": json.Number(fmt.Sprint(e.PrincipalID)),
					"access_key_id": e.AccessKeyID, "action": e.Action, "resource": e.Resource, "code": e.Code,
					"request_id": e.RequestID, "source_ip": e.SourceIP,
					"prev_hash": hex.EncodeToString(r.PrevHash), "hash": hex.EncodeToString(r.Hash),
				}
				if fmt.Sprint(m) != fmt.Sprint(want) {
					t.Errorf("line %d =\n%v, want\n%v", id, m, want)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.wantIDs) {
				t.Errorf("ids %v, want %v", ids, tc.wantIDs)
			}
		})
	}
}
