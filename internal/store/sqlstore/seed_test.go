package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
	"github.com/pcad-dev/pcad/internal/store/seedgen"
	"github.com/pcad-dev/pcad/internal/store/sqlstore/pgtest"
)

// This file seeds a store (SQLite or PostgreSQL) for the ListCert
// benchmarks: one main account with a root CA, four sub-CAs (each with its
// default end-entity instance; the first one retired halfway) and N
// end-entity certificates spread over them, and a second account whose rows
// are interleaved with the main account's ids so that per-account scoping is
// exercised. Seeding goes through BulkInsertCertificates, the same path
// imports use (COPY on PostgreSQL), not through the API.

// seedVersion changes whenever the generated data changes, so that a cached
// database seeded by an older generator is not reused.
const seedVersion = "listcert-seed-v4" // v4: certificates from package seedgen

// otherEvery: after every otherEvery main-account rows comes one row of the
// second account.
const otherEvery = 50

// seedBatch is the number of certificates per BulkInsertCertificates call
// (one transaction each).
const seedBatch = 10_000

// subCAWeights spreads the main account's certificates over its sub-CAs
// (the first one's share goes to the others once it is retired, halfway).
var subCAWeights = []int{40, 30, 20, 10}

// benchSeed describes a seeded database.
type benchSeed struct {
	Main, Other int64    // account ids
	SubCAs      []pca.CA // the main account's sub-CAs, in creation order
	OtherSubCA  pca.CA   // the second account's sub-CA
	MainCerts   int64    // end-entity certificates of the main account
	OtherCerts  int64    // end-entity certificates of the second account
}

const (
	mainAccountName  = "bench-main"
	otherAccountName = "bench-other"
)

