package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// This file seeds a SQLite store for the ListCert benchmarks: one main
// account with a root CA, four sub-CAs (each with its default end-entity
// instance) and N end-entity certificates spread over them, and a second
// account whose rows are interleaved with the main account's ids so that
// per-account scoping is exercised. Seeding goes through
// BulkInsertCertificates, the same path imports use, not through the API.

// seedVersion changes whenever the generated data changes, so that a cached
// database seeded by an older generator is not reused.
const seedVersion = "listcert-seed-v1"

// otherEvery: after every otherEvery main-account rows comes one row of the
// second account.
const otherEvery = 50

// seedBatch is the number of certificates per BulkInsertCertificates call
// (one transaction each).
const seedBatch = 10_000

// subCAWeights spreads the main account's certificates over its sub-CAs.
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
	db := s.DB()
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

	weightSum := 0
	for _, w := range subCAWeights {
		weightSum += w
	}
	pickCA := func() pca.CA {
		r := rng.IntN(weightSum)
		for i, w := range subCAWeights {
			if r < w {
				return seed.SubCAs[i]
			}
			r -= w
		}
		return seed.SubCAs[len(seed.SubCAs)-1]
	}

	total := n + n/otherEvery
	step := 2 * 365 * 24 * time.Hour / time.Duration(total) // issued over two years
	batch := make([]pca.Certificate, 0, seedBatch)
	mainDone := 0
	for i := 0; i < total; i++ {
		ca := seed.OtherSubCA
		if (i+1)%(otherEvery+1) != 0 {
			ca = pickCA()
			mainDone++
		}
		created := t0.Add(time.Duration(i)*step + time.Duration(rng.Int64N(int64(step))))
		c, err := genCert(rng, idRand, ca, instIDs[ca.Identifier], i, created)
		if err != nil {
			return seed, err
		}
		batch = append(batch, c)
		if len(batch) == cap(batch) || i == total-1 {
			if err := s.BulkInsertCertificates(ctx, batch); err != nil {
				return seed, err
			}
			batch = batch[:0]
		}
	}
	seed.MainCerts, seed.OtherCerts = int64(mainDone), int64(total-mainDone)
	return seed, nil
}

var (
	services = []string{"api", "web", "auth", "billing", "search", "cdn", "mail", "vpn", "grpc", "queue", "db", "cache"}
	envs     = []string{"prod", "prod", "prod", "staging", "dev"}
	regions  = []string{"cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1", "eu-central-1"}
	teams    = []string{"Platform", "Payments", "Identity", "Data", "Mobile", "Retail"}
	cities   = []struct{ l, st, c string }{
		{"Hangzhou", "Zhejiang", "CN"}, {"Shanghai", "Shanghai", "CN"}, {"Beijing", "Beijing", "CN"},
		{"Singapore", "Singapore", "SG"}, {"Frankfurt", "Hessen", "DE"},
	}
)

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

// genCert makes one realistic end-entity certificate record.
func genCert(rng *rand.Rand, idRand *rand.ChaCha8, ca pca.CA, instID int64, i int, created time.Time) (pca.Certificate, error) {
	id, err := pca.NewIdentifier(created, idRand)
	if err != nil {
		return pca.Certificate{}, err
	}
	var typ pca.CertType
	switch r := rng.IntN(100); {
	case r < 60:
		typ = pca.TypeServer
	case r < 95:
		typ = pca.TypeClient
	default:
		typ = pca.TypeEndEntity
	}
	city := cities[rng.IntN(len(cities))]
	team := teams[rng.IntN(len(teams))]
	subj := pca.Subject{Organization: "Example Corp", OrganizationUnit: team, Locality: city.l, State: city.st, Country: city.c}
	var sans []pca.SAN
	var validity time.Duration
	switch typ {
	case pca.TypeServer:
		subj.CommonName = fmt.Sprintf("%s-%04d.%s.%s.example.com", services[rng.IntN(len(services))], rng.IntN(10000),
			envs[rng.IntN(len(envs))], regions[rng.IntN(len(regions))])
		sans = []pca.SAN{{Type: pca.SANDNS, Value: subj.CommonName}}
		if rng.IntN(4) == 0 {
			sans = append(sans, pca.SAN{Type: pca.SANIP, Value: fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))})
		}
		validity = 398 * 24 * time.Hour
	case pca.TypeClient:
		if rng.IntN(2) == 0 {
			subj.CommonName = fmt.Sprintf("user%06d@corp.example.com", rng.IntN(1_000_000))
			sans = []pca.SAN{{Type: pca.SANEmail, Value: subj.CommonName}}
		} else {
			subj.CommonName = fmt.Sprintf("device-%08x", rng.Uint32())
		}
		validity = 730 * 24 * time.Hour
	default:
		subj.CommonName = fmt.Sprintf("workload-%d.svc.cluster.local", i)
		sans = []pca.SAN{{Type: pca.SANURI, Value: "spiffe://example.com/ns/default/sa/workload-" + strconv.Itoa(i)}}
		validity = 365 * 24 * time.Hour
	}
	alg := pca.RSA2048
	switch r := rng.IntN(100); {
	case r < 35:
		alg = pca.ECC256
	case r < 40:
		alg = pca.ECC384
	case r < 45:
		alg = pca.RSA4096
	}
	c := pca.Certificate{AccountID: ca.AccountID, Identifier: id, CAID: ca.ID, ParentIdentifier: ca.Identifier,
		InstanceID: instID, InstanceUUID: ca.InstanceUUID, Type: typ, Status: pca.StatusIssue, Subject: subj,
		SubjectDN: fmt.Sprintf("CN=%s,OU=%s,O=%s,L=%s,ST=%s,C=%s", subj.CommonName, subj.OrganizationUnit, subj.Organization,
			subj.Locality, subj.State, subj.Country),
		SANs: sans, Algorithm: alg, SerialNumber: fmt.Sprintf("%016x%016x", rng.Uint64()>>1, rng.Uint64()),
		DER: filler(300 + rng.IntN(400)), NotBefore: created.Truncate(time.Second), NotAfter: created.Truncate(time.Second).Add(validity),
		ResourceGroupID: "rg-acfmzw2nplyfzza", Created: created, Changed: created}
	if rng.IntN(10) < 7 { // service-generated key (the bulk path stores no key rows)
		ref, err := pca.NewIdentifier(created, idRand)
		if err != nil {
			return pca.Certificate{}, err
		}
		c.KeyRef = "sw:" + ref
	}
	if rng.IntN(5) == 0 {
		c.AliasName = "cert-" + strconv.Itoa(i)
	}
	if rng.IntN(20) == 0 {
		c.CustomIdentifier = "ci-" + strconv.Itoa(i)
	}
	if rng.IntN(3) == 0 {
		c.Tags = []pca.Tag{{Key: "env", Value: envs[rng.IntN(len(envs))]}}
		if rng.IntN(2) == 0 {
			c.Tags = append(c.Tags, pca.Tag{Key: "team", Value: team})
		}
	}
	if rng.IntN(10) == 0 { // ~10% revoked, some time after issue
		c.Status = pca.StatusRevoke
		c.RevokedAt = created.Add(time.Duration(1+rng.IntN(180*24)) * time.Hour)
		c.RevokeReason = pca.RevocationReason(rng.IntN(6))
		c.Changed = c.RevokedAt
	}
	return c, nil
}

// TestBenchSeedSmall checks the seeder and the benchmark's correctness
// checks on a small database, so that the benchmark code stays working
// without a 1M-row seed on every go test.
func TestBenchSeedSmall(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "seed.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
