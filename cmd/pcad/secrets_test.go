package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/store"
)

// TestNoSecretsInClear: after a hierarchy and certificates were made, the
// AccessKey secret does not appear in clear in the database files, which are
// owner-only. (Private keys: see the service's TestKeysSealedAtRest.)
func TestNoSecretsInClear(t *testing.T) {
	ts := startServer(t, 0)
	c := ts.client(t, "v3")
	root := createRoot(t, c, "ECC_256", nil)
	sub := createSub(t, c, root.ID, "ECC_256", nil)
	issueServer(t, c, sub.ID, nil)
	issueClient(t, c, sub.ID, nil)

	files, _ := filepath.Glob(filepath.Join(ts.app.cfg.Data, "pcad.db*"))
	if len(files) == 0 {
		t.Fatal("no database files found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(ts.secret)) {
			t.Errorf("%s contains the AccessKey secret in clear", f)
		}
		fi, _ := os.Stat(f)
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: the store must be owner-only", f, fi.Mode().Perm())
		}
	}
}

// ---- the secret scan ------------------------------------------------------

// needle is something that must appear nowhere: a name for reports and
// the bytes to look for.
type needle struct {
	name string
	b    []byte
}

// finding is one needle found in one haystack.
type finding struct{ haystack, needle string }

// encodings returns a needle for b itself and for its usual printable
// forms (hex in both cases, standard and URL base64), each named.
func encodings(name string, b []byte) []needle {
	return []needle{
		{name, b},
		{name + " (hex)", []byte(hex.EncodeToString(b))},
		{name + " (HEX)", []byte(strings.ToUpper(hex.EncodeToString(b)))},
		{name + " (base64)", []byte(base64.StdEncoding.EncodeToString(b))},
		{name + " (base64url)", []byte(base64.RawURLEncoding.EncodeToString(b))},
	}
}

// scanFor reports every needle found in every haystack, in a stable order.
func scanFor(haystacks map[string][]byte, needles []needle) []finding {
	var out []finding
	for _, h := range slices.Sorted(func(yield func(string) bool) {
		for k := range haystacks {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, n := range needles {
			if len(n.b) > 0 && bytes.Contains(haystacks[h], n.b) {
				out = append(out, finding{h, n.name})
			}
		}
	}
	return out
}

// keyNeedles returns the forms a private key's secret could leak in: its
// PKCS#8 DER, the engine-specific DER, and the raw secret numbers (the EC
// scalar; RSA's private exponent, primes and CRT values), each in every
// encoding.
func keyNeedles(t *testing.T, name string, k crypto.Signer) []needle {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	out := encodings(name+" PKCS#8", der)
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		scalar, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		sec1, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, encodings(name+" EC scalar", scalar)...)
		out = append(out, encodings(name+" SEC 1", sec1)...)
	case *rsa.PrivateKey:
		out = append(out, encodings(name+" PKCS#1", x509.MarshalPKCS1PrivateKey(k))...)
		out = append(out, encodings(name+" RSA d", k.D.Bytes())...)
		for i, p := range k.Primes {
			out = append(out, encodings(fmt.Sprintf("%s RSA prime %d", name, i), p.Bytes())...)
		}
		out = append(out, encodings(name+" RSA dp", k.Precomputed.Dp.Bytes())...)
		out = append(out, encodings(name+" RSA dq", k.Precomputed.Dq.Bytes())...)
		out = append(out, encodings(name+" RSA qinv", k.Precomputed.Qinv.Bytes())...)
	default:
		t.Fatalf("%s: unexpected key type %T", name, k)
	}
	return out
}

