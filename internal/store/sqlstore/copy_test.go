package sqlstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
	"github.com/pcad-dev/pcad/internal/store/seedgen"
	"github.com/pcad-dev/pcad/internal/store/sqlstore/pgtest"
)

// copyTargets are the engines Copy writes to; postgres runs only when
// PCAD_TEST_POSTGRES is set.
var copyTargets = []string{"sqlite", "postgres"}

// openCopyTarget opens an empty store of the engine named.
func openCopyTarget(t testing.TB, engine string) *Store {
	t.Helper()
	var s *Store
	var err error
	if engine == "postgres" {
		dsn := pgtest.Schema(t, "pcad_copy")
		s, err = OpenPostgres(context.Background(), dsn)
	} else {
		s, err = OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "target.db"))
	}
	if err != nil {
		t.Fatalf("open %s target: %v", engine, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// copySource is a SQLite store with rows in every table: the benchmark
// seed (accounts, CAs, instances, certificates and bodies, counters,
// revocations, tags) plus a RAM user, a policy and its attachment, an
// audit chain, server secrets, private keys, serials, a CRL, CA events,
// idempotency records (one with a NULL response), and values SQLite
// accepted in columns of another declared type.
func copySource(t testing.TB, certs int) (*Store, benchSeed) {
	t.Helper()
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "source.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	seed, err := seedStore(ctx, s, certs)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 4, 5, 6, 7, 8e6, time.UTC)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	user := pca.Principal{AccountID: seed.Main, Name: "deployer", DisplayName: "Deploy bot", Created: now}
	must("create user", s.CreateUser(ctx, &user))
	must("add key", s.AddAccessKey(ctx, store.AccessKeyRecord{ID: "LTAIdeployer", AccountID: seed.Main, PrincipalID: user.ID,
		SecretSealed: []byte{0, 1, 2, 255}, Active: true, Created: now}, 2))
	must("create policy", s.CreatePolicy(ctx, store.Policy{AccountID: seed.Main, Name: "list-only",
		Document: `{"Version":"1","Statement":[{"Effect":"Allow","Action":"yundun-cert:ListCert","Resource":"*"}]}`, Created: now, Updated: now}))
	must("attach", s.AttachPolicy(ctx, seed.Main, user.ID, store.Attachment{PolicyType: "Custom", PolicyName: "list-only", Attached: now}))
	for i := range 5 {
		_, err := s.AppendAudit(ctx, store.AuditRecord{At: now.Add(time.Duration(i) * time.Second), AccountID: seed.Main, PrincipalID: user.ID,
			AccessKeyID: "LTAIdeployer", Action: "ListCert", Code: "OK", RequestID: fmt.Sprintf("req-%d", i), SourceIP: "10.0.0.1"},
			func(r store.AuditRecord) []byte { h := sha256.Sum256(append(r.PrevHash, r.RequestID...)); return h[:] })
		must("append audit", err)
	}
	_, err = s.PutSecretIfAbsent(ctx, "token-key", []byte("sealed-token-key"))
	must("secret", err)
	must("key", s.PutKey(ctx, store.KeyRecord{Ref: "sw:leaf-1", AccountID: seed.Main, Algorithm: pca.ECC256, Sealed: []byte{9, 8, 7}, Created: now}))
	must("serial", s.ReserveSerial(ctx, seed.SubCAs[0].ID, "0badc0ffee", now))
	must("crl", s.PutCRL(ctx, store.CRLRecord{CAID: seed.SubCAs[0].ID, Number: 3, BuiltSeq: 1, ThisUpdate: now, NextUpdate: now.Add(time.Hour), DER: []byte{0x30, 0x03, 1, 2, 3}}))
	must("ca event", s.AddCAEvent(ctx, store.CAEvent{AccountID: seed.Main, CAID: seed.SubCAs[0].ID, OpType: "ADD", Content: "created", Created: now, RequestID: "req-0"}))
	_, _, err = s.ClaimIdempotency(ctx, seed.Main, "CreateServerCertificate", "tok-pending", "fp1", now)
	must("claim", err)
	_, _, err = s.ClaimIdempotency(ctx, seed.Main, "CreateServerCertificate", "tok-done", "fp2", now)
	must("claim", err)
	must("complete", s.CompleteIdempotency(ctx, seed.Main, "CreateServerCertificate", "tok-done", []byte(`{"Identifier":"x"}`)))
	// SQLite keeps a value of another kind than the declared type: text in
	// a BLOB column, bytes in a TEXT column. Copy converts both.
	for _, q := range []string{
		"INSERT INTO server_secrets (name, sealed) VALUES ('text-in-blob', 'plain text')",
		"UPDATE principals SET comments = X'6869' WHERE name = 'deployer'",
	} {
		_, err := s.DB().ExecContext(ctx, q)
		must(q, err)
	}
	return s, seed
}

// tableCounts returns COUNT(*) of every table of s but goose's.
func tableCounts(t testing.TB, s *Store) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	kinds, err := s.columnKinds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for name := range kinds {
		var n int64
		if err := s.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(name)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[name] = n
	}
	return out
}

func TestCopy(t *testing.T) {
	src, seed := copySource(t, 1500)
	ctx := context.Background()
	want := tableCounts(t, src)
	for _, name := range []string{"accounts", "principals", "access_keys", "server_secrets", "private_keys", "cas", "instances",
		"serials", "certificates", "certificate_bodies", "cert_counts", "revocations", "crls", "tags", "ca_events", "idempotency",
		"policies", "policy_attachments", "audit_log"} {
		if want[name] == 0 {
			t.Fatalf("the source has no rows in %s: the test would not cover it", name)
		}
	}
	for _, engine := range copyTargets {
		t.Run(engine, func(t *testing.T) {
			dst := openCopyTarget(t, engine)
			var events []Progress
			rep, err := Copy(ctx, dst, src, func(p Progress) { events = append(events, p) })
			if err != nil {
				t.Fatalf("Copy: %v", err)
			}

			// Every table, with the source's counts, parents first.
			got := map[string]int64{}
			for _, tr := range rep.Tables {
				got[tr.Name] = tr.Rows
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("report counts %v, want %v", got, want)
			}
			if dc := tableCounts(t, dst); fmt.Sprint(dc) != fmt.Sprint(want) {
				t.Errorf("target counts %v, want %v", dc, want)
			}
			pos := func(name string) int {
				return slices.IndexFunc(rep.Tables, func(tr TableReport) bool { return tr.Name == name })
			}
			for _, fk := range [][2]string{{"accounts", "principals"}, {"principals", "access_keys"}, {"cas", "instances"},
				{"certificates", "certificate_bodies"}, {"principals", "policy_attachments"}} {
				if pos(fk[0]) > pos(fk[1]) {
					t.Errorf("%s copied after %s, which references it", fk[0], fk[1])
				}
			}

			// Progress: per table from 0 to its total, never backwards.
			last := map[string]int64{}
			if engine == "postgres" { // then the index builds
				if n := len(events); n == 0 || events[n-1].Table != IndexProgress || events[n-1].Done != events[n-1].Total || events[n-1].Total < 10 {
					t.Fatalf("the last progress events %v do not count the index builds", events[max(0, n-3):])
				}
				events = slices.DeleteFunc(events, func(p Progress) bool { return p.Table == IndexProgress })
				if got, fresh := pgIndexes(t, dst), pgIndexes(t, openCopyTarget(t, engine)); got != fresh {
					t.Errorf("indexes after the copy:\n%s\nof a fresh schema:\n%s", got, fresh)
				}
			}
			for _, p := range events {
				if p.Done < last[p.Table] || p.Done > p.Total || p.Total != want[p.Table] {
					t.Fatalf("progress event %+v after %d (table has %d rows)", p, last[p.Table], want[p.Table])
				}
				last[p.Table] = p.Done
			}
			if fmt.Sprint(last) != fmt.Sprint(want) {
				t.Errorf("last progress %v, want %v", last, want)
			}

			if err := rep.Verify(ctx, dst, nil); err != nil {
				t.Errorf("Verify(target): %v", err)
			}
			if err := rep.Verify(ctx, src, nil); err != nil {
				t.Errorf("Verify(source): %v", err)
			}

			// Values read back through the store, and the kinds SQLite let slip.
			for _, id := range []int64{seed.Main, seed.Other} {
				srcCerts, err1 := src.ListCertificates(ctx, id, store.ListQuery{Limit: 50})
				dstCerts, err2 := dst.ListCertificates(ctx, id, store.ListQuery{Limit: 50})
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				if fmt.Sprint(srcCerts) != fmt.Sprint(dstCerts) {
					t.Errorf("account %d: ListCertificates differs after the copy", id)
				}
			}
			if b, err := dst.GetSecret(ctx, "text-in-blob"); err != nil || string(b) != "plain text" {
				t.Errorf("text in a BLOB column: %q, %v", b, err)
			}
			if u, err := dst.GetUser(ctx, seed.Main, "deployer"); err != nil || u.Comments != "hi" {
				t.Errorf("bytes in a TEXT column: %+v, %v", u, err)
			}
			var nulls int64
			if err := dst.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM idempotency WHERE response IS NULL").Scan(&nulls); err != nil || nulls != 1 {
				t.Errorf("idempotency rows with a NULL response: %d, %v; want 1", nulls, err)
			}

			// New rows get fresh ids: identity sequences were moved past the copied ids.
			maxCert := maxID(t, dst, "certificates", "id")
			c, err := seedgen.New('n').Cert(seed.SubCAs[0], instanceID(t, dst, seed.SubCAs[0]), 0, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if err := dst.InsertCertificate(ctx, &c, nil); err != nil {
				t.Fatalf("InsertCertificate on the target: %v", err)
			}
			if c.ID <= maxCert {
				t.Errorf("new certificate id %d, not above the copied %d", c.ID, maxCert)
			}
			maxPrincipal := maxID(t, dst, "principals", "id")
			u := pca.Principal{AccountID: seed.Main, Name: "after-copy", Created: time.Now()}
			if err := dst.CreateUser(ctx, &u); err != nil || u.ID <= maxPrincipal {
				t.Errorf("CreateUser on the target: id %d (copied up to %d), %v", u.ID, maxPrincipal, err)
			}
			if _, err := dst.AppendAudit(ctx, store.AuditRecord{At: time.Now(), AccountID: seed.Main, Action: "ListCert", Code: "OK"},
				func(store.AuditRecord) []byte { return []byte{1} }); err != nil {
				t.Errorf("AppendAudit on the target: %v", err)
			}
			// ... and the target no longer matches the snapshot.
			var me *MismatchError
			if err := rep.Verify(ctx, dst, nil); !errors.As(err, &me) || me.Table != "principals" {
				t.Errorf("Verify after new rows: %v, want a mismatch in principals (the first table changed, in copy order)", err)
			}
		})
	}
}

// pgIndexes lists the indexes of s's schema with their definitions, the
// schema's name left out.
func pgIndexes(t *testing.T, s *Store) string {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), "SELECT current_schema(), indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var schema, name, def string
		if err := rows.Scan(&schema, &name, &def); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %s\n", name, strings.ReplaceAll(def, schema+".", ""))
	}
	if err := rows.Err(); err != nil || b.Len() == 0 {
		t.Fatalf("no indexes (%v)", err)
	}
	return b.String()
}