// seedKey identifies the schema and the generated data: a hash of every
// migration file, the generator version and the size.
func seedKey(n int) (string, error) {
	h := sha256.New()
	var names []string
	err := fs.WalkDir(migrations, "migrations", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	for _, p := range names {
		b, err := migrations.ReadFile(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
	}
	fmt.Fprintf(h, "%s %d\n", seedVersion, n)
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// openSeededStore opens the cached seeded database for n main-account
// certificates, seeding it first when no cache exists (or the schema or the
// generator changed). It reports how long seeding took (0 when reused).
func openSeededStore(ctx context.Context, n int, logf func(string, ...any)) (*Store, benchSeed, string, time.Duration, error) {
	key, err := seedKey(n)
	if err != nil {
		return nil, benchSeed{}, "", 0, err
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("pcad-listcert-bench-%d-%s.db", n, key))
	var took time.Duration
	if _, err := os.Stat(path); err != nil {
		// Seed into a temporary file and rename it only when complete, so an
		// interrupted run never leaves a half-seeded cache behind.
		tmp := fmt.Sprintf("%s.tmp-%d", path, os.Getpid())
		removeDB(tmp)
		logf("seeding %d certificates into %s (cached for later runs)", n, path)
		start := time.Now()
		s, err := OpenSQLite(ctx, tmp)
		if err != nil {
			return nil, benchSeed{}, "", 0, err
		}
		if _, err := seedStore(ctx, s, n); err != nil {
			s.Close()
			removeDB(tmp)
			return nil, benchSeed{}, "", 0, fmt.Errorf("seed: %w", err)
		}
		if _, err := s.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			s.Close()
			removeDB(tmp)
			return nil, benchSeed{}, "", 0, fmt.Errorf("checkpoint: %w", err)
		}
		if err := s.Close(); err != nil {
			removeDB(tmp)
			return nil, benchSeed{}, "", 0, err
		}
		took = time.Since(start)
		if err := os.Rename(tmp, path); err != nil {
			removeDB(tmp)
			return nil, benchSeed{}, "", 0, err
		}
		os.Remove(tmp + "-wal")
		os.Remove(tmp + "-shm")
	} else {
		logf("reusing seeded database %s (delete it to re-seed)", path)
	}
	s, err := OpenSQLite(ctx, path)
	if err != nil {
		return nil, benchSeed{}, "", 0, err
	}
	seed, err := loadSeed(ctx, s)
	if err != nil {
		s.Close()
		return nil, benchSeed{}, "", 0, fmt.Errorf("load seed from %s (delete it to re-seed): %w", path, err)
	}
	return s, seed, path, took, nil
}

func removeDB(p string) {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(p + suffix)
	}
}

// loadSeed finds the seeded accounts and CAs in a seeded database.
func loadSeed(ctx context.Context, s *Store) (benchSeed, error) {
	var seed benchSeed
	db := s.db // rebinds ? for PostgreSQL
	if err := db.QueryRowContext(ctx, "SELECT id FROM accounts WHERE name = ?", mainAccountName).Scan(&seed.Main); err != nil {
		return seed, fmt.Errorf("main account: %w", err)
	}
	if err := db.QueryRowContext(ctx, "SELECT id FROM accounts WHERE name = ?", otherAccountName).Scan(&seed.Other); err != nil {
		return seed, fmt.Errorf("other account: %w", err)
	}
	subs := func(acct int64) ([]pca.CA, error) {
		rows, err := db.QueryContext(ctx, "SELECT identifier FROM cas WHERE account_id = ? AND ca_type = ? ORDER BY id", acct, string(pca.CASub))
		if err != nil {
			return nil, err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		var out []pca.CA
		for _, id := range ids {
			ca, err := s.GetCA(ctx, acct, id)
			if err != nil {
				return nil, err
			}
			out = append(out, ca)
		}
		return out, nil
	}
	var err error
	if seed.SubCAs, err = subs(seed.Main); err != nil {
		return seed, err
	}
	if len(seed.SubCAs) != len(subCAWeights) {
		return seed, fmt.Errorf("main account has %d sub-CAs, want %d", len(seed.SubCAs), len(subCAWeights))
	}
	other, err := subs(seed.Other)
	if err != nil {
		return seed, err
	}
	if len(other) != 1 {
		return seed, fmt.Errorf("other account has %d sub-CAs, want 1", len(other))
	}
	seed.OtherSubCA = other[0]
	for _, p := range []struct {
		acct int64
		n    *int64
	}{{seed.Main, &seed.MainCerts}, {seed.Other, &seed.OtherCerts}} {
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM certificates WHERE account_id = ?", p.acct).Scan(p.n); err != nil {
			return seed, err
		}
	}
	return seed, nil
}

// seedStore creates the two accounts and their CAs and bulk-inserts n
// end-entity certificates into the main account and n/otherEvery into the
// second one, interleaved. The data is deterministic.
func seedStore(ctx context.Context, s *Store, n int) (benchSeed, error) {
	return seedWith(ctx, s, n, s.BulkInsertCertificates)
}

// seedWith is seedStore with the certificates stored by put, in batches of
// at most seedBatch, in generation order.
func seedWith(ctx context.Context, s *Store, n int, put func(context.Context, []pca.Certificate) error) (benchSeed, error) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	rng := rand.New(rand.NewChaCha8([32]byte{'p', 'c', 'a', 'd', '-', 'b', 'e', 'n', 'c', 'h'}))
	idRand := rand.NewChaCha8([32]byte{'i', 'd', 's'})

	var seed benchSeed
	newAccount := func(name string) (int64, error) {
		a, _, err := s.CreateAccount(ctx, name, store.AccessKeyRecord{ID: "LTAI" + name, SecretSealed: []byte("dummy-sealed-secret"), Active: true}, t0)
		return a.ID, err
	}
	var err error
	if seed.Main, err = newAccount(mainAccountName); err != nil {
		return seed, err
	}
	if seed.Other, err = newAccount(otherAccountName); err != nil {
		return seed, err
	}
	newCA := func(acct int64, typ pca.CAType, parent *pca.CA, cn, ou string) (pca.CA, error) {
		id, err := pca.NewIdentifier(t0, idRand)
		if err != nil {
			return pca.CA{}, err
		}
		ref, err := pca.NewIdentifier(t0, idRand)
		if err != nil {
			return pca.CA{}, err
		}
		subj := pca.Subject{CommonName: cn, Organization: "Example Corp", OrganizationUnit: ou, Locality: "Hangzhou", State: "Zhejiang", Country: "CN"}
		ca := pca.CA{AccountID: acct, Identifier: id, Type: typ, Status: pca.StatusIssue, Subject: subj,
			SubjectDN: "CN=" + cn + ",OU=" + ou + ",O=Example Corp,L=Hangzhou,ST=Zhejiang,C=CN",
			Algorithm: pca.RSA2048, KeyRef: "sw:" + ref, SerialNumber: fmt.Sprintf("%032x", rng.Uint64()), DER: filler(900),
			NotBefore: t0, NotAfter: t0.AddDate(10, 0, 0), Years: 10, PathLen: 0, CRLDays: 7, Created: t0}
		if parent != nil {
			ca.ParentID, ca.ParentIdentifier = parent.ID, parent.Identifier
			ca.NotAfter = t0.AddDate(5, 0, 0)
			if ca.InstanceUUID, err = pca.NewIdentifier(t0, idRand); err != nil {
				return pca.CA{}, err
			}
		} else {
			ca.PathLen = 1
		}
		key := store.KeyRecord{Ref: ca.KeyRef, AccountID: acct, Algorithm: ca.Algorithm, Sealed: []byte("dummy-sealed-key"), Created: t0}
		if err := s.CreateCA(ctx, &ca, key); err != nil {
			return pca.CA{}, err
		}
		return ca, nil
	}
	root, err := newCA(seed.Main, pca.CARoot, nil, "Example Corp Root CA", "Security")
	if err != nil {
		return seed, err
	}
	subNames := []struct{ cn, ou string }{
		{"Example Corp Web Services CA", "Platform"},
		{"Example Corp Device CA", "IoT"},
		{"Example Corp Workforce CA", "IT"},
		{"Example Corp Partner CA", "B2B"},
	}
	for _, sn := range subNames[:len(subCAWeights)] {
		ca, err := newCA(seed.Main, pca.CASub, &root, sn.cn, sn.ou)
		if err != nil {
			return seed, err
		}
		seed.SubCAs = append(seed.SubCAs, ca)
	}
	otherRoot, err := newCA(seed.Other, pca.CARoot, nil, "Other Org Root CA", "Ops")
	if err != nil {
		return seed, err
	}
	if seed.OtherSubCA, err = newCA(seed.Other, pca.CASub, &otherRoot, "Other Org Issuing CA", "Ops"); err != nil {
		return seed, err
	}
	instIDs := map[string]int64{}
	for _, ca := range append(append([]pca.CA{}, seed.SubCAs...), seed.OtherSubCA) {
		in, err := s.GetInstance(ctx, ca.AccountID, ca.InstanceUUID)
		if err != nil {
			return seed, err
		}
		instIDs[ca.Identifier] = in.ID
	}

	total := n + n/otherEvery
	// pickCA draws a sub-CA by weight. The first (and busiest) one is
	// retired halfway through, as when an issuing CA is rotated out: none of
	// the newer half of the store is its, so a list filtered on it starts
	// deep in the id order.
	pickCA := func(i int) pca.CA {
		first := 0
		if i >= total/2 {
			first = 1
		}
		sum := 0
		for _, w := range subCAWeights[first:] {
			sum += w
		}
		r := rng.IntN(sum)
		for k := first; k < len(subCAWeights); k++ {
			if r < subCAWeights[k] {
				return seed.SubCAs[k]
			}
			r -= subCAWeights[k]
		}
		return seed.SubCAs[len(seed.SubCAs)-1]
	}

	gen := seedgen.New(3)
	step := 2 * 365 * 24 * time.Hour / time.Duration(total) // issued over two years
	batch := make([]pca.Certificate, 0, seedBatch)
	mainDone := 0
	for i := 0; i < total; i++ {
		ca := seed.OtherSubCA
		if (i+1)%(otherEvery+1) != 0 {
			ca = pickCA(i)
			mainDone++
		}
		created := t0.Add(time.Duration(i)*step + time.Duration(rng.Int64N(int64(step))))
		c, err := gen.Cert(ca, instIDs[ca.Identifier], i, created)
		if err != nil {
			return seed, err
		}
		batch = append(batch, c)
		if len(batch) == cap(batch) || i == total-1 {
			if err := put(ctx, batch); err != nil {
				return seed, err
			}
			batch = batch[:0]
		}
	}
	seed.MainCerts, seed.OtherCerts = int64(mainDone), int64(total-mainDone)
	return seed, nil
}

