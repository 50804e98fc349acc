package main

// Tests of the client commands (ca, cert, crl, call, completion) against a
// real in-process server (startServer): each command runs through run(), as
// main does, and its output and files are checked with outside judges
// (x509.Verify, tls.X509KeyPair, x509.ParseRevocationList).

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/pcad-dev/pcad/internal/client"
)

// cliEnv is a server and the flags that point the CLI at it.
type cliEnv struct {
	t     *testing.T
	ts    *testServer
	dir   string // scratch directory for written files
	flags []string
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	ts := startServer(t, 0)
	return &cliEnv{t: t, ts: ts, dir: t.TempDir(), flags: []string{
		"--endpoint", "http://" + ts.endpoint, "--access-key-id", ts.keyID, "--access-key-secret", ts.secret,
	}}
}

// runCLI runs pcad with args as main does and returns what it printed.
func runCLI(args ...string) (stdout, stderr string, err error) {
	var o, e bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = run(ctx, args, &o, &e)
	return o.String(), e.String(), err
}

// run runs a client command with the server's flags appended.
func (e *cliEnv) run(args ...string) (stdout, stderr string, err error) {
	return runCLI(append(args, e.flags...)...)
}

// ok runs a client command that must succeed and returns its stdout.
func (e *cliEnv) ok(args ...string) string {
	e.t.Helper()
	out, errOut, err := e.run(args...)
	if err != nil {
		e.t.Fatalf("pcad %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// okJSON runs a client command with -o json and decodes its output.
func (e *cliEnv) okJSON(v any, args ...string) {
	e.t.Helper()
	out := e.ok(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("pcad %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (e *cliEnv) path(name string) string { return filepath.Join(e.dir, name) }

// hierarchy makes a root and a sub-CA with the CLI and returns their ids.
func (e *cliEnv) hierarchy() (root, sub string) {
	e.t.Helper()
	root = strings.TrimSpace(e.ok("ca", "create-root", "--cn", "CLI Root", "--org", "pcad", "--ou", "QA",
		"--locality", "Hangzhou", "--state", "Zhejiang", "--country", "CN", "-q"))
	sub = strings.TrimSpace(e.ok("ca", "create-sub", "--parent", root, "--cn", "CLI Issuing", "--crl", "-q"))
	if root == "" || sub == "" || strings.ContainsAny(root+sub, " \n") {
		e.t.Fatalf("create -q printed %q and %q, want one Identifier each", root, sub)
	}
	return root, sub
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// verifyLeaf checks certPEM against chainPEM (the issuer first, the root
// last) with x509.Verify for name and usage, and that keyPEM (if given) is
// the certificate's key.
func verifyLeaf(t *testing.T, certPEM, chainPEM, keyPEM []byte, name string, usage x509.ExtKeyUsage) *x509.Certificate {
	t.Helper()
	leaf := parsePEM(t, string(certPEM))
	chain := parsePEMs(t, string(chainPEM))
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(chain[len(chain)-1])
	for _, c := range chain[:len(chain)-1] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
		t.Errorf("the written certificate does not verify against the written chain: %v", err)
	}
	if keyPEM != nil {
		if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			t.Errorf("the written key is not the certificate's: %v", err)
		}
	}
	return leaf
}

// listed is ListCert's answer as the CLI prints it with -o json.
type listed struct {
	TotalCount int64
	NextToken  string
	List       []struct {
		Identifier   string
		SerialNumber string
		Status       string
		CommonName   string
	}
}

func (l listed) ids() []string {
	var out []string
	for _, it := range l.List {
		out = append(out, it.Identifier)
	}
	return out
}

// tableIDs returns the first column of a table's rows (the header skipped).
func tableIDs(out string) []string {
	var ids []string
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if i > 0 && line != "" {
			ids = append(ids, strings.Fields(line)[0])
		}
	}
	return ids
}

// summaryField reads "Name  value" from a summary printed as a table.
func summaryField(t *testing.T, out, name string) string {
	t.Helper()
	for line := range strings.SplitSeq(out, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			return strings.TrimSpace(rest)
		}
	}
	t.Fatalf("no %q line in\n%s", name, out)
	return ""
}

// TestCLIQuickStart is the README's quick start: a root, a sub-CA, a server
// certificate, the list, a revocation and the CRL that shows it.
func TestCLIQuickStart(t *testing.T) {
	e := newCLIEnv(t)
	rootPEM := e.path("root.pem")
	root := strings.TrimSpace(e.ok("ca", "create-root", "--subject", "/C=CN/ST=Zhejiang/L=Hangzhou/O=Acme/OU=PKI/CN=Acme Root",
		"--cert-out", rootPEM, "-q"))
	rootCert := parsePEM(t, string(readFile(t, rootPEM)))
	if !rootCert.IsCA || rootCert.Subject.CommonName != "Acme Root" || rootCert.Subject.Organization[0] != "Acme" {
		t.Fatalf("root certificate: CA %v, subject %s", rootCert.IsCA, rootCert.Subject)
	}

	// The sub-CA takes the parent's subject fields and algorithm.
	sub := strings.TrimSpace(e.ok("ca", "create-sub", "--parent", root, "--cn", "Acme Issuing", "--crl", "-q"))
	var cas struct {
		TotalCount      int64
		CertificateList []struct{ Identifier, ParentIdentifier, Organization, Locality, CountryCode, FullAlgorithm string }
	}
	e.okJSON(&cas, "ca", "list", "--type", "subRoot")
	if cas.TotalCount != 1 || len(cas.CertificateList) != 1 {
		t.Fatalf("ca list --type subRoot: %+v", cas)
	}
	if c := cas.CertificateList[0]; c.Identifier != sub || c.ParentIdentifier != root || c.Organization != "Acme" ||
		c.Locality != "Hangzhou" || c.CountryCode != "CN" || c.FullAlgorithm != "ECC_256" {
		t.Errorf("sub-CA as listed: %+v", c)
	}
	if table := e.ok("ca", "list"); !strings.Contains(table, "IDENTIFIER") || !slices.Equal(sortedCopy(tableIDs(table)), sortedCopy([]string{root, sub})) {
		t.Errorf("ca list table:\n%s", table)
	}

	// A server certificate: key made here, written 0600; it verifies against the chain.
	out := e.ok("cert", "issue", "--ca", sub, "--cn", "www.example.com", "--san", "api.example.com,10.0.0.7", "--days", "30", "--out-dir", e.dir)
	id := summaryField(t, out, "Identifier")
	keyFile, certFile, chainFile := e.path("www.example.com.key"), e.path("www.example.com.crt"), e.path("www.example.com.chain.pem")
	for _, f := range []string{keyFile, certFile, chainFile} {
		if !strings.Contains(out, "wrote "+f) {
			t.Errorf("output does not say it wrote %s:\n%s", f, out)
		}
	}
	if m := fileMode(t, keyFile); m != 0o600 {
		t.Errorf("key file mode %04o, want 0600", m)
	}
	leaf := verifyLeaf(t, readFile(t, certFile), readFile(t, chainFile), readFile(t, keyFile), "api.example.com", x509.ExtKeyUsageServerAuth)
	if leaf.Subject.CommonName != "www.example.com" || len(leaf.IPAddresses) != 1 || leaf.IPAddresses[0].String() != "10.0.0.7" {
		t.Errorf("leaf subject %s, IPs %v", leaf.Subject, leaf.IPAddresses)
	}
	if got := parsePEMs(t, string(readFile(t, chainFile))); !got[len(got)-1].Equal(rootCert) {
		t.Error("the chain does not end with the root")
	}

	// A client certificate, -o json: the answer names the files and matches them.
	var issued issueResult
	e.okJSON(&issued, "cert", "issue", "--ca", sub, "--type", "client", "--cn", "alice", "--email", "alice@example.com", "--out-dir", e.dir)
	alice := verifyLeaf(t, readFile(t, issued.Files["certificate"]), readFile(t, issued.Files["chain"]), readFile(t, issued.Files["private key"]),
		"", x509.ExtKeyUsageClientAuth)
	if issued.CommonName != "alice" || !strings.EqualFold(issued.SerialNumber, alice.SerialNumber.Text(16)) ||
		len(alice.EmailAddresses) != 1 || alice.EmailAddresses[0] != "alice@example.com" {
		t.Errorf("issue -o json %+v does not match the written certificate (serial %x, emails %v)", issued, alice.SerialNumber, alice.EmailAddresses)
	}

	// The list: JSON and table agree, newest first.
	var l listed
	e.okJSON(&l, "cert", "list")
	if l.TotalCount != 2 || !slices.Equal(l.ids(), []string{issued.Identifier, id}) {
		t.Fatalf("cert list -o json: total %d ids %v, want [%s %s]", l.TotalCount, l.ids(), issued.Identifier, id)
	}
	if !strings.EqualFold(l.List[1].SerialNumber, leaf.SerialNumber.Text(16)) || l.List[1].CommonName != "www.example.com" {
		t.Errorf("cert list entry %+v, want serial %x", l.List[1], leaf.SerialNumber)
	}
	table := e.ok("cert", "list")
	if !slices.Equal(tableIDs(table), l.ids()) || !strings.Contains(table, "www.example.com") {
		t.Errorf("cert list table does not match -o json:\n%s", table)
	}
	if y := e.ok("cert", "list", "-o", "yaml"); !strings.Contains(y, "TotalCount: 2\n") || !strings.Contains(y, "CommonName: alice\n") {
		t.Errorf("cert list -o yaml:\n%s", y)
	}

	// Revoke the server certificate; the CRL the CLI fetches lists it.
	if out := e.ok("cert", "revoke", id); strings.TrimSpace(out) != "revoked "+id {
		t.Errorf("cert revoke printed %q", out)
	}
	e.okJSON(&l, "cert", "list", "--status", "revoke")
	if !slices.Equal(l.ids(), []string{id}) || l.List[0].Status != "REVOKE" {
		t.Errorf("cert list --status revoke: %+v", l)
	}
	crlFile := e.path("sub.crl")
	deadline := time.Now().Add(10 * time.Second)
	for {
		var s crlSummary
		e.okJSON(&s, "crl", "fetch", sub, "--out", crlFile, "--force", "--serials")
		crl, err := x509.ParseRevocationList(readFile(t, crlFile))
		if err != nil {
			t.Fatalf("the written CRL: %v", err)
		}
		if err := crl.CheckSignatureFrom(parsePEMs(t, string(readFile(t, chainFile)))[0]); err != nil {
			t.Fatalf("the CRL is not signed by the sub-CA: %v", err)
		}
		listedSerial := slices.ContainsFunc(crl.RevokedCertificateEntries, func(r x509.RevocationListEntry) bool {
			return r.SerialNumber.Cmp(leaf.SerialNumber) == 0
		})
		if listedSerial {
			if s.RevokedCount != 1 || len(s.Revoked) != 1 || s.Revoked[0].SerialNumber != leaf.SerialNumber.Text(16) || s.File != crlFile {
				t.Errorf("crl fetch -o json: %+v", s)
			}
			if fileMode(t, crlFile) != 0o644 {
				t.Errorf("CRL file mode %04o", fileMode(t, crlFile))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the CRL never listed serial %x (entries %d)", leaf.SerialNumber, len(crl.RevokedCertificateEntries))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Without --force the CRL file is not replaced.
	if _, _, err := e.run("crl", "fetch", sub, "--out", crlFile); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("crl fetch onto an existing file: %v, want a refusal", err)
	}
	// PEM output of the default file name.
	out, _, err := e.run("crl", "fetch", "--ca", sub, "--pem", "--out", e.path("sub.crl.pem"))
	if err != nil || !strings.Contains(out, "Revoked      1") {
		t.Fatalf("crl fetch --pem: %v\n%s", err, out)
	}
	if !bytes.HasPrefix(readFile(t, e.path("sub.crl.pem")), []byte("-----BEGIN X509 CRL-----")) {
		t.Error("--pem did not write PEM")
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestCLICertListAll walks NextToken pages with a small page size, with a
// progress bar only on a terminal.
func TestCLICertListAll(t *testing.T) {
	e := newCLIEnv(t)
	c := e.ts.client(t, "v3")
	_, sub := hierarchy(t, c)
	var want []string
	for i := range 12 {
		want = append(want, issueServer(t, c, sub.ID, map[string]string{"CommonName": fmt.Sprintf("h%d.example.com", i)}))
	}
	slices.Reverse(want) // newest first

	// One page: 5 entries and a hint naming the next token.
	out, errOut, err := e.run("cert", "list", "--max-results", "5")
	if err != nil || len(tableIDs(out)) != 5 || !strings.Contains(errOut, "--next-token") {
		t.Fatalf("one page: %v\n%s\n%s", err, out, errOut)
	}

	tests := []struct {
		name string
		args []string
		ids  func(t *testing.T, out string) []string
	}{
		{"table", nil, func(_ *testing.T, out string) []string { return tableIDs(out) }},
		{"json", []string{"-o", "json"}, func(t *testing.T, out string) []string {
			var l listed
			if err := json.Unmarshal([]byte(out), &l); err != nil {
				t.Fatalf("--all -o json does not parse: %v\n%s", err, out)
			}
			if l.TotalCount != 12 {
				t.Errorf("TotalCount %d", l.TotalCount)
			}
			return l.ids()
		}},
		{"yaml", []string{"-o", "yaml"}, func(t *testing.T, out string) []string {
			if !strings.HasPrefix(out, "TotalCount: 12\nList:\n  - Id: ") {
				t.Errorf("--all -o yaml starts %q", out[:min(len(out), 40)])
			}
			var ids []string
			for line := range strings.SplitSeq(out, "\n") {
				if v, ok := strings.CutPrefix(line, "    Identifier: "); ok {
					ids = append(ids, strings.Trim(v, `"`))
				}
			}
			return ids
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := e.run(append([]string{"cert", "list", "--all", "--max-results", "5"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.ids(t, out); !slices.Equal(got, want) {
				t.Errorf("--all listed %v, want %v", got, want)
			}
			if errOut != "" {
				t.Errorf("stderr is not a terminal, yet it got %q", errOut)
			}
		})
	}

	// On a terminal the bar shows and ends at 12/12.
	defer func(old func(io.Writer) bool) { cliIsTerminal = old }(cliIsTerminal)
	cliIsTerminal = func(io.Writer) bool { return true }
	_, errOut, err = e.run("cert", "list", "--all", "--page-size", "4")
	if err != nil || !strings.Contains(errOut, "listing [") || !strings.Contains(errOut, "100% 12/12") {
		t.Errorf("progress on a terminal: %v, stderr %q", err, errOut)
	}
	// --all with --page is refused.
	if _, _, err := e.run("cert", "list", "--all", "--page", "2"); err == nil {
		t.Error("--all --page was accepted")
	}
}

// TestCLIErrors: API errors print Code and Message and exit 1; usage
// errors exit 2; nothing is left half done.
func TestCLIErrors(t *testing.T) {
	e := newCLIEnv(t)
	_, sub := e.hierarchy()
	tests := []struct {
		name     string
		args     []string
		code     string // "" for a usage error
		mention  string
		stderrIn string // expected on stderr (call prints the envelope)
	}{
		{"bad filter", []string{"cert", "list", "--status", "nope"}, "InvalidParameter.Status", "is not valid", ""},
		{"missing subject", []string{"ca", "create-root", "--cn", "x"}, "MissingParameter", "Organization", ""},
		{"unknown certificate", []string{"cert", "revoke", "no-such-cert"}, "", "", ""},
		{"wrong algorithm family", []string{"cert", "issue", "--ca", sub, "--cn", "x.example.com", "--server-key", "--alg", "RSA_2048", "--out-dir", e.dir},
			"InvalidParameter", "", ""},
		{"call envelope", []string{"call", "ListCert", "Status=nope"}, "InvalidParameter.Status", "is not valid", `"Code": "InvalidParameter.Status"`},
		{"unknown action", []string{"call", "NoSuchAction"}, "InvalidAction.NotFound", "not found", `"RequestId"`},
		{"missing --ca", []string{"cert", "issue", "--cn", "x"}, "", "ca", ""},
		{"bad output", []string{"cert", "list", "-o", "xml"}, "", "xml", ""},
		{"bad type", []string{"cert", "issue", "--ca", sub, "--cn", "x", "--type", "robot"}, "", "robot", ""},
		{"unknown command", []string{"cert", "frobnicate"}, "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, err := e.run(tc.args...)
			if err == nil {
				t.Fatal("succeeded")
			}
			var ae *client.Error
			isAPI := errors.As(err, &ae)
			if tc.name == "unknown certificate" {
				if !isAPI || ae.Code == "" || ae.StatusCode < 400 || exitCode(err) != 1 {
					t.Errorf("got %v (exit %d), want an API error", err, exitCode(err))
				}
				return
			}
			switch {
			case tc.code != "" && (!isAPI || !strings.HasPrefix(ae.Code, tc.code)):
				t.Errorf("got %v, want Code %s", err, tc.code)
			case tc.code != "" && exitCode(err) != 1:
				t.Errorf("exit %d, want 1", exitCode(err))
			case tc.code == "" && (isAPI || exitCode(err) != 2):
				t.Errorf("got %v (exit %d), want a usage error with exit 2", err, exitCode(err))
			}
			msg := err.Error() // what main prints after "pcad: "
			if isAPI && (!strings.Contains(msg, ae.Code) || !strings.Contains(msg, ae.Message) || ae.Message == "") {
				t.Errorf("message %q lacks Code %q or Message %q", msg, ae.Code, ae.Message)
			}
			if !strings.Contains(msg, tc.mention) {
				t.Errorf("message %q does not mention %q", msg, tc.mention)
			}
			if !strings.Contains(errOut, tc.stderrIn) {
				t.Errorf("stderr %q does not hold %q", errOut, tc.stderrIn)
			}
		})
	}
	// A wrong secret fails verification, with either signature.
	for _, v1 := range []bool{false, true} {
		args := []string{"ca", "list", "--endpoint", "http://" + e.ts.endpoint, "--access-key-id", e.ts.keyID, "--access-key-secret", "wrong"}
		want := "IncompleteSignature"
		if v1 {
			args, want = append(args, "--v1"), "SignatureDoesNotMatch"
		}
		_, _, err := runCLI(args...)
		var ae *client.Error
		if !errors.As(err, &ae) || ae.Code != want || strings.Contains(err.Error(), "wrong") {
			t.Errorf("v1=%v wrong secret: %v, want %s without the secret", v1, err, want)
		}
	}
}

// TestCLIFilesNeverOverwritten: an existing file stops issuance before any
// call; --force replaces it, the key with mode 0600.
func TestCLIFilesNeverOverwritten(t *testing.T) {
	e := newCLIEnv(t)
	_, sub := e.hierarchy()
	crt, key := e.path("db.example.com.crt"), e.path("db.example.com.key")
	if err := os.WriteFile(crt, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.run("cert", "issue", "--ca", sub, "--cn", "db.example.com", "--out-dir", e.dir)
	if err == nil || !strings.Contains(err.Error(), crt) || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("issue onto an existing file: %v", err)
	}
	if string(readFile(t, crt)) != "precious" {
		t.Error("the existing file was changed")
	}
	if _, err := os.Stat(key); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was written although issuance was refused: %v", err)
	}
	var l listed
	e.okJSON(&l, "cert", "list")
	if l.TotalCount != 0 {
		t.Errorf("%d certificates issued although the files were refused", l.TotalCount)
	}

	// --force replaces both; a key file that was 0644 ends 0600.
	if err := os.WriteFile(key, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.ok("cert", "issue", "--ca", sub, "--cn", "db.example.com", "--out-dir", e.dir, "--force")
	if m := fileMode(t, key); m != 0o600 {
		t.Errorf("forced key file mode %04o, want 0600", m)
	}
	if m := fileMode(t, crt); m != 0o644 {
		t.Errorf("forced certificate file mode %04o, want 0644", m)
	}
	verifyLeaf(t, readFile(t, crt), readFile(t, e.path("db.example.com.chain.pem")), readFile(t, key), "db.example.com", x509.ExtKeyUsageServerAuth)
	leftovers, _ := filepath.Glob(e.path(".pcad-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// TestCLICertGetAndServerKey: a service-generated key is written at issue
// and exported again by cert get --key; a request's certificate has no key
// to export.
func TestCLICertGetAndServerKey(t *testing.T) {
	e := newCLIEnv(t)
	_, sub := e.hierarchy()
	var issued issueResult
	e.okJSON(&issued, "cert", "issue", "--ca", sub, "--cn", "api.example.com", "--server-key", "--out-dir", e.path("issue"))
	issuedKey := readFile(t, issued.Files["private key"])

	out := e.ok("cert", "get", issued.Identifier, "--key", "--out-dir", e.path("get"))
	stem := e.path(filepath.Join("get", issued.Identifier))
	for _, f := range []string{stem + ".key", stem + ".crt", stem + ".chain.pem"} {
		if !strings.Contains(out, "wrote "+f) {
			t.Errorf("cert get output does not name %s:\n%s", f, out)
		}
	}
	if m := fileMode(t, stem+".key"); m != 0o600 {
		t.Errorf("exported key mode %04o, want 0600", m)
	}
	if !bytes.Equal(readFile(t, stem+".crt"), readFile(t, issued.Files["certificate"])) {
		t.Error("cert get wrote another certificate")
	}
	verifyLeaf(t, readFile(t, stem+".crt"), readFile(t, stem+".chain.pem"), issuedKey, "api.example.com", x509.ExtKeyUsageServerAuth)
	verifyLeaf(t, readFile(t, stem+".crt"), readFile(t, stem+".chain.pem"), readFile(t, stem+".key"), "api.example.com", x509.ExtKeyUsageServerAuth)
	if strings.Contains(out, "PRIVATE KEY") {
		t.Error("the key was printed")
	}

	// A certificate issued from a request: no key to export (an API error).
	var csrIssued issueResult
	e.okJSON(&csrIssued, "cert", "issue", "--ca", sub, "--cn", "csr.example.com", "--out-dir", e.dir)
	_, _, err := e.run("cert", "get", csrIssued.Identifier, "--key-out", e.path("none.key"), "--out-dir", e.path("get2"))
	var ae *client.Error
	if !errors.As(err, &ae) {
		t.Errorf("exporting a key pcad does not hold: %v, want an API error", err)
	}
	if _, err := os.Stat(e.path("none.key")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a key file was written")
	}

	// A caller's CSR: names come from the request.
	csrPath := e.path("own.csr")
	makeCSR(t, csrPath, "own.example.com", "alt.example.com")
	var own issueResult
	e.okJSON(&own, "cert", "issue", "--ca", sub, "--csr", csrPath, "--out-dir", e.dir)
	if _, ok := own.Files["private key"]; ok || own.CommonName != "own.example.com" {
		t.Errorf("issue --csr: %+v, want no key file and the request's name", own)
	}
	verifyLeaf(t, readFile(t, own.Files["certificate"]), readFile(t, own.Files["chain"]), nil, "alt.example.com", x509.ExtKeyUsageServerAuth)
}

// makeCSR writes a P-256 certificate request for cn and dns names.
func makeCSR(t *testing.T, path, cn string, dns ...string) {
	t.Helper()
	key, err := newKey("ECC_256")
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}, DNSNames: dns}, key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCLIBulkIssue issues from a file of names with a progress bar on a
// terminal, and refuses a second run that would overwrite the files.
func TestCLIBulkIssue(t *testing.T) {
	e := newCLIEnv(t)
	_, sub := e.hierarchy()
	names := e.path("names.txt")
	text := "# hosts\nn1.example.com\n\nn2.example.com www.n2.example.com\nn3.example.com\nn4.example.com\nn5.example.com\n"
	if err := os.WriteFile(names, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := e.path("bulk")
	defer func(old func(io.Writer) bool) { cliIsTerminal = old }(cliIsTerminal)
	cliIsTerminal = func(io.Writer) bool { return true }
	stdout, stderr, err := e.run("cert", "issue", "--ca", sub, "--names-file", names, "--out-dir", out, "--parallel", "3")
	if err != nil {
		t.Fatalf("bulk issue: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "issuing [") || !strings.Contains(stderr, "5/5") {
		t.Errorf("no progress bar on a terminal: %q", stderr)
	}
	if rows := tableIDs(stdout); len(rows) != 5 {
		t.Errorf("bulk table has %d rows:\n%s", len(rows), stdout)
	}
	for i := 1; i <= 5; i++ {
		stem := filepath.Join(out, fmt.Sprintf("n%d.example.com", i))
		if m := fileMode(t, stem+".key"); m != 0o600 {
			t.Errorf("%s.key mode %04o", stem, m)
		}
		leaf := verifyLeaf(t, readFile(t, stem+".crt"), readFile(t, stem+".chain.pem"), readFile(t, stem+".key"),
			fmt.Sprintf("n%d.example.com", i), x509.ExtKeyUsageServerAuth)
		if i == 2 && !slices.Contains(leaf.DNSNames, "www.n2.example.com") {
			t.Errorf("extra name of line 2 missing: %v", leaf.DNSNames)
		}
	}
	// Again: refused before anything is issued.
	cliIsTerminal = func(io.Writer) bool { return false }
	if _, _, err := e.run("cert", "issue", "--ca", sub, "--names-file", names, "--out-dir", out); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second bulk run: %v, want a refusal", err)
	}
	var l listed
	e.okJSON(&l, "cert", "list")
	if l.TotalCount != 5 {
		t.Errorf("%d certificates, want 5", l.TotalCount)
	}
}

// TestCLICallArguments: Name=Value, --Name value and --Name=Value reach the
// server alike, with either signature; the command's own flags mix in.
func TestCLICallArguments(t *testing.T) {
	e := newCLIEnv(t)
	c := e.ts.client(t, "v3")
	_, sub := hierarchy(t, c)
	for i := range 3 {
		issueServer(t, c, sub.ID, map[string]string{"CommonName": fmt.Sprintf("c%d.example.com", i)})
	}
	tests := []struct {
		name string
		args []string
	}{
		{"Name=Value", []string{"call", "ListCert", "Status=ISSUE", "ShowSize=2"}},
		{"--Name value", []string{"call", "ListCert", "--Status", "ISSUE", "--ShowSize", "2"}},
		{"--Name=Value", []string{"call", "--ShowSize=2", "ListCert", "--Status=ISSUE"}},
		{"v1", []string{"call", "--v1", "ListCert", "--Status", "ISSUE", "ShowSize=2"}},
		{"own flags after", []string{"call", "ListCert", "--Status", "ISSUE", "-o", "json", "--ShowSize", "2", "--version", "2020-06-30"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := e.ok(tc.args...)
			var ans struct {
				TotalCount, ShowSize int
				List                 []any
			}
			if err := json.Unmarshal([]byte(out), &ans); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if ans.TotalCount != 3 || ans.ShowSize != 2 || len(ans.List) != 2 {
				t.Errorf("answer %+v, want 3 in total and a page of 2", ans)
			}
		})
	}
	if out := e.ok("call", "-o", "yaml", "DescribeCACertificateCount"); !strings.Contains(out, "TotalCount: 2\n") {
		t.Errorf("call -o yaml:\n%s", out)
	}
	for _, bad := range [][]string{
		{"call", "ListCert", "--Status"},
		{"call", "ListCert", "--Status", "--ShowSize", "2"},
		{"call", "ListCert", "oops"},
		{"call"},
	} {
		if _, _, err := e.run(bad...); err == nil || exitCode(err) != 2 {
			t.Errorf("pcad %v: %v, want a usage error", bad, err)
		}
	}
}

// TestCLICredentialSources: the environment, a profile of
// ALIBABA_CLOUD_CREDENTIALS_FILE and ./pcad-data/credentials.ini all work
// without flags; PCAD_ENDPOINT names the server.
func TestCLICredentialSources(t *testing.T) {
	ts := startServer(t, 0)
	dir := t.TempDir()
	ini := fmt.Sprintf("[default]\ntype = access_key\naccess_key_id = %s\naccess_key_secret = %s\n", ts.keyID, ts.secret)
	if err := os.MkdirAll(filepath.Join(dir, "pcad-data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pcad-data", "credentials.ini"), []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.ini")
	if err := os.WriteFile(other, []byte("[default]\naccess_key_id = nobody\naccess_key_secret = x\n"+strings.Replace(ini, "[default]", "[team]", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv(client.EnvEndpoint, "http://"+ts.endpoint)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		ok   bool
	}{
		{"default file written by serve", nil, nil, true},
		{"environment", map[string]string{client.EnvAccessKeyID: ts.keyID, client.EnvAccessKeySecret: ts.secret,
			client.EnvCredentialsFile: other}, nil, true},
		{"credentials file default profile", map[string]string{client.EnvCredentialsFile: other}, nil, false},
		{"credentials file --profile", map[string]string{client.EnvCredentialsFile: other}, []string{"--profile", "team"}, true},
		{"--credentials", nil, []string{"--credentials", other, "--profile", "team"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{client.EnvAccessKeyID, client.EnvAccessKeySecret, client.EnvCredentialsFile, client.EnvProfile} {
				t.Setenv(k, tc.env[k])
			}
			_, _, err := runCLI(append([]string{"ca", "list"}, tc.args...)...)
			if (err == nil) != tc.ok {
				t.Errorf("err %v, want ok=%v", err, tc.ok)
			}
			var ae *client.Error
			if !tc.ok && (!errors.As(err, &ae) || ae.Code != "InvalidAccessKeyId.NotFound") {
				t.Errorf("err %v, want InvalidAccessKeyId.NotFound (the file's default key)", err)
			}
		})
	}
}

// TestCLIHelpAndCompletion: every command has help with an example, and
// the completion scripts and completions work.
func TestCLIHelpAndCompletion(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Name() != "help" && !c.Hidden && c.Example == "" {
			t.Errorf("%q has no example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCommand(io.Discard, io.Discard))
	for _, args := range [][]string{{"--help"}, {"ca", "create-sub", "--help"}, {"cert", "issue", "--help"}, {"cert", "list", "--help"},
		{"crl", "fetch", "--help"}, {"help", "call"}, {"completion", "--help"}} {
		out, _, err := runCLI(args...)
		if err != nil || !strings.Contains(out, "Example") {
			t.Errorf("pcad %v: %v\n%s", args, err, out)
		}
	}
	// call parses its own flags; its help still lists them.
	if out, _, err := runCLI("call", "ListCert", "--help"); err != nil || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--v1") {
		t.Errorf("call --help: %v\n%s", err, out)
	}

	for shell, want := range map[string]string{"bash": "__start_pcad", "zsh": "#compdef pcad", "fish": "complete -c pcad", "powershell": "Register-ArgumentCompleter"} {
		out, _, err := runCLI("completion", shell)
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("completion %s: %v, output lacks %q", shell, err, want)
		}
	}
	if _, _, err := runCLI("completion", "tcsh"); err == nil {
		t.Error("completion tcsh succeeded")
	}
	out, _, err := runCLI("__complete", "cert", "list", "--status", "")
	if err != nil || !strings.Contains(out, "ISSUE\nREVOKE\n") {
		t.Errorf("completing --status: %v\n%s", err, out)
	}
	// Identifiers come from the server.
	e := newCLIEnv(t)
	_, sub := e.hierarchy()
	out, _, err = runCLI(append(append([]string{"__complete", "cert", "issue"}, e.flags...), "--ca", "")...)
	if err != nil || !strings.Contains(out, sub+"\tCLI Issuing") {
		t.Errorf("completing --ca: %v\n%s", err, out)
	}
	var issued struct{ Identifier string }
	e.okJSON(&issued, "cert", "issue", "--ca", sub, "--cn", "complete.example.com", "--out-dir", e.dir)
	out, _, err = runCLI(append(append([]string{"__complete", "cert", "revoke"}, e.flags...), "")...)
	if err != nil || issued.Identifier == "" || !strings.Contains(out, issued.Identifier+"\tcomplete.example.com") {
		t.Errorf("completing a certificate to revoke: %v\n%s", err, out)
	}
}

func TestCLIYAML(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"scalars", `{"a":1,"b":true,"c":null,"d":"plain text","e":"","f":1.5e3}`,
			"a: 1\nb: true\nc: null\nd: plain text\ne: \"\"\nf: 1.5e3\n"},
		{"order kept", `{"Zeta":"z","Alpha":"a"}`, "Zeta: z\nAlpha: a\n"},
		{"strings that would read as other types", `{"a":"true","b":"No","c":"123","d":"2024-05-13 12:59:45","e":"null","f":"~","g":"0194-ab"}`,
			"a: \"true\"\nb: \"No\"\nc: \"123\"\nd: \"2024-05-13 12:59:45\"\ne: \"null\"\nf: \"~\"\ng: \"0194-ab\"\n"},
		{"indicators quoted", `{"a":"x: y","b":"#c","c":"- d","d":"{e}","e":"it's","f":"tab\there","g":"trailing "}`,
			"a: \"x: y\"\nb: \"#c\"\nc: \"- d\"\nd: \"{e}\"\ne: \"it's\"\nf: \"tab\\there\"\ng: \"trailing \"\n"},
		{"pem literal", `{"Cert":"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n","NoEnd":"a\nb"}`,
			"Cert: |\n  -----BEGIN CERTIFICATE-----\n  MIIB\n  -----END CERTIFICATE-----\nNoEnd: |-\n  a\n  b\n"},
		{"nested", `{"List":[{"Id":"1","Tags":["{\"k\":\"v\"}"],"Empty":{},"None":[]},[1,2],"x"],"Obj":{"In":{"Deep":1}}}`,
			"List:\n  - Id: \"1\"\n    Tags:\n      - \"{\\\"k\\\":\\\"v\\\"}\"\n    Empty: {}\n    None: []\n  - - 1\n    - 2\n  - x\nObj:\n  In:\n    Deep: 1\n"},
		{"top-level array", `[{"a":"b"},{}]`, "- a: b\n- {}\n"},
		{"unicode quoted", `{"名":"é"}`, "\"名\": \"é\"\n"},
		{"empty object", `{}`, "{}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeYAML(&b, []byte(tc.in)); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("YAML of %s\n got:\n%s\nwant:\n%s", tc.in, b.String(), tc.want)
			}
		})
	}
}

// TestCLIWriteNew: without force an existing file (or a link) is never
// written through, even when the check before the call was passed.
func TestCLIWriteNew(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing")
	if err := os.WriteFile(existing, []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(existing, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		force   bool
		mode    os.FileMode
		wantErr bool
	}{
		{"new file", filepath.Join(dir, "sub", "new.key"), false, modeKey, false},
		{"existing file", existing, false, modeKey, true},
		{"symbolic link", link, false, modeKey, true},
		{"forced", filepath.Join(dir, "forced"), true, modePublic, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := writeNew(outFile{Path: tc.path, Data: []byte("new"), Mode: tc.mode}, tc.force)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				if string(readFile(t, existing)) != "keep" {
					t.Error("the existing file was written")
				}
				return
			}
			if string(readFile(t, tc.path)) != "new" || fileMode(t, tc.path) != tc.mode {
				t.Errorf("content %q mode %04o", readFile(t, tc.path), fileMode(t, tc.path))
			}
		})
	}
}

func TestCLIFileBase(t *testing.T) {
	tests := []struct{ in, want string }{
		{"www.example.com", "www.example.com"},
		{"*.example.com", "wildcard.example.com"},
		{"../../etc/passwd", "_.._etc_passwd"},
		{"Alice Smith", "Alice_Smith"},
		{"..", "cert"},
	}
	for _, tc := range tests {
		if got := fileBase(tc.in); got != tc.want {
			t.Errorf("fileBase(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