// scanLog is the server's log: a buffer safe for concurrent writers.
type scanLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *scanLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *scanLog) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// startLoggedServer starts pcad as startServerConfig does, logging JSON at
// debug level into logs.
func startLoggedServer(t *testing.T, logs io.Writer) *testServer {
	t.Helper()
	return startServerLogged(t, config{}, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

// TestSecretScan runs a representative workload through the official client
// (RSA and ECC hierarchies, server and client certificates with keys the
// service generates, key exports with a password, a RAM user with an
// AccessKey, a master-key rotation while the server runs), with the server
// logging JSON at debug level. Then it unseals every secret the service
// holds and looks for each, and for the export passwords, the master keys
// and PEM private-key headers, in the database files and every log line:
// none may be there.
func TestSecretScan(t *testing.T) {
	for _, v := range []string{"PCAD_DATA", "PCAD_DB", "PCAD_MASTER_KEY", "PCAD_MASTER_KEY_FILE", "PCAD_NEW_MASTER_KEY"} {
		t.Setenv(v, "")
	}
	ctx := context.Background()
	logs := &scanLog{}
	ts := startLoggedServer(t, logs)
	data := ts.app.cfg.Data
	oldMaster := readKeyFile(t, filepath.Join(data, "master.key"))
	c := ts.client(t, "v3")

	var certs []string
	for _, alg := range []string{"RSA_2048", "ECC_256"} {
		root := createRoot(t, c, alg, nil)
		sub := createSub(t, c, root.ID, alg, nil)
		certs = append(certs, issueServer(t, c, sub.ID, map[string]string{"Algorithm": alg}),
			issueClient(t, c, sub.ID, map[string]string{"Algorithm": alg, "ClientToken": "scan-" + alg})) // its answer is kept for retries
	}
	passwords := []string{"Scan-Export-Pw#4711", "Scan-Export-Pw#0815"}
	export := func(id, password string) {
		t.Helper()
		pemKey := jStr(t, mustCall(t, c, "DescribeCertificatePrivateKey", map[string]string{"Identifier": id, "EncryptedCode": password}), "EncryptedData")
		if _, err := keys.DecryptPKCS8PEM([]byte(pemKey), []byte(password)); err != nil {
			t.Fatalf("the exported key does not open with its password: %v", err)
		}
		// A refused password is not logged either.
		_, err := call(t, c, "DescribeCertificatePrivateKey", map[string]string{"Identifier": id, "EncryptedCode": password + " tail"})
		wantErr(t, err, 0, "InvalidParameter.EncryptedCode")
	}
	export(certs[0], passwords[0]) // RSA
	export(certs[2], passwords[0]) // ECC

	ramCall(t, c, "CreateUser", map[string]string{"UserName": "scanner"})
	ak := jObj(t, ramCall(t, c, "CreateAccessKey", map[string]string{"UserName": "scanner"}), "AccessKey")
	ramID, ramSecret := jStr(t, ak, "AccessKeyId"), jStr(t, ak, "AccessKeySecret")
	// The RAM user signs a call (no policy: refused after verification), and
	// a call is signed with a wrong secret.
	if _, err := call(t, clientFor(t, ts, "v1", ramID, ramSecret), "ListCert", nil); err == nil {
		t.Fatal("a RAM user without policies listed certificates")
	}
	_, err := call(t, clientFor(t, ts, "v1", ts.keyID, ramSecret), "ListCert", nil)
	wantErr(t, err, 0, "SignatureDoesNotMatch")

	// Rotate the master key while the server runs, its output logged too.
	if err := adminRotateMasterKey(ctx, []string{"--data", data}, logs, logs); err != nil {
		t.Fatalf("rotate: %v\n%s", err, logs.Bytes())
	}
	newMaster := readKeyFile(t, filepath.Join(data, "master.key"))
	if bytes.Equal(newMaster, oldMaster) {
		t.Fatal("the rotation did not change master.key")
	}
	// The running server works on: issue and export after the rotation.
	root := createRoot(t, c, "ECC_256", nil)
	sub := createSub(t, c, root.ID, "ECC_256", nil)
	certs = append(certs, issueServer(t, c, sub.ID, nil))
	export(certs[len(certs)-1], passwords[1])
	export(certs[1], passwords[1]) // an RSA key sealed before the rotation

	// Everything the service holds, unsealed with the current master key.
	ring, err := keys.OpenKeyring(ctx, newMaster, ts.app.store, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	needles := []needle{{"PEM private-key header", []byte("PRIVATE KEY")}}
	needles = append(needles, encodings("old master key", oldMaster)...)
	needles = append(needles, encodings("new master key", newMaster)...)
	for i, p := range passwords {
		needles = append(needles, needle{fmt.Sprintf("export password %d", i), []byte(p)})
	}
	var rsaKeys, ecKeys int
	secrets := map[string]bool{}
	for _, kind := range store.SealedKinds {
		vs, err := ts.app.store.ListSealedValues(ctx, kind, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			aad, _ := keys.AAD(kind, v.ID)
			switch kind {
			case store.SealedPrivateKey:
				k, err := ring.OpenSigner(ctx, v.Sealed, v.ID)
				if err != nil {
					t.Fatalf("private key %s: %v", v.ID, err)
				}
				switch k.(type) {
				case *rsa.PrivateKey:
					rsaKeys++
				case *ecdsa.PrivateKey:
					ecKeys++
				}
				needles = append(needles, keyNeedles(t, "private key "+v.ID, k)...)
			case store.SealedAccessKey:
				secret, err := ring.Open(ctx, v.Sealed, aad)
				if err != nil {
					t.Fatalf("AccessKey %s: %v", v.ID, err)
				}
				secrets[string(secret)] = true
				needles = append(needles, encodings("AccessKey secret of "+v.ID, secret)...)
			case store.SealedSecret:
				if v.ID == "audit-head" {
					continue // the newest audit record's id and hash: public in the audit table
				}
				raw, err := ring.Open(ctx, v.Sealed, aad)
				if err != nil {
					t.Fatalf("server secret %s: %v", v.ID, err)
				}
				needles = append(needles, encodings("server secret "+v.ID, raw)...)
			}
		}
	}
	// 3 roots, 3 sub-CAs and 5 generated leaf keys; both AccessKeys.
	if rsaKeys != 4 || ecKeys != 7 || !secrets[ts.secret] || !secrets[ramSecret] || len(secrets) != 2 {
		t.Fatalf("unsealed %d RSA and %d EC keys, AccessKey secrets found: owner %v, RAM user %v, %d in all",
			rsaKeys, ecKeys, secrets[ts.secret], secrets[ramSecret], len(secrets))
	}

	// The haystacks: every database file (now, and again after a
	// checkpoint moves the log into the main file) and every log line.
	haystacks := map[string][]byte{}
	readDB := func(when string) {
		files, _ := filepath.Glob(filepath.Join(data, "pcad.db*"))
		if len(files) == 0 {
			t.Fatal("no database files")
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			haystacks[filepath.Base(f)+" "+when] = b
		}
	}
	readDB("during the run")
	if _, err := ts.app.store.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	readDB("after a checkpoint")
	lines := bytes.Split(bytes.TrimSpace(logs.Bytes()), []byte("\n"))
	requests := 0
	for i, line := range lines {
		haystacks[fmt.Sprintf("log line %d", i+1)] = line
		var rec map[string]any
		if json.Unmarshal(line, &rec) == nil && rec["msg"] == "openapi request" {
			requests++
		}
	}
	if requests < 20 {
		t.Fatalf("only %d requests logged: is the log wired?\n%s", requests, logs.Bytes())
	}

	t.Run("scanner finds planted needles", func(t *testing.T) {
		secret, key := needles[len(needles)-1], needles[0]
		for _, n := range needles {
			if strings.HasPrefix(n.name, "private key ") && strings.Contains(n.name, "PKCS#8 (base64)") {
				key = n
				break
			}
		}
		db := haystacks["pcad.db after a checkpoint"]
		planted := []struct {
			name string
			hay  []byte
			want string
		}{
			{"secret in the database", append(bytes.Clone(db), secret.b...), secret.name},
			{"PEM key in a log line", []byte(`{"msg":"oops","key":"-----BEGIN EC PRIVATE KEY-----"}`), "PEM private-key header"},
			{"key in a log line", []byte(`{"msg":"oops","key":"` + string(key.b) + `"}`), key.name},
			{"master key in hex", []byte("key=" + hex.EncodeToString(newMaster)), "new master key (hex)"},
			{"password", []byte("pw " + passwords[1]), "export password 1"},
		}
		for _, p := range planted {
			got := scanFor(map[string][]byte{p.name: p.hay}, needles)
			if !slices.Contains(got, finding{p.name, p.want}) {
				t.Errorf("%s: the scanner found %v, want %q", p.name, got, p.want)
			}
		}
	})

	for _, f := range scanFor(haystacks, needles) {
		t.Errorf("%s holds the %s", f.haystack, f.needle)
	}
	if t.Failed() {
		t.Logf("scanned %d haystacks for %d needles", len(haystacks), len(needles))
	}
}
