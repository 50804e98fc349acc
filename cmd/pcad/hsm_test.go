//go:build pkcs11 && cgo

package main

// CA keys in a PKCS#11 token, end to end against SoftHSM (softhsmtest): a
// server with --kms creates root and sub-CAs whose keys are generated in the
// token (KeyStore=HSM, through the official client), issues server and
// client certificates that crypto/x509 and openssl verify, signs CRLs with
// the token's keys, reports the CA keys not exportable and refuses to export
// them; a second server on the same store and token signs with the same
// keys; a start with a wrong PIN, a missing token or module, or a token
// without the CAs' keys is refused, saying which.

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/keys/pkcs11"
	"github.com/pcad-dev/pcad/internal/keys/pkcs11/softhsmtest"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/service"
	"github.com/pcad-dev/pcad/internal/store"
)

// startHSMServer starts pcad with --kms on the token label of module; the
// token is closed after everything else the test started.
func startHSMServer(t *testing.T, module, label, caKeyStore string) *testServer {
	t.Helper()
	var h keys.HSM
	t.Cleanup(func() {
		if h != nil {
			h.Close()
		}
	})
	ts := startServerConfig(t, config{KMS: softhsmtest.URI(module, label, softhsmtest.PIN), CAKeyStore: caKeyStore})
	h = ts.app.hsm
	if h == nil {
		t.Fatal("the server runs without its token")
	}
	return ts
}