var fillerBuf = func() []byte {
	b := make([]byte, 1024)
	r := rand.NewChaCha8([32]byte{'d', 'e', 'r'})
	r.Read(b)
	b[0], b[1] = 0x30, 0x82
	return b
}()

// filler returns n bytes that stand in for a certificate's DER; list
// queries never read it.
func filler(n int) []byte { return fillerBuf[:n:n] }

// TestBenchSeedSmall checks the seeder and the benchmark's correctness
// checks on a small database, so that the benchmark code stays working
// without a 1M-row seed on every go test.
func TestBenchSeedSmall(t *testing.T) {
	s, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "seed.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testSmallSeed(t, s)
}

// testSmallSeed seeds an empty store with 5,000 certificates and runs the
// benchmark's checks of every case on it.
func testSmallSeed(t *testing.T, s *Store) {
	ctx := t.Context()
	const n = 5_000
	seeded, err := seedStore(ctx, s, n)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := loadSeed(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if seed.MainCerts != n || seed.OtherCerts != n/otherEvery || seeded.MainCerts != n || seeded.OtherCerts != n/otherEvery {
		t.Fatalf("seeded %d/%d, loaded %d/%d certificates, want %d/%d", seeded.MainCerts, seeded.OtherCerts,
			seed.MainCerts, seed.OtherCerts, n, n/otherEvery)
	}
	cases, err := listCases(ctx, s, seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if err := checkList(ctx, s, seed.Main, c.q); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if err := checkScoping(ctx, s, seed); err != nil {
		t.Error(err)
	}
}

// TestBulkInsertMatchesInsert stores the same generated certificates (and a
// batch of edge cases: repeated tag keys, a repeated revoked serial, custom
// identifiers, both accounts) once through BulkInsertCertificates and once
// through InsertCertificate, each into an empty store of the same engine,
// and requires every table the two touch to end up identical: rows and
// bodies, ids, cert_counts, issued counts, revocations and revocation
// sequences, tags. Then a batch holding a duplicate identifier must fail
// with store.ErrConflict and change nothing.
func TestBulkInsertMatchesInsert(t *testing.T) {
	engines := []struct {
		name string
		open func(t *testing.T) *Store
	}{
		{"sqlite", func(t *testing.T) *Store {
			s, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "pcad.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
		{"postgres", func(t *testing.T) *Store {
			s, err := OpenPostgres(t.Context(), pgtest.Schema(t, "pcad_bulk"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := t.Context()
			bulk, single := e.open(t), e.open(t)
			oneByOne := func(ctx context.Context, certs []pca.Certificate) error {
				for i := range certs {
					if err := single.InsertCertificate(ctx, &certs[i], nil); err != nil {
						return err
					}
				}
				return nil
			}
			const n = 1_000
			seedB, err := seedWith(ctx, bulk, n, bulk.BulkInsertCertificates)
			if err != nil {
				t.Fatalf("bulk seed: %v", err)
			}
			seedS, err := seedWith(ctx, single, n, oneByOne)
			if err != nil {
				t.Fatalf("per-row seed: %v", err)
			}
			edgeB, edgeS := edgeCerts(t, bulk, seedB), edgeCerts(t, single, seedS)
			if err := bulk.BulkInsertCertificates(ctx, edgeB); err != nil {
				t.Fatalf("bulk edge cases: %v", err)
			}
			if err := oneByOne(ctx, edgeS); err != nil {
				t.Fatalf("per-row edge cases: %v", err)
			}
			for i := range edgeB {
				if edgeB[i].ID == 0 || edgeB[i].ID != edgeS[i].ID || i > 0 && edgeB[i].ID <= edgeB[i-1].ID {
					t.Fatalf("edge case %d: bulk id %d, per-row id %d (want equal, ascending)", i, edgeB[i].ID, edgeS[i].ID)
				}
			}
			want := dumpTables(t, single)
			got := dumpTables(t, bulk)
			compareDumps(t, got, want)
			if c := got["cert_counts"]; len(c) == 0 {
				t.Fatal("cert_counts is empty: the comparison would prove nothing")
			}

			// A duplicate identifier fails the whole batch and stores nothing.
			dup := edgeCerts(t, bulk, seedB)[:2]
			dup[0].Identifier += "-new" // would be stored but for its batch
			dup[1].Identifier = edgeB[0].Identifier
			err = bulk.BulkInsertCertificates(ctx, dup)
			if !errors.Is(err, store.ErrConflict) {
				t.Fatalf("duplicate identifier: err = %v, want store.ErrConflict", err)
			}
			if dup[0].ID != 0 || dup[1].ID != 0 {
				t.Errorf("failed batch left ids %d, %d", dup[0].ID, dup[1].ID)
			}
			compareDumps(t, dumpTables(t, bulk), got)
		})
	}
}

// edgeCerts builds certificates that exercise what the bulk path must do
// like the per-row one, on top of a seed.
func edgeCerts(t *testing.T, s *Store, seed benchSeed) []pca.Certificate {
	t.Helper()
	gen := seedgen.New('e')
	at := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	var out []pca.Certificate
	for i, ca := range []pca.CA{seed.SubCAs[0], seed.SubCAs[1], seed.SubCAs[1], seed.OtherSubCA, seed.SubCAs[3]} {
		c, err := gen.Cert(ca, 0, 1_000_000+i, at.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	// Each certificate draws on its CA's default instance.
	for i := range out {
		c := &out[i]
		ca := seed.OtherSubCA
		for _, sub := range seed.SubCAs {
			if sub.Identifier == c.ParentIdentifier {
				ca = sub
			}
		}
		in, err := s.GetInstance(t.Context(), c.AccountID, ca.InstanceUUID)
		if err != nil {
			t.Fatal(err)
		}
		c.InstanceID = in.ID
	}
	// Repeated tag keys: the last value of a key wins.
	out[0].Tags = []pca.Tag{{Key: "env", Value: "dev"}, {Key: "team", Value: "a"}, {Key: "env", Value: "prod"}}
	// Two revocations of one serial under one CA: the first record stays,
	// and both bump the CA's revocation sequence.
	for _, i := range []int{1, 2} {
		out[i].Status, out[i].RevokeReason = pca.StatusRevoke, pca.RevocationReason(i)
		out[i].RevokedAt = at.Add(time.Duration(i) * time.Hour)
		out[i].Changed = out[i].RevokedAt
		out[i].SerialNumber = "00aa55"
	}
	out[3].CustomIdentifier, out[3].Tags = "edge-custom", nil
	out[4].CustomIdentifier, out[4].AliasName = "", "edge alias"
	return out
}

// dumpTables reads every row of the tables certificate writes touch, each
// row as text, sorted.
func dumpTables(t *testing.T, s *Store) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range []string{"accounts", "cas", "instances", "certificates", "certificate_bodies", "cert_counts",
		"revocations", "tags", "private_keys"} {
		rows, err := s.db.QueryContext(t.Context(), "SELECT * FROM "+table)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("dump %s: %v", table, err)
			}
			var b strings.Builder
			for i, v := range vals {
				if v, ok := v.([]byte); ok {
					fmt.Fprintf(&b, "%s=%x ", cols[i], v)
					continue
				}
				fmt.Fprintf(&b, "%s=%v ", cols[i], v)
			}
			lines = append(lines, b.String())
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		sort.Strings(lines)
		out[table] = lines
	}
	return out
}

func compareDumps(t *testing.T, got, want map[string][]string) {
	t.Helper()
	for table, w := range want {
		g := got[table]
		if len(g) != len(w) {
			t.Errorf("%s: %d rows, want %d", table, len(g), len(w))
			continue
		}
		for i := range w {
			if g[i] != w[i] {
				t.Errorf("%s: row differs:\n got  %s\n want %s", table, g[i], w[i])
				break
			}
		}
	}
}
