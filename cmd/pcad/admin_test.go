package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/credentials-go/credentials"
	"github.com/aliyun/credentials-go/credentials/providers"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/store/sqlstore/pgtest"
)

// runAdmin runs `pcad admin args...` as main does, with PCAD_DATA, PCAD_DB
// and PCAD_MASTER_KEY cleared.
func runAdmin(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	t.Setenv("PCAD_DATA", "")
	t.Setenv("PCAD_DB", "")
	t.Setenv("PCAD_MASTER_KEY", "")
	var out, errb bytes.Buffer
	err = run(context.Background(), append([]string{"admin"}, args...), &out, &errb)
	return out.String(), errb.String(), err
}

// mustAdmin is runAdmin that fails the test on error, returning stdout.
func mustAdmin(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := runAdmin(t, args...)
	if err != nil {
		t.Fatalf("pcad admin %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// serveDir serves the pcad under dir (which may hold a store already) and
// reports whether its first start created the bootstrap account.
func serveDir(t *testing.T, dir string) (*testServer, bool) {
	t.Helper()
	ctx := context.Background()
	a, err := newApp(ctx, config{Data: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.store.Close() })
	_, created, err := a.bootstrap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return &testServer{app: a, srv: srv, endpoint: u.Host}, created
}

// officialClient returns the official client reading its AccessKey from the
// credentials file path with the official credentials library (the
// profile provider behind ALIBABA_CLOUD_CREDENTIALS_FILE).
func officialClient(t *testing.T, ts *testServer, path, mode string) *openapiclient.Client {
	t.Helper()
	t.Setenv("ALIBABA_CLOUD_CREDENTIALS_FILE", path)
	t.Setenv("ALIBABA_CLOUD_PROFILE", "")
	p, err := providers.NewProfileCredentialsProviderBuilder().Build()
	if err != nil {
		t.Fatal(err)
	}
	// The provider reads the file on first use and keeps it: read it now,
	// while the variable names this file.
	if _, err := p.GetCredentials(); err != nil {
		t.Fatalf("the official library does not read %s: %v", path, err)
	}
	cfg := &openapiclient.Config{Credential: credentials.FromCredentialsProvider("profile", p),
		Endpoint: tea.String(ts.endpoint), Protocol: tea.String("HTTP")}
	if mode == "v1" {
		cfg.SignatureAlgorithm = tea.String("v2")
	}
	c, err := openapiclient.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readCredentials checks a credentials file's mode and exact shape and
// returns its AccessKey.
func readCredentials(t *testing.T, path string) (id, secret string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 4 || lines[0] != "[default]" || lines[1] != "type = access_key" ||
		!strings.HasPrefix(lines[2], "access_key_id = LTAI") || !strings.HasPrefix(lines[3], "access_key_secret = ") {
		t.Fatalf("credentials file:\n%s", b)
	}
	id, secret = strings.TrimPrefix(lines[2], "access_key_id = "), strings.TrimPrefix(lines[3], "access_key_secret = ")
	if len(secret) < 30 {
		t.Fatalf("secret of %d characters", len(secret))
	}
	return id, secret
}

func TestAdminAccountCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cred := filepath.Join(t.TempDir(), "ops.ini")

	t.Run("fail/no-store-to-list", func(t *testing.T) {
		_, _, err := runAdmin(t, "account", "list", "--data", dir)
		if err == nil || !strings.Contains(err.Error(), "no pcad store") {
			t.Fatalf("account list on a missing store: %v", err)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Fatal("account list created the data directory")
		}
	})
	t.Run("fail/no-credentials-out", func(t *testing.T) {
		if _, _, err := runAdmin(t, "account", "create", "--data", dir); err == nil || !strings.Contains(err.Error(), "--credentials-out") {
			t.Fatalf("create without --credentials-out: %v", err)
		}
	})

	// On an empty data directory (bootstrap, before any server start).
	out := mustAdmin(t, "account", "create", "--data", dir, "--credentials-out", cred, "--name", "ops")
	id, secret := readCredentials(t, cred)
	if !strings.Contains(out, id) || !strings.Contains(out, "ops") || strings.Contains(out, secret) {
		t.Errorf("create printed:\n%s", out)
	}
	// The creation is in the audit trail, without the secret.
	if recs := exportLines(t, dir); len(recs) != 1 || recs[0]["action"] != "pcad admin account create" ||
		recs[0]["access_key_id"] != id || strings.Contains(fmt.Sprint(recs[0]), secret) {
		t.Errorf("audit export after create: %v", recs)
	}
	before, _ := os.ReadFile(cred)
	t.Run("fail/overwrite", func(t *testing.T) {
		_, _, err := runAdmin(t, "account", "create", "--data", dir, "--credentials-out", cred)
		if err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
			t.Fatalf("second create into the same file: %v", err)
		}
		if after, _ := os.ReadFile(cred); !bytes.Equal(before, after) {
			t.Fatal("the credentials file changed")
		}
		if n := strings.Count(mustAdmin(t, "account", "list", "--data", dir), "\n"); n != 2 {
			t.Fatalf("account list has %d lines, want a header and 1 account", n)
		}
	})

	// A server on the same directory: the account exists, so no bootstrap;
	// the official client with the file's key works.
	ts, created := serveDir(t, dir)
	if created {
		t.Fatal("the server bootstrapped another account beside the one admin created")
	}
	for _, mode := range modes {
		mustCall(t, officialClient(t, ts, cred, mode), "ListCert", nil)
	}
	// Another account, created while the server runs, works at once and
	// sees nothing of the first.
	cred2 := filepath.Join(t.TempDir(), "second.ini")
	mustAdmin(t, "account", "create", "--data", dir, "--credentials-out", cred2, "--name", "second")
	id2, _ := readCredentials(t, cred2)
	c1, c2 := officialClient(t, ts, cred, "v3"), officialClient(t, ts, cred2, "v1")
	root := createRoot(t, c1, "ECC_256", nil)
	if _, err := call(t, c2, "DescribeCACertificate", map[string]string{"Identifier": root.ID}); err == nil {
		t.Error("the second account sees the first's CA")
	}
	k1, err := ts.app.svc.LookupAccessKey(context.Background(), id)
	k2, err2 := ts.app.svc.LookupAccessKey(context.Background(), id2)
	if err != nil || err2 != nil || k1.AccountID == k2.AccountID || !k1.Active || !k2.Active {
		t.Fatalf("keys: %+v %v / %+v %v", k1, err, k2, err2)
	}
}

func TestAdminListsShowNoSecrets(t *testing.T) {
	ts := startServer(t, 0)
	dir := ts.app.cfg.Data
	ctx := context.Background()
	cred := filepath.Join(t.TempDir(), "b.ini")
	mustAdmin(t, "account", "create", "--data", dir, "--credentials-out", cred, "--name", "team-b")
	idB, secretB := readCredentials(t, cred)
	kA, err := ts.app.svc.LookupAccessKey(ctx, ts.keyID)
	if err != nil {
		t.Fatal(err)
	}
	kB, err := ts.app.svc.LookupAccessKey(ctx, idB)
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.app.store.SetAccessKeyActive(ctx, kB.AccountID, kB.PrincipalID, idB, false); err != nil {
		t.Fatal(err)
	}
	var forbidden []string
	for _, k := range []string{ts.keyID, idB} {
		rec, err := ts.app.store.GetAccessKey(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		forbidden = append(forbidden, hex.EncodeToString(rec.SecretSealed), base64.StdEncoding.EncodeToString(rec.SecretSealed))
	}
	forbidden = append(forbidden, ts.secret, secretB)
	noSecret := func(t *testing.T, out string) {
		t.Helper()
		for _, s := range forbidden {
			if strings.Contains(out, s) {
				t.Errorf("the output holds a secret (%.6s...):\n%s", s, out)
			}
		}
	}

	accounts := mustAdmin(t, "account", "list", "--data", dir)
	noSecret(t, accounts)
	for _, want := range []string{"ACCOUNT", fmt.Sprint(kA.AccountID), "default", fmt.Sprint(kB.AccountID), "team-b"} {
		if !strings.Contains(accounts, want) {
			t.Errorf("account list lacks %q:\n%s", want, accounts)
		}
	}

	all := mustAdmin(t, "key", "list", "--data", dir)
	noSecret(t, all)
	lines := strings.Split(strings.TrimSpace(all), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ACCESS_KEY_ID") {
		t.Fatalf("key list:\n%s", all)
	}
	wantRows := [][]string{
		{ts.keyID, fmt.Sprint(kA.AccountID), fmt.Sprint(kA.PrincipalID), "(owner)", "Active"},
		{idB, fmt.Sprint(kB.AccountID), fmt.Sprint(kB.PrincipalID), "(owner)", "Inactive"},
	}
	for i, want := range wantRows {
		fields := strings.Fields(lines[i+1])
		if len(fields) != 6 || !slices.Equal(fields[:5], want) {
			t.Errorf("key list row %d = %q, want %q and a time", i+1, fields, want)
			continue
		}
		if _, err := time.Parse(time.RFC3339, fields[5]); err != nil {
			t.Errorf("created %q: %v", fields[5], err)
		}
	}

	only := mustAdmin(t, "key", "list", "--data", dir, "--account", fmt.Sprint(kB.AccountID))
	if !strings.Contains(only, idB) || strings.Contains(only, ts.keyID) {
		t.Errorf("key list --account %d:\n%s", kB.AccountID, only)
	}
	if _, _, err := runAdmin(t, "key", "list", "--data", dir, "--account", "42"); err == nil || !strings.Contains(err.Error(), "no account 42") {
		t.Errorf("key list of an unknown account: %v", err)
	}
	if _, _, err := runAdmin(t, "key", "list", "--data", dir, "extra"); err == nil {
		t.Error("key list accepted a stray argument")
	}
}

// exportLines runs audit export to stdout and decodes each line.
func exportLines(t *testing.T, dir string, args ...string) []map[string]any {
	t.Helper()
	out := mustAdmin(t, append([]string{"audit", "export", "--data", dir}, args...)...)
	var recs []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil || dec.More() {
			t.Fatalf("export line %q is not one JSON object: %v", sc.Text(), err)
		}
		recs = append(recs, m)
	}
	return recs
}

func TestAdminAudit(t *testing.T) {
	ts := startServer(t, 0)
	dir := ts.app.cfg.Data
	c := ts.client(t, "v3")
	mustCall(t, c, "ListCert", nil)
	root := createRoot(t, c, "ECC_256", nil)
	_, err := call(t, c, "DescribeClientCertificate", map[string]string{"Identifier": "nope"})
	wantErr(t, err, 0, "NotFound.Certificate")
	mustCall(t, ts.client(t, "v1"), "ListCert", nil)

	out := mustAdmin(t, "audit", "verify", "--data", dir)
	if !strings.HasPrefix(out, "audit log OK: 4 records; sealed head: record 4, hash ") {
		t.Fatalf("verify:\n%s", out)
	}

	recs := exportLines(t, dir)
	if len(recs) != 4 {
		t.Fatalf("export has %d lines, want 4", len(recs))
	}
	fields := []string{"id", "time", "account_id", "principal_id", "access_key_id", "action", "resource", "code", "request_id", "source_ip", "prev_hash", "hash"}
	var prev any = ""
	for i, r := range recs {
		keys := make([]string, 0, len(r))
		for k := range r {
			keys = append(keys, k)
		}
		if !slices.Equal(slices.Sorted(slices.Values(keys)), slices.Sorted(slices.Values(fields))) {
			t.Errorf("line %d has fields %v, want %v", i+1, keys, fields)
		}
		if r["id"] != json.Number(fmt.Sprint(i+1)) || r["access_key_id"] != ts.keyID || r["source_ip"] != "127.0.0.1" || r["prev_hash"] != prev {
			t.Errorf("line %d = %v", i+1, r)
		}
		if _, err := time.Parse(time.RFC3339Nano, r["time"].(string)); err != nil {
			t.Errorf("line %d time: %v", i+1, err)
		}
		prev = r["hash"]
	}
	got := []string{}
	for _, r := range recs {
		got = append(got, r["action"].(string)+"/"+r["code"].(string))
	}
	want := []string{"ListCert/OK", "CreateRootCACertificate/OK", "DescribeClientCertificate/NotFound.Certificate", "ListCert/OK"}
	if !slices.Equal(got, want) {
		t.Errorf("actions/codes %v, want %v", got, want)
	}
	if res := recs[1]["resource"].(string); res != "" && !strings.Contains(res, root.ID) {
		t.Errorf("CreateRootCACertificate resource %q does not name the CA %s", recs[1]["resource"], root.ID)
	}

	if from := exportLines(t, dir, "--from", "3"); len(from) != 2 || from[0]["id"] != json.Number("3") {
		t.Errorf("export --from 3: %v", from)
	}
	file := filepath.Join(t.TempDir(), "audit.jsonl")
	if out := mustAdmin(t, "audit", "export", "--data", dir, "--out", file); !strings.Contains(out, "Exported 4 audit records") {
		t.Errorf("export --out printed %q", out)
	}
	b, err := os.ReadFile(file)
	if err != nil || strings.Count(string(b), "\n") != 4 {
		t.Fatalf("export file (%v):\n%s", err, b)
	}
	if _, _, err := runAdmin(t, "audit", "export", "--data", dir, "--out", file); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Errorf("export over an existing file: %v", err)
	}

	// Tampering through SQL, while the server runs.
	db := ts.app.store.DB()
	if _, err := db.Exec("UPDATE audit_log SET code = 'OK' WHERE id = 3"); err != nil {
		t.Fatal(err)
	}
	_, _, err = runAdmin(t, "audit", "verify", "--data", dir)
	if err == nil || !strings.Contains(err.Error(), "FAILED at record 3") {
		t.Fatalf("verify after editing record 3: %v", err)
	}
	if _, err := db.Exec("UPDATE audit_log SET code = 'NotFound.Certificate' WHERE id = 3"); err != nil {
		t.Fatal(err)
	}
	mustAdmin(t, "audit", "verify", "--data", dir)
	if _, err := db.Exec("DELETE FROM audit_log WHERE id = 4"); err != nil {
		t.Fatal(err)
	}
	_, _, err = runAdmin(t, "audit", "verify", "--data", dir)
	if err == nil || !strings.Contains(err.Error(), "FAILED at record 4") {
		t.Fatalf("verify after deleting the last record: %v", err)
	}
	// The exit status: main exits non-zero on the error run returns.
	if err := run(context.Background(), []string{"admin", "audit", "verify", "--data", dir}, io.Discard, io.Discard); err == nil {
		t.Fatal("run returned no error for a tampered log")
	}
}

// ramCall calls a RAM (2015-05-01) action with query parameters.
func ramCall(t *testing.T, c *openapiclient.Client, action string, query map[string]string) map[string]any {
	t.Helper()
	p := rpcParams(action)
	p.Version = tea.String("2015-05-01")
	req := &openapiclient.OpenApiRequest{Query: map[string]*string{}}
	for k, v := range query {
		req.Query[k] = tea.String(v)
	}
	raw, err := c.CallApi(p, req, &dara.RuntimeOptions{})
	if err != nil {
		t.Fatalf("%s: %s", action, describeErr(err))
	}
	b, _ := raw["body"].(map[string]any)
	return b
}

// TestAuditTrail: API calls are audited with the caller, action, outcome,
// request id and source address, and no secret reaches the audit table:
// not the caller's AccessKey secret, not a new AccessKey's secret, not the
// password of an exported key, not the key itself, not the master key.
func TestAuditTrail(t *testing.T) {
	ts := startServer(t, 0)
	ctx := context.Background()
	start := time.Now().Add(-time.Second)
	c := ts.client(t, "v3")
	owner, err := ts.app.svc.LookupAccessKey(ctx, ts.keyID)
	if err != nil {
		t.Fatal(err)
	}
	type want struct{ action, code, keyID string }
	byRequest := map[string]want{}
	ok := func(action string, b map[string]any) {
		byRequest[jStr(t, b, "RequestId")] = want{action, "OK", ts.keyID}
	}

	b := mustCall(t, c, "CreateRootCACertificate", rootParams("ECC_256"))
	ok("CreateRootCACertificate", b)
	rootID := jStr(t, b, "Identifier")
	b = mustCall(t, c, "CreateSubCACertificate", subParams(rootID, "ECC_256"))
	ok("CreateSubCACertificate", b)
	subID := jStr(t, b, "Identifier")
	b = mustCall(t, c, "CreateClientCertificate", clientParams(subID))
	ok("CreateClientCertificate", b)
	certID := jStr(t, b, "Identifier")
	// An issuance's record is written with the certificate (one record,
	// naming the issuing CA and the new certificate).
	resources := map[string]string{jStr(t, b, "RequestId"): "ca/" + subID + ",certificate/" + certID}
	password := "Audit-Pw#93kq"
	b = mustCall(t, c, "DescribeCertificatePrivateKey", map[string]string{"Identifier": certID, "EncryptedCode": password})
	ok("DescribeCertificatePrivateKey", b)
	pemKey := jStr(t, b, "EncryptedData")

	// Refused calls are audited with their code, a wrong secret included.
	_, err = call(t, c, "DescribeCertificatePrivateKey", map[string]string{"Identifier": certID, "EncryptedCode": password + " bad"})
	e := wantErr(t, err, 0, "InvalidParameter.EncryptedCode")
	byRequest[e.Data["RequestId"].(string)] = want{"DescribeCertificatePrivateKey", "InvalidParameter.EncryptedCode", ts.keyID}
	_, err = call(t, clientFor(t, ts, "v1", ts.keyID, "not-the-secret"), "ListCert", nil)
	e = wantErr(t, err, 0, "SignatureDoesNotMatch")
	byRequest[e.Data["RequestId"].(string)] = want{"ListCert", "SignatureDoesNotMatch", ts.keyID}
	// A key that does not exist is nobody to audit.
	_, err = call(t, clientFor(t, ts, "v3", "LTAInosuchkey000000000", "x"), "ListCert", nil)
	wantErr(t, err, 0, "InvalidAccessKeyId.NotFound")

	// A RAM user and a new AccessKey for it: the answer carries its secret.
	b = ramCall(t, c, "CreateUser", map[string]string{"UserName": "auditor"})
	byRequest[b["RequestId"].(string)] = want{"CreateUser", "OK", ts.keyID}
	b = ramCall(t, c, "CreateAccessKey", map[string]string{"UserName": "auditor"})
	byRequest[b["RequestId"].(string)] = want{"CreateAccessKey", "OK", ts.keyID}
	newKey := jObj(t, b, "AccessKey")
	newSecret := jStr(t, newKey, "AccessKeySecret")
	end := time.Now().Add(time.Second)

	recs, err := ts.app.store.AuditRecords(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(byRequest) {
		t.Errorf("%d audit records, want %d", len(recs), len(byRequest))
	}
	for _, r := range recs {
		w, found := byRequest[r.RequestID]
		if !found {
			t.Errorf("audit record for an unknown request: %+v", r)
			continue
		}
		delete(byRequest, r.RequestID)
		if r.Action != w.action || r.Code != w.code || r.AccessKeyID != w.keyID || r.AccountID != owner.AccountID ||
			r.PrincipalID != owner.PrincipalID || r.SourceIP != "127.0.0.1" || r.At.Before(start) || r.At.After(end) {
			t.Errorf("audit record %+v, want %+v by account %d principal %d from 127.0.0.1", r, w, owner.AccountID, owner.PrincipalID)
		}
		if r.Action == "CreateAccessKey" && r.Resource != "user/auditor/accesskey/"+jStr(t, newKey, "AccessKeyId") {
			t.Errorf("CreateAccessKey resource %q", r.Resource)
		}
		if wantRes, named := resources[r.RequestID]; named && r.Resource != wantRes {
			t.Errorf("%s resource %q, want %q", r.Action, r.Resource, wantRes)
		}
	}
	for id, w := range byRequest {
		t.Errorf("request %s (%+v) is not in the audit log", id, w)
	}
	if rep, err := ts.app.svc.VerifyAudit(ctx); err != nil || rep.Err != nil || rep.Records != int64(len(recs)) {
		t.Errorf("verify: %+v %v", rep, err)
	}

	// What must never reach the audit table.
	signer, err := keys.DecryptPKCS8PEM([]byte(pemKey), []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(signer)
	if err != nil {
		t.Fatal(err)
	}
	masterHex, err := os.ReadFile(filepath.Join(ts.app.cfg.Data, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	master, err := hex.DecodeString(strings.TrimSpace(string(masterHex)))
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]byte{
		"caller's AccessKey secret": []byte(ts.secret),
		"new AccessKey secret":      []byte(newSecret),
		"export password":           []byte(password),
		"exported PEM line":         []byte(strings.Split(pemKey, "\n")[1]),
		"private key (DER)":         der,
		"private key (base64)":      []byte(base64.StdEncoding.EncodeToString(der)[8:40]),
		"private key (hex)":         []byte(hex.EncodeToString(der)[16:80]),
		"master key":                master,
		"master key (hex)":          bytes.TrimSpace(masterHex),
	}
	table := auditTableBytes(t, ts.app.store.DB())
	for name, s := range secrets {
		if bytes.Contains(table, s) {
			t.Errorf("the audit table holds the %s", name)
		}
	}
	// Nor are the secrets and the password anywhere in the database files.
	for _, f := range []string{"pcad.db", "pcad.db-wal"} {
		b, err := os.ReadFile(filepath.Join(ts.app.cfg.Data, f))
		if err != nil {
			continue
		}
		for _, name := range []string{"caller's AccessKey secret", "new AccessKey secret", "export password"} {
			if bytes.Contains(b, secrets[name]) {
				t.Errorf("%s holds the %s in clear", f, name)
			}
		}
	}
}

// auditTableBytes returns every value of every audit_log row.
func auditTableBytes(t *testing.T, db *sql.DB) []byte {
	t.Helper()
	rows, err := db.Query("SELECT * FROM audit_log")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				out = append(out, v...)
			default:
				out = fmt.Append(out, v)
			}
			out = append(out, 0)
		}
		n++
	}
	if err := rows.Err(); err != nil || n == 0 {
		t.Fatalf("audit_log: %d rows, %v", n, err)
	}
	return out
}

// TestAdminDB: every admin command works on a PostgreSQL store (--db or
// PCAD_DB), with the master key from --data's master.key or
// PCAD_MASTER_KEY; without a master key it refuses and makes none.
func TestAdminDB(t *testing.T) {
	dsn := pgtest.Schema(t, "pcad_admin")
	ts := startServerConfig(t, config{DB: dsn})
	dir := ts.app.cfg.Data
	c := ts.client(t, "v3")
	createRoot(t, c, "ECC_256", nil)
	mustCall(t, c, "ListCert", nil)
	owner, err := ts.app.svc.LookupAccessKey(t.Context(), ts.keyID)
	if err != nil {
		t.Fatal(err)
	}

	accounts := mustAdmin(t, "account", "list", "--data", dir, "--db", dsn)
	if !strings.Contains(accounts, fmt.Sprint(owner.AccountID)) || !strings.Contains(accounts, "default") {
		t.Errorf("account list --db:\n%s", accounts)
	}
	if out := mustAdmin(t, "audit", "verify", "--data", dir, "--db", dsn); !strings.HasPrefix(out, "audit log OK: 2 records; sealed head: record 2") {
		t.Errorf("audit verify --db:\n%s", out)
	}

	// account create on PostgreSQL; the new key works on the running server.
	cred := filepath.Join(t.TempDir(), "b.ini")
	mustAdmin(t, "account", "create", "--data", dir, "--db", dsn, "--credentials-out", cred, "--name", "team-b")
	idB, _ := readCredentials(t, cred)
	mustCall(t, officialClient(t, ts, cred, "v1"), "ListCert", nil)
	if keys := mustAdmin(t, "key", "list", "--data", dir, "--db", dsn); !strings.Contains(keys, ts.keyID) || !strings.Contains(keys, idB) {
		t.Errorf("key list --db:\n%s", keys)
	}
	if recs := exportLines(t, dir, "--db", dsn); len(recs) != 4 || recs[2]["action"] != "pcad admin account create" || recs[3]["access_key_id"] != idB {
		t.Errorf("audit export --db: %v", recs)
	}
	// The SQLite store under --data was never made.
	if _, err := os.Stat(filepath.Join(dir, "pcad.db")); err == nil {
		t.Error("admin --db created a SQLite store under --data")
	}

	// PCAD_DB and PCAD_MASTER_KEY, with no --data at all.
	master, err := os.ReadFile(filepath.Join(dir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	t.Setenv("PCAD_DB", dsn)
	t.Setenv("PCAD_MASTER_KEY", strings.TrimSpace(string(master)))
	t.Setenv("PCAD_DATA", "")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"admin", "account", "list"}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "team-b") {
		t.Errorf("account list with PCAD_DB: %v\n%s", err, out.String())
	}

	// No master key: refused, and none is generated.
	empty := t.TempDir()
	_, _, err = runAdmin(t, "account", "list", "--data", empty, "--db", dsn)
	if err == nil || !strings.Contains(err.Error(), "needs its master key") {
		t.Errorf("account list --db without a master key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(empty, "master.key")); err == nil {
		t.Error("a master key was generated for a PostgreSQL store")
	}
	// --db takes only PostgreSQL URLs.
	if _, _, err := runAdmin(t, "account", "list", "--data", dir, "--db", "mysql://root:hunter2@db/x"); err == nil ||
		!strings.Contains(err.Error(), "postgres://") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("account list --db mysql://...: %v", err)
	}

	// Tampering in PostgreSQL is found through --db.
	if _, err := ts.app.store.DB().Exec("UPDATE audit_log SET code = 'Forbidden' WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runAdmin(t, "audit", "verify", "--data", dir, "--db", dsn); err == nil || !strings.Contains(err.Error(), "FAILED at record 2") {
		t.Errorf("audit verify --db after tampering: %v", err)
	}
}