func TestHSMEndToEnd(t *testing.T) {
	module := softhsmtest.Setup(t, "pcad-e2e", "pcad-other")
	ts := startHSMServer(t, module, "pcad-e2e", caKeyStoreSoftware)
	ctx := context.Background()
	act := actorOf(t, ts)
	for _, tc := range []struct {
		alg, mode string
		rootOver  map[string]string
	}{
		{"ECC_256", "v3", map[string]string{"KeyStore": "HSM"}},
		{"RSA_2048", "v1", map[string]string{"KeyStore": "HSM"}},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			c := ts.client(t, tc.mode)
			root := createRoot(t, c, tc.alg, tc.rootOver)
			sub := createSub(t, c, root.ID, tc.alg, map[string]string{"KeyStore": "HSM", "EnableCrl": "true",
				"ExtendedKeyUsages.1": "serverAuth", "ExtendedKeyUsages.2": "clientAuth"})
			checkKey(t, root.Cert, tc.alg)

			// The keys are in the token and nowhere in the store.
			for _, id := range []string{root.ID, sub.ID} {
				ca, err := ts.app.svc.GetCA(ctx, act, "Identifier", id)
				if err != nil {
					t.Fatal(err)
				}
				if !keys.IsHSMRef(ca.KeyRef) {
					t.Fatalf("CA %s has key ref %q, want a PKCS#11 one", id, ca.KeyRef)
				}
				if _, err := ts.app.store.GetKey(ctx, act.AccountID, ca.KeyRef); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("the store holds the HSM key %s: %v", ca.KeyRef, err)
				}
				s, err := ts.app.hsm.Signer(ctx, ca.KeyRef)
				if err != nil {
					t.Fatal(err)
				}
				cert, _ := x509.ParseCertificate(ca.DER)
				if !s.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey) {
					t.Errorf("the token's key %s is not CA %s's", ca.KeyRef, id)
				}
			}

			// Reported not exportable; export refused.
			for _, id := range []string{root.ID, sub.ID} {
				rec := jObj(t, mustCall(t, c, "DescribeCACertificate", map[string]string{"Identifier": id}), "Certificate")
				if got := jStr(t, rec, "KeyStore"); got != "HSM" {
					t.Errorf("KeyStore %q, want HSM", got)
				}
				if jBool(t, rec, "KeyExportable") {
					t.Errorf("CA %s: KeyExportable true", id)
				}
				_, err := call(t, c, "DescribeCertificatePrivateKey", map[string]string{"Identifier": id, "EncryptedCode": "Passw0rd#1"})
				wantErr(t, err, http.StatusBadRequest, "OperationDenied.PrivateKeyNotExportable", id, "HSM", "never leaves the token")
			}

			// Certificates signed in the token verify (crypto/x509, openssl).
			srvBody := mustCall(t, c, "CreateServerCertificate", with(serverParams(sub.ID), map[string]string{"Algorithm": tc.alg,
				"CommonName": "hsm.example.com", "Domain": "api.hsm.example.com"}))
			srvPEM := jStr(t, srvBody, "X509Certificate")
			cliID := issueClient(t, c, sub.ID, map[string]string{"Algorithm": tc.alg, "SanType": "1", "SanValue": "hsm@example.com"})
			cliPEM := jStr(t, jObj(t, mustCall(t, c, "DescribeClientCertificate", map[string]string{"Identifier": cliID}), "Certificate"), "X509Certificate")
			roots, inter := x509.NewCertPool(), x509.NewCertPool()
			roots.AddCert(root.Cert)
			inter.AddCert(sub.Cert)
			for _, leaf := range []struct {
				pem, purpose string
				usage        x509.ExtKeyUsage
			}{{srvPEM, "sslserver", x509.ExtKeyUsageServerAuth}, {cliPEM, "sslclient", x509.ExtKeyUsageClientAuth}} {
				cert := parsePEM(t, leaf.pem)
				if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{leaf.usage}}); err != nil {
					t.Errorf("%s certificate under HSM CAs: %v", leaf.purpose, err)
				}
				opensslVerify(t, root.PEM, sub.PEM, leaf.pem, "-purpose", leaf.purpose)
			}

			// The leaves' keys are the service's software keys: exportable.
			listed := jObjects(t, list(t, c, map[string]string{"ParentIdentifier": sub.ID}), "List")
			if len(listed) != 2 {
				t.Fatalf("ListCert under the sub-CA: %d entries, want 2", len(listed))
			}
			for _, it := range listed {
				if !jBool(t, it, "KeyExportable") {
					t.Errorf("leaf %s: KeyExportable false, want true (leaf keys stay software)", jStr(t, it, "Identifier"))
				}
			}

			// CRLs signed in the token: the sub-CA's shows a revocation, and
			// openssl checks it; the root's names the sub-CA's URL.
			srv := parsePEM(t, srvPEM)
			revoke(t, c, cliID)
			cli := parsePEM(t, cliPEM)
			var crl *x509.RevocationList
			for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
				if crl = fetchCRL(t, srv, sub.Cert); onCRL(crl, cli.SerialNumber) {
					break
				}
				if time.Since(start) > 10*time.Second {
					t.Fatal("the revocation is not on the sub-CA's CRL after 10 s")
				}
			}
			fetchCRL(t, sub.Cert, root.Cert)
			dir := t.TempDir()
			crlFile := filepath.Join(dir, "crl.pem")
			if err := os.WriteFile(crlFile, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crl.Raw}), 0o600); err != nil {
				t.Fatal(err)
			}
			subFile := writePEM(t, dir, "sub.pem", sub.PEM)
			if out, err := openssl(t, "crl", "-in", crlFile, "-CAfile", subFile, "-noout"); err != nil || !strings.Contains(out, "verify OK") {
				t.Errorf("openssl crl: %v\n%s", err, out)
			}
			out, err := openssl(t, "verify", "-crl_check", "-CAfile", writePEM(t, dir, "root.pem", root.PEM), "-untrusted", subFile,
				"-CRLfile", crlFile, writePEM(t, dir, "cli.pem", cliPEM))
			if err == nil || !strings.Contains(out, "certificate revoked") {
				t.Errorf("openssl accepted the revoked client certificate: %v\n%s", err, out)
			}

			// A second server on the same store and token (a replica, or a
			// restart) finds the keys by their refs and signs with them.
			replica, err := newApp(ctx, config{Data: ts.app.cfg.Data, KMS: ts.app.cfg.KMS, PublicURL: ts.app.cfg.PublicURL},
				slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer replica.hsm.Close()
			defer replica.store.Close()
			if err := replica.svc.CheckCAKeys(ctx); err != nil {
				t.Fatalf("CheckCAKeys on the replica: %v", err)
			}
			issued, err := replica.svc.IssueCertificate(ctx, act, service.IssueRequest{ParentIdentifier: sub.ID, Type: pca.TypeServer,
				Algorithm: pca.Algorithm(tc.alg), Subject: pca.Subject{CommonName: "replica.example.com"}, Validity: pki.Validity{Days: 1}})
			if err != nil {
				t.Fatal(err)
			}
			rc, err := x509.ParseCertificate(issued.DER)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rc.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "replica.example.com"}); err != nil {
				t.Errorf("certificate signed by the replica: %v", err)
			}
		})
	}

	// With --ca-key-store hsm, a CA created without KeyStore gets an HSM
	// key, and KeyStore=SOFTWARE still makes a software one.
	t.Run("default-hsm", func(t *testing.T) {
		ts := startHSMServer(t, module, "pcad-e2e", caKeyStoreHSM)
		c := ts.client(t, "v3")
		for over, want := range map[string]string{"": "HSM", "SOFTWARE": "SOFTWARE", "HSM": "HSM"} {
			params := map[string]string{"CommonName": "Default " + want + " " + over}
			if over != "" {
				params["KeyStore"] = over
			}
			root := createRoot(t, c, "ECC_384", params)
			rec := jObj(t, mustCall(t, c, "DescribeCACertificate", map[string]string{"Identifier": root.ID}), "Certificate")
			if got := jStr(t, rec, "KeyStore"); got != want {
				t.Errorf("KeyStore=%q: the key is in %s, want %s", over, got, want)
			}
		}
	})

	// The start check: a token without the CAs' keys, or no token, refuses.
	t.Run("start-with-other-token", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			args    []string
			mention []string
		}{
			{"other-token", []string{"--kms", softhsmtest.URI(module, "pcad-other", softhsmtest.PIN)}, []string{"cannot sign with this token", "no key pair with CKA_ID"}},
			{"no-kms", nil, []string{"no HSM is configured"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				var stdout strings.Builder
				err := serveCommand(ctx, append([]string{"--addr", "127.0.0.1:0", "--data", ts.app.cfg.Data}, tc.args...), &stdout, io.Discard)
				if err == nil {
					t.Fatal("serve started")
				}
				for _, m := range tc.mention {
					if !strings.Contains(err.Error(), m) {
						t.Errorf("error %q does not mention %q", err, m)
					}
				}
				if stdout.Len() > 0 {
					t.Errorf("the refused server printed %q", stdout.String())
				}
			})
		}
	})
}