func maxID(t *testing.T, s *Store, table, col string) int64 {
	t.Helper()
	var n int64
	if err := s.DB().QueryRowContext(context.Background(), "SELECT MAX("+col+") FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func instanceID(t *testing.T, s *Store, ca pca.CA) int64 {
	t.Helper()
	in, err := s.GetInstance(context.Background(), ca.AccountID, ca.InstanceUUID)
	if err != nil {
		t.Fatal(err)
	}
	return in.ID
}

// TestCopyVerifyDetects: a change to one row of the target (or of the
// source, after the copy) makes Verify fail naming the table.
func TestCopyVerifyDetects(t *testing.T) {
	src, _ := copySource(t, 300)
	ctx := context.Background()
	cases := []struct {
		name, table string
		sql         string // on the target, in SQLite's form
	}{
		{"changed text", "certificates", "UPDATE certificates SET cn = cn || 'x' WHERE id = (SELECT MIN(id) FROM certificates)"},
		{"changed integer", "cert_counts", "UPDATE cert_counts SET n = n + 1 WHERE n = (SELECT MAX(n) FROM cert_counts)"},
		{"deleted row", "certificate_bodies", "DELETE FROM certificate_bodies WHERE cert_id = (SELECT MAX(cert_id) FROM certificate_bodies)"},
		{"changed bytes", "audit_log", "UPDATE audit_log SET hash = X'00' || hash WHERE id = 3"},
		{"NULL became empty", "certificates", "UPDATE certificates SET custom_identifier = '' WHERE id = (SELECT MIN(id) FROM certificates WHERE custom_identifier IS NULL)"},
		{"values swapped between rows", "tags", `UPDATE tags SET tag_value = CASE WHEN tag_value = 'prod' THEN 'dev' ELSE 'prod' END
			WHERE tag_key = 'env' AND tag_value IN ('prod', 'dev')`},
		{"extra row", "serials", "INSERT INTO serials (issuer_id, serial, reserved_at) VALUES (1, 'ff', 0)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := openCopyTarget(t, "sqlite")
			rep, err := Copy(ctx, dst, src, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.Verify(ctx, dst, nil); err != nil {
				t.Fatalf("Verify before tampering: %v", err)
			}
			if res, err := dst.DB().ExecContext(ctx, c.sql); err != nil {
				t.Fatal(err)
			} else if n, _ := res.RowsAffected(); n == 0 {
				t.Fatal("the tampering changed no row")
			}
			err = rep.Verify(ctx, dst, nil)
			var me *MismatchError
			if !errors.As(err, &me) || me.Table != c.table {
				t.Fatalf("Verify after tampering with %s: %v", c.table, err)
			}
			if !strings.Contains(err.Error(), c.table) {
				t.Errorf("error %q does not name %s", err, c.table)
			}
			if err := rep.Verify(ctx, src, nil); err != nil {
				t.Errorf("Verify(source): %v", err)
			}
		})
	}

	t.Run("source changed after the copy", func(t *testing.T) {
		src, _ := copySource(t, 50)
		dst := openCopyTarget(t, "sqlite")
		rep, err := Copy(ctx, dst, src, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := src.AppendAudit(ctx, store.AuditRecord{At: time.Now(), Action: "late"}, func(store.AuditRecord) []byte { return []byte{2} }); err != nil {
			t.Fatal(err)
		}
		var me *MismatchError
		if err := rep.Verify(ctx, src, nil); !errors.As(err, &me) || me.Table != "audit_log" || me.GotRows != me.WantRows+1 {
			t.Fatalf("Verify(source) after a late write: %v", err)
		}
		if err := rep.Verify(ctx, dst, nil); err != nil {
			t.Errorf("Verify(target): %v", err)
		}
	})
}

// TestCopyRefusesNonEmptyTarget: Copy never writes into a target holding
// rows, and leaves such a target as it was; leases do not count.
func TestCopyRefusesNonEmptyTarget(t *testing.T) {
	src, _ := copySource(t, 50)
	ctx := context.Background()
	cases := []struct {
		name    string
		prepare func(*Store) error
		mention string // "" = Copy succeeds
	}{
		{"an account", func(s *Store) error {
			_, _, err := s.CreateAccount(ctx, "live", store.AccessKeyRecord{ID: "LTAIlive", SecretSealed: []byte{1}, Active: true}, time.Now())
			return err
		}, "1 accounts and 0 certificates"},
		{"a server secret", func(s *Store) error {
			_, err := s.PutSecretIfAbsent(ctx, "token-key", []byte("other"))
			return err
		}, "server_secrets holds 1 rows"},
		{"a lease only", func(s *Store) error {
			_, err := s.AcquireLease(ctx, "crl", "replica-1", time.Now(), time.Minute)
			return err
		}, ""},
	}
	for _, engine := range copyTargets {
		for _, c := range cases {
			t.Run(engine+"/"+c.name, func(t *testing.T) {
				dst := openCopyTarget(t, engine)
				if err := c.prepare(dst); err != nil {
					t.Fatal(err)
				}
				before := tableCounts(t, dst)
				_, err := Copy(ctx, dst, src, nil)
				if c.mention == "" {
					if err != nil {
						t.Fatalf("Copy: %v", err)
					}
					return
				}
				if !errors.Is(err, ErrTargetNotEmpty) || !strings.Contains(err.Error(), c.mention) {
					t.Fatalf("Copy into a target with %s: %v", c.name, err)
				}
				if after := tableCounts(t, dst); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Errorf("the refused copy changed the target: %v, was %v", after, before)
				}
			})
		}
	}
}

// TestCopyFailureLeavesNothing: a copy that fails half-way (here, a value
// the target column cannot hold) leaves the target empty.
func TestCopyFailureLeavesNothing(t *testing.T) {
	src, _ := copySource(t, 50)
	ctx := context.Background()
	// SQLite takes text in an INTEGER column; no target can hold it.
	if _, err := src.DB().ExecContext(ctx, "UPDATE audit_log SET principal_id = 'not a number' WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	for _, engine := range copyTargets {
		t.Run(engine, func(t *testing.T) {
			dst := openCopyTarget(t, engine)
			_, err := Copy(ctx, dst, src, nil)
			if err == nil || !strings.Contains(err.Error(), "audit_log.principal_id") || strings.Contains(err.Error(), "not a number") {
				t.Fatalf("Copy: %v, want an error naming audit_log.principal_id but not its value", err)
			}
			for name, n := range tableCounts(t, dst) {
				if n != 0 {
					t.Errorf("the failed copy left %d rows in %s", n, name)
				}
			}
		})
	}
}

func TestOrderByReferences(t *testing.T) {
	tables := []copyTable{{name: "c", refs: []string{"b"}}, {name: "b", refs: []string{"a", "gone"}}, {name: "a"}, {name: "d"}}
	got, err := orderByReferences(tables)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, t := range got {
		names = append(names, t.name)
	}
	if strings.Join(names, ",") != "a,d,b,c" {
		t.Errorf("order %v, want a,d,b,c", names)
	}
	if _, err := orderByReferences([]copyTable{{name: "x", refs: []string{"y"}}, {name: "y", refs: []string{"x"}}}); err == nil {
		t.Error("a cycle was accepted")
	}
}

// BenchmarkCopyToPostgres copies a seeded SQLite store of
// PCAD_BENCH_COPY_CERTS certificates (default 100,000, plus 2% in a second
// account) into a fresh PostgreSQL schema and verifies it, reporting the
// seconds each phase took and rows per second. The seeded store is cached
// in the temporary directory, as for BenchmarkListCert.
//
//	PCAD_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test ./internal/store/sqlstore -run '^$' -bench CopyToPostgres -benchtime 1x
func BenchmarkCopyToPostgres(b *testing.B) {
	if os.Getenv(pgtest.Env) == "" {
		b.Skip(pgtest.Env + " is not set")
	}
	n := 100_000
	if v := os.Getenv("PCAD_BENCH_COPY_CERTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("PCAD_BENCH_COPY_CERTS=%q", v)
		}
	}
	ctx := context.Background()
	src, _, _, _, err := openSeededStore(ctx, n, b.Logf)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { src.Close() })
	var copySecs, verifySecs float64
	var rows int64
	for b.Loop() {
		b.StopTimer()
		dst := openCopyTarget(b, "postgres")
		b.StartTimer()
		start := time.Now()
		rep, err := Copy(ctx, dst, src, nil)
		if err != nil {
			b.Fatal(err)
		}
		copySecs += time.Since(start).Seconds()
		start = time.Now()
		if err := rep.Verify(ctx, dst, nil); err != nil {
			b.Fatal(err)
		}
		verifySecs += time.Since(start).Seconds()
		rows = 0
		for _, t := range rep.Tables {
			rows += t.Rows
		}
		b.StopTimer()
		dst.Close()
		b.StartTimer()
	}
	iters := float64(b.N)
	b.ReportMetric(float64(n), "certs")
	b.ReportMetric(float64(rows), "rows")
	b.ReportMetric(copySecs/iters, "copy-s")
	b.ReportMetric(verifySecs/iters, "verify-s")
	b.ReportMetric(float64(rows)/(copySecs/iters), "copy-rows/s")
}
