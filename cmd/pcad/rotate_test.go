package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/service"
	"github.com/pcad-dev/pcad/internal/store"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
	"github.com/pcad-dev/pcad/internal/store/sqlstore/pgtest"
)

// rotPCAD is a pcad (no HTTP server) holding every kind of sealed value:
// server secrets, the owner's and a RAM user's AccessKeys, root and sub-CA
// keys, a service-generated certificate key (all ECC: RSA keys are sealed
// alike, and TestSecretScan covers them).
type rotPCAD struct {
	dir, dsn string
	actor    service.Actor
	secrets  map[string]string // AccessKey id -> secret
	certID   string            // a certificate whose key the service generated
}

// engines are the stores the rotation tests run on: SQLite, and
// PostgreSQL when PCAD_TEST_POSTGRES is set.
func engines() []string {
	if os.Getenv(pgtest.Env) != "" {
		return []string{"sqlite", "postgres"}
	}
	return []string{"sqlite"}
}

// buildPCAD makes a pcad under a fresh data directory (on PostgreSQL when
// engine is "postgres") and stops it.
func buildPCAD(t *testing.T, engine string) *rotPCAD {
	t.Helper()
	ctx := context.Background()
	p := &rotPCAD{dir: filepath.Join(t.TempDir(), "data"), secrets: map[string]string{}}
	if engine == "postgres" {
		p.dsn = pgtest.Schema(t, "pcad_rotate")
	}
	a, err := newApp(ctx, config{Data: p.dir, DB: p.dsn}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.store.Close()
	owner, _, err := a.svc.Bootstrap(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	p.secrets[owner.ID] = owner.Secret
	p.actor = service.Actor{AccountID: owner.AccountID, PrincipalID: owner.PrincipalID}
	subj := func(cn string) pca.Subject {
		return pca.Subject{CommonName: cn, Organization: "pcad", OrganizationUnit: "QA", Locality: "Hangzhou", State: "Zhejiang", Country: "CN"}
	}
	root, err := a.svc.CreateRootCA(ctx, p.actor, service.RootCARequest{Subject: subj("Rotate Root"), Years: 10, Algorithm: pca.ECC256})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := a.svc.CreateSubCA(ctx, p.actor, service.SubCARequest{ParentIdentifier: root.Identifier, Subject: subj("Rotate Sub"),
		Years: 5, Algorithm: pca.ECC256, ExtendedKeyUsages: []string{"serverAuth", "clientAuth"}})
	if err != nil {
		t.Fatal(err)
	}
	p.issue(t, a, sub.Identifier)
	if _, err := a.svc.CreateUser(ctx, p.actor, service.UserInput{Name: "rotator"}); err != nil {
		t.Fatal(err)
	}
	ak, err := a.svc.CreateAccessKey(ctx, p.actor, "rotator")
	if err != nil {
		t.Fatal(err)
	}
	p.secrets[ak.ID] = ak.Secret
	a.svc.Audit(ctx, service.AuditEntry{RequestID: "rotate-test", Action: "Test", AccessKeyID: owner.ID,
		AccountID: owner.AccountID, PrincipalID: owner.PrincipalID, Code: "OK"})
	return p
}

// issue issues a server certificate with a service-generated key.
func (p *rotPCAD) issue(t *testing.T, a *app, subID string) {
	t.Helper()
	c, err := a.svc.IssueCertificate(context.Background(), p.actor, service.IssueRequest{ParentIdentifier: subID, Type: pca.TypeServer,
		Algorithm: pca.ECC256, Subject: pca.Subject{CommonName: "rotate.example.com"}, Validity: pki.Validity{Days: 30}})
	if err != nil {
		t.Fatal(err)
	}
	p.certID = c.Identifier
}

// open starts the pcad with cfg's master key settings (Data and DB filled).
func (p *rotPCAD) open(cfg config) (*app, error) {
	cfg.Data, cfg.DB = p.dir, p.dsn
	return newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// check opens every kind of sealed value through the service: every
// AccessKey, the CA keys (signing), a generated key (export), the audit key
// and head.
func (p *rotPCAD) check(t *testing.T, a *app) {
	t.Helper()
	ctx := context.Background()
	for id, secret := range p.secrets {
		k, err := a.svc.LookupAccessKey(ctx, id)
		if err != nil || k.Secret != secret {
			t.Fatalf("AccessKey %s: %v (secret matches: %v)", id, err, k.Secret == secret)
		}
	}
	cas, _, err := a.store.ListCAs(ctx, p.actor.AccountID, store.CAQuery{Limit: 10})
	if err != nil || len(cas) != 2 {
		t.Fatalf("ListCAs: %d, %v", len(cas), err)
	}
	for _, ca := range cas {
		if ca.Type == pca.CASub {
			p.issue(t, a, ca.Identifier) // signs with the sub-CA's key
		}
	}
	if _, err := a.svc.ExportPrivateKey(ctx, p.actor, p.certID, "", []byte("Rotate-Export-9")); err != nil {
		t.Fatalf("export: %v", err)
	}
	rep, err := a.svc.VerifyAudit(ctx)
	if err != nil || rep.Err != nil || rep.HeadID == 0 {
		t.Fatalf("VerifyAudit: %+v, %v", rep, err)
	}
}

// firstFormat counts the stored values still sealed under the master key
// itself.
func firstFormat(t *testing.T, st store.DataKeyStore) int {
	t.Helper()
	n := 0
	for _, kind := range store.SealedKinds {
		vs, err := st.ListSealedValues(context.Background(), kind, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			if v.Sealed[0] == 1 {
				n++
			}
		}
	}
	return n
}

// downgrade makes p's store look as an earlier version left it: every
// value sealed directly under master, no data keys. It returns how many
// values there are.
func (p *rotPCAD) downgrade(t *testing.T, master []byte) int {
	t.Helper()
	ctx := context.Background()
	a, err := p.open(config{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.store.Close()
	ring, err := keys.OpenKeyring(ctx, master, a.store, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	legacy, _ := keys.NewSealer(master, rand.Reader)
	n := 0
	for _, kind := range store.SealedKinds {
		vs, err := a.store.ListSealedValues(ctx, kind, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			aad, _ := keys.AAD(kind, v.ID)
			pt, err := ring.Open(ctx, v.Sealed, aad)
			if err != nil {
				t.Fatal(err)
			}
			old, _ := legacy.Seal(pt, aad)
			if err := a.store.SwapSealedValue(ctx, kind, v.ID, v.Sealed, old); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if _, err := a.store.DB().ExecContext(ctx, "DELETE FROM data_keys"); err != nil {
		t.Fatal(err)
	}
	return n
}

// runRotate runs `pcad admin rotate-master-key` on p with extra args, the
// master-key variables cleared except those in env.
func (p *rotPCAD) runRotate(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	for _, v := range []string{"PCAD_DATA", "PCAD_DB", "PCAD_MASTER_KEY", "PCAD_MASTER_KEY_FILE", "PCAD_NEW_MASTER_KEY"} {
		t.Setenv(v, env[v])
	}
	args = append([]string{"--data", p.dir}, args...)
	if p.dsn != "" {
		args = append(args, "--db", p.dsn)
	}
	var out, errb bytes.Buffer
	err := adminRotateMasterKey(context.Background(), args, &out, &errb)
	return out.String() + errb.String(), err
}

func readKeyFile(t *testing.T, path string) []byte {
	t.Helper()
	k, err := keys.LoadMasterKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// wantRefused checks that starting p with cfg fails with an error naming
// each of mention.
func (p *rotPCAD) wantRefused(t *testing.T, cfg config, mention ...string) {
	t.Helper()
	a, err := p.open(cfg)
	if err == nil {
		a.store.Close()
		t.Fatal("the server started")
	}
	for _, m := range mention {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("start error %q does not mention %q", err, m)
		}
	}
}

// TestRotateMasterKey rotates the file-based master key of a pcad while a
// server runs on it: the running server works on, a new one starts with
// the new key, the old key is refused and opens nothing.
func TestRotateMasterKey(t *testing.T) {
	for _, engine := range engines() {
		t.Run(engine, func(t *testing.T) {
			p := buildPCAD(t, engine)
			keyFile := filepath.Join(p.dir, "master.key")
			oldKey := readKeyFile(t, keyFile)
			running, err := p.open(config{})
			if err != nil {
				t.Fatal(err)
			}
			defer running.store.Close()

			out, err := p.runRotate(t, nil)
			if err != nil {
				t.Fatalf("rotate: %v\n%s", err, out)
			}
			newKey := readKeyFile(t, keyFile)
			if bytes.Equal(newKey, oldKey) {
				t.Fatal("master.key still holds the old key")
			}
			if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("master.key: %v, %v", fi, err)
			}
			if _, err := os.Stat(keyFile + ".new"); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("master.key.new left behind: %v", err)
			}
			for _, m := range []string{keys.Fingerprint(oldKey), keys.Fingerprint(newKey), "1 data keys re-wrapped", "now holds the new key"} {
				if !strings.Contains(out, m) {
					t.Errorf("output does not mention %q:\n%s", m, out)
				}
			}
			for _, k := range [][]byte{oldKey, newKey} {
				if strings.Contains(out, hex.EncodeToString(k)) {
					t.Fatal("the output holds a master key")
				}
			}

			p.check(t, running) // keeps its data keys in memory
			fresh, err := p.open(config{})
			if err != nil {
				t.Fatalf("start with the new key: %v", err)
			}
			defer fresh.store.Close()
			p.check(t, fresh)
			p.wantRefused(t, config{MasterKey: hex.EncodeToString(oldKey)}, "wrong master key", keys.Fingerprint(oldKey), keys.Fingerprint(newKey))
			if _, err := keys.OpenKeyring(context.Background(), oldKey, fresh.store, rand.Reader); !errors.Is(err, keys.ErrWrongMasterKey) {
				t.Fatalf("a keyring with the old key: %v", err)
			}
			if n := firstFormat(t, fresh.store); n != 0 {
				t.Fatalf("%d values still sealed under a master key", n)
			}
		})
	}
}

// TestRotateMasterKeyResumes interrupts the rotation of a store written by
// an earlier version (every value sealed under the master key itself) at
// several points, checks what a server starting then is told, and finishes
// it by running the command again.
func TestRotateMasterKeyResumes(t *testing.T) {
	for _, engine := range engines() {
		t.Run(engine, func(t *testing.T) {
			// Each of the n values is re-sealed (n changes), then the one
			// data key is re-wrapped (change n+1).
			tests := []struct {
				name      string
				stopAfter func(n int) int
				oldStarts bool // the interrupted store still starts with the old key
			}{
				{"during re-sealing", func(int) int { return 2 }, true},
				{"after re-sealing", func(n int) int { return n }, true},
				{"after re-wrapping, before master.key is replaced", func(n int) int { return n + 1 }, false},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					p := buildPCAD(t, engine)
					// 3 server secrets, 2 AccessKeys, 3 private keys.
					n := p.downgrade(t, readKeyFile(t, filepath.Join(p.dir, "master.key")))
					if n != 8 {
						t.Fatalf("%d sealed values, want 8", n)
					}
					stopAfter := tc.stopAfter(n)
					keyFile := filepath.Join(p.dir, "master.key")
					oldKey := readKeyFile(t, keyFile)
					rotateAfterChange = func(changed int) error {
						if changed == stopAfter {
							return errors.New("simulated crash")
						}
						return nil
					}
					out, err := p.runRotate(t, nil)
					rotateAfterChange = nil
					if err == nil || !strings.Contains(err.Error(), "simulated crash") || !strings.Contains(err.Error(), "run the same command again") {
						t.Fatalf("interrupted rotation: %v\n%s", err, out)
					}
					newKey := readKeyFile(t, keyFile+".new")
					if !bytes.Equal(readKeyFile(t, keyFile), oldKey) {
						t.Fatal("master.key was replaced before the rotation finished")
					}
					if tc.oldStarts {
						a, err := p.open(config{})
						if err != nil {
							t.Fatalf("start with the old key: %v", err)
						}
						p.check(t, a)
						a.store.Close()
					} else {
						p.wantRefused(t, config{}, "wrong master key", keys.Fingerprint(oldKey), keys.Fingerprint(newKey), "did not finish")
					}

					out, err = p.runRotate(t, nil)
					if err != nil {
						t.Fatalf("resumed rotation: %v\n%s", err, out)
					}
					if !strings.Contains(out, "previous run left") {
						t.Errorf("the rerun did not reuse the new key:\n%s", out)
					}
					if !bytes.Equal(readKeyFile(t, keyFile), newKey) {
						t.Fatal("master.key does not hold the new key")
					}
					a, err := p.open(config{})
					if err != nil {
						t.Fatalf("start with the new key: %v", err)
					}
					defer a.store.Close()
					if k := firstFormat(t, a.store); k != 0 {
						t.Fatalf("%d values still sealed under a master key", k)
					}
					p.check(t, a)
					p.wantRefused(t, config{MasterKey: hex.EncodeToString(oldKey)}, "wrong master key")
				})
			}
		})
	}
}

// TestRotateMasterKeyRefuses: rotations that must not start change nothing:
// not the store, not master.key, and no new key file is left.
func TestRotateMasterKeyRefuses(t *testing.T) {
	p := buildPCAD(t, "")
	keyFile := filepath.Join(p.dir, "master.key")
	oldKey := readKeyFile(t, keyFile)
	other := make([]byte, keys.MasterKeySize)
	rand.Read(other)
	sameFile := filepath.Join(t.TempDir(), "same.key")
	os.WriteFile(sameFile, []byte(hex.EncodeToString(oldKey)), 0o600)
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		mention string
	}{
		{"wrong current key", map[string]string{"PCAD_MASTER_KEY": hex.EncodeToString(other)}, nil, "wrong master key"},
		{"both new keys", map[string]string{"PCAD_NEW_MASTER_KEY": hex.EncodeToString(other)}, []string{"--new-key-file", sameFile}, "set one"},
		{"both current keys", map[string]string{"PCAD_MASTER_KEY": hex.EncodeToString(oldKey)}, []string{"--master-key-file", keyFile}, "set one"},
		{"same key", nil, []string{"--new-key-file", sameFile}, "is the old one"},
		{"bad new key", map[string]string{"PCAD_NEW_MASTER_KEY": "abc"}, nil, "64 hex digits"},
		{"missing new key file", nil, []string{"--new-key-file", filepath.Join(t.TempDir(), "nope")}, "no such file"},
		{"no store", nil, []string{"--data", t.TempDir()}, "no pcad store"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := storeDump(t, p)
			out, err := p.runRotate(t, tc.env, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("err = %v, want one mentioning %q\n%s", err, tc.mention, out)
			}
			if storeDump(t, p) != before {
				t.Fatal("a refused rotation changed the store")
			}
			if !bytes.Equal(readKeyFile(t, keyFile), oldKey) {
				t.Fatal("a refused rotation changed master.key")
			}
			if _, err := os.Stat(keyFile + ".new"); !errors.Is(err, os.ErrNotExist) {
				t.Fatal("a refused rotation left master.key.new")
			}
			if strings.Contains(err.Error()+out, hex.EncodeToString(other)) || strings.Contains(err.Error()+out, hex.EncodeToString(oldKey)) {
				t.Fatal("a master key was printed")
			}
		})
	}
}

// storeDump lists every data key and sealed value of p's store.
func storeDump(t *testing.T, p *rotPCAD) string {
	t.Helper()
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(p.dir, "pcad.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var b strings.Builder
	dks, err := st.ListDataKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, dk := range dks {
		fmt.Fprintf(&b, "%d %x %s\n", dk.ID, dk.Wrapped, dk.MasterFingerprint)
	}
	for _, kind := range store.SealedKinds {
		vs, _ := st.ListSealedValues(context.Background(), kind, "", 1000)
		for _, v := range vs {
			fmt.Fprintf(&b, "%v %s %x\n", kind, v.ID, v.Sealed)
		}
	}
	return b.String()
}

// TestMasterKeySources: where pcad serve takes its master key from, and the
// starts it refuses, naming the cause, without writing anything.
func TestMasterKeySources(t *testing.T) {
	p := buildPCAD(t, "")
	keyFile := filepath.Join(p.dir, "master.key")
	key := readKeyFile(t, keyFile)
	elsewhere := filepath.Join(t.TempDir(), "kept-elsewhere.key")
	if err := os.WriteFile(elsewhere, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	wrong := make([]byte, keys.MasterKeySize)
	rand.Read(wrong)
	wrongFile := filepath.Join(t.TempDir(), "wrong.key")
	os.WriteFile(wrongFile, []byte(hex.EncodeToString(wrong)), 0o600)
	tests := []struct {
		name        string
		cfg         config
		hideDefault bool     // master.key moved away for this case
		mention     []string // empty: the start succeeds
	}{
		{"default file", config{}, false, nil},
		{"key file elsewhere", config{MasterKeyFile: elsewhere}, true, nil},
		{"environment", config{MasterKey: hex.EncodeToString(key)}, true, nil},
		{"both set", config{MasterKey: hex.EncodeToString(key), MasterKeyFile: elsewhere}, false, []string{"set one"}},
		{"key file missing", config{MasterKeyFile: elsewhere + ".nope"}, false, []string{"does not exist"}},
		{"wrong key file", config{MasterKeyFile: wrongFile}, false, []string{"wrong master key", wrongFile, keys.Fingerprint(wrong), keys.Fingerprint(key)}},
		{"wrong key in the environment", config{MasterKey: hex.EncodeToString(wrong)}, false, []string{"wrong master key", "PCAD_MASTER_KEY", keys.Fingerprint(wrong)}},
		{"default file lost", config{}, true, []string{"master.key does not exist", "holds keys and secrets"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.hideDefault {
				os.Rename(keyFile, keyFile+".away")
				defer os.Rename(keyFile+".away", keyFile)
			}
			before := storeDump(t, p)
			a, err := p.open(tc.cfg)
			if len(tc.mention) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				p.check(t, a)
				a.store.Close()
			} else {
				if err == nil {
					a.store.Close()
					t.Fatal("the server started")
				}
				for _, m := range tc.mention {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("error %q does not mention %q", err, m)
					}
				}
				if storeDump(t, p) != before {
					t.Fatal("a refused start changed the store")
				}
			}
			if tc.hideDefault {
				if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
					t.Fatal("a master.key was generated beside a store that has one elsewhere")
				}
			}
		})
	}
	// parseServeFlags refuses both sources at once, too.
	t.Setenv("PCAD_MASTER_KEY", hex.EncodeToString(key))
	if _, err := parseServeFlags([]string{"--master-key-file", elsewhere}, io.Discard); err == nil || !strings.Contains(err.Error(), "set one") {
		t.Fatalf("parseServeFlags with both: %v", err)
	}
}