// TestHSMStartRefused: a wrong PIN, a missing token or module, and a wrong
// master key each refuse the start with a message saying which, and a
// refused start on a fresh directory creates nothing.
func TestHSMStartRefused(t *testing.T) {
	module := softhsmtest.Setup(t, "pcad-e2e", "pcad-pin")
	dir := t.TempDir()
	const wrongPIN = "4321"
	pinFile := filepath.Join(dir, "wrong-pin")
	if err := os.WriteFile(pinFile, []byte(wrongPIN+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A store made with the token, for the wrong master key.
	made := filepath.Join(dir, "made")
	ctx := context.Background()
	a, err := newApp(ctx, config{Data: made, KMS: softhsmtest.URI(module, "pcad-e2e", softhsmtest.PIN)}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	a.hsm.Close()
	a.store.Close()

	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		data    string // "": a fresh directory, which must not be created
		is      error
		mention []string
	}{
		{"wrong-pin", []string{"--kms", softhsmtest.URI(module, "pcad-pin", wrongPIN)}, nil, "", pkcs11.ErrPIN,
			[]string{"--kms", `token "pcad-pin"`, "refused the user PIN", "wrong PIN"}},
		{"wrong-pin-file", []string{"--kms", "pkcs11:module=" + module + ";token=pcad-pin;pin-file=" + pinFile}, nil, "", pkcs11.ErrPIN,
			[]string{`token "pcad-pin"`, "wrong PIN"}},
		{"missing-token", []string{"--kms", softhsmtest.URI(module, "no-such-token", softhsmtest.PIN)}, nil, "", pkcs11.ErrTokenNotFound,
			[]string{`token "no-such-token"`, "not found", `"pcad-e2e"`}},
		{"missing-module", []string{"--kms", softhsmtest.URI(filepath.Join(dir, "libnope.so"), "pcad-e2e", softhsmtest.PIN)}, nil, "", pkcs11.ErrModule,
			[]string{"libnope.so"}},
		{"wrong-master-key", []string{"--kms", softhsmtest.URI(module, "pcad-e2e", softhsmtest.PIN)},
			map[string]string{"PCAD_MASTER_KEY": strings.Repeat("ab", keys.MasterKeySize)}, made, keys.ErrWrongMasterKey, []string{"master key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PCAD_MASTER_KEY", tc.env["PCAD_MASTER_KEY"])
			data := tc.data
			if data == "" {
				data = filepath.Join(t.TempDir(), "data")
			}
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			var stdout strings.Builder
			err := serveCommand(ctx, append([]string{"--addr", "127.0.0.1:0", "--data", data}, tc.args...), &stdout, io.Discard)
			if !errors.Is(err, tc.is) {
				t.Fatalf("serve: %v, want an error wrapping %v", err, tc.is)
			}
			t.Log(err)
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
			for _, pin := range []string{wrongPIN, softhsmtest.PIN} {
				if strings.Contains(err.Error(), pin) {
					t.Errorf("error %q shows a PIN", err)
				}
			}
			if stdout.Len() > 0 {
				t.Errorf("the refused server printed %q", stdout.String())
			}
			if tc.data == "" {
				if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("the refused start created the data directory: %v", err)
				}
			}
		})
	}
}
