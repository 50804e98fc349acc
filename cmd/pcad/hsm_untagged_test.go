package main

// CA keys in a PKCS#11 token, the parts every build has: the flags, the
// refusal of --kms by a build without PKCS#11 support, the KeyStore
// parameter on a server without --kms, and the start check of a store
// whose CAs keep their keys in a token. hsm_test.go (build tag pkcs11)
// runs a server against SoftHSM.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/keys/pkcs11"
	"github.com/pcad-dev/pcad/internal/store"
)

const testKMS = "pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=ca-test;pin-value=1234"

func TestKMSFlags(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		env       map[string]string
		wantKMS   string
		wantStore string
		wantErr   string // substring; "" = success
	}{
		{"defaults", nil, nil, "", caKeyStoreSoftware, ""},
		{"kms-software", []string{"--kms", testKMS}, nil, testKMS, caKeyStoreSoftware, ""},
		{"kms-hsm", []string{"--kms", testKMS, "--ca-key-store", "hsm"}, nil, testKMS, caKeyStoreHSM, ""},
		{"hsm-case", []string{"--kms", testKMS, "--ca-key-store", "HSM"}, nil, testKMS, caKeyStoreHSM, ""},
		{"env", nil, map[string]string{"PCAD_KMS": testKMS, "PCAD_CA_KEY_STORE": "hsm"}, testKMS, caKeyStoreHSM, ""},
		{"hsm-without-kms", []string{"--ca-key-store", "hsm"}, nil, "", "", "--ca-key-store hsm needs --kms"},
		{"unknown-store", []string{"--kms", testKMS, "--ca-key-store", "cloud"}, nil, "", "", `--ca-key-store must be software or hsm, got "cloud"`},
		{"bad-kms", []string{"--kms", "pkcs11:module=/m;pin-value=S3cret-PIN"}, nil, "", "", "--kms: pkcs11: token="},
		{"not-a-pkcs11-uri", []string{"--kms", "S3cret-PIN"}, nil, "", "", `--kms: pkcs11: the value must start with "pkcs11:"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"PCAD_KMS", "PCAD_CA_KEY_STORE"} {
				t.Setenv(k, tc.env[k])
			}
			c, err := parseServeFlags(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseServeFlags(%q): %v, want an error containing %q", tc.args, err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "S3cret-PIN") {
					t.Errorf("the error shows the PIN: %v", err)
				}
				return
			}
			if err != nil || c.KMS != tc.wantKMS || c.CAKeyStore != tc.wantStore {
				t.Fatalf("parseServeFlags(%q) = KMS %q, store %q, %v; want %q, %q", tc.args, c.KMS, c.CAKeyStore, err, tc.wantKMS, tc.wantStore)
			}
		})
	}
}

// TestKMSWithoutPKCS11Build: a build without the tag refuses --kms with a
// message that says how to build with it, and touches nothing.
func TestKMSWithoutPKCS11Build(t *testing.T) {
	if pkcs11.Built {
		t.Skip("this build has PKCS#11 support (hsm_test.go covers it)")
	}
	data := filepath.Join(t.TempDir(), "data")
	err := serveCommand(context.Background(), []string{"--addr", "127.0.0.1:0", "--data", data, "--kms", testKMS}, io.Discard, io.Discard)
	if !errors.Is(err, pkcs11.ErrNotBuilt) || !strings.Contains(err.Error(), "--kms: this pcad was built without PKCS#11 support: build with -tags pkcs11 (cgo)") {
		t.Fatalf("serve --kms: %v, want the not-built error", err)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused start touched the data directory: %v", err)
	}
}

// TestKeyStoreWithoutKMS: on a server without --kms, KeyStore=HSM is
// refused on both CA create calls, KeyStore=SOFTWARE works, and no CA's key
// is exportable.
func TestKeyStoreWithoutKMS(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			_, err := call(t, c, "CreateRootCACertificate", with(rootParams("ECC_256"), map[string]string{"KeyStore": "HSM"}))
			wantErr(t, err, http.StatusBadRequest, "InvalidParameter.KeyStore", "KeyStore", "HSM", "--kms")
			_, err = call(t, c, "CreateRootCACertificate", with(rootParams("ECC_256"), map[string]string{"KeyStore": "hsm"}))
			wantErr(t, err, http.StatusBadRequest, "InvalidParameter.KeyStore", "KeyStore")

			root := createRoot(t, c, "ECC_256", map[string]string{"KeyStore": "SOFTWARE"})
			_, err = call(t, c, "CreateSubCACertificate", with(subParams(root.ID, "ECC_256"), map[string]string{"KeyStore": "HSM"}))
			wantErr(t, err, http.StatusBadRequest, "InvalidParameter.KeyStore", "KeyStore", "--kms")
			sub := createSub(t, c, root.ID, "ECC_256", nil)

			for _, id := range []string{root.ID, sub.ID} {
				rec := jObj(t, mustCall(t, c, "DescribeCACertificate", map[string]string{"Identifier": id}), "Certificate")
				if got := jStr(t, rec, "KeyStore"); got != "SOFTWARE" {
					t.Errorf("KeyStore %q, want SOFTWARE", got)
				}
				if jBool(t, rec, "KeyExportable") {
					t.Error("a CA's key is reported exportable")
				}
				_, err := call(t, c, "DescribeCertificatePrivateKey", map[string]string{"Identifier": id, "EncryptedCode": "Passw0rd#1"})
				wantErr(t, err, http.StatusBadRequest, "OperationDenied.PrivateKeyNotExportable", id, "never exports")
			}
		})
	}
}

// TestServeRefusesHSMCAsWithoutKMS: a store holding a CA whose key is in a
// PKCS#11 token does not serve without --kms: it could not sign that CA's
// CRLs and OCSP answers.
func TestServeRefusesHSMCAsWithoutKMS(t *testing.T) {
	ts := startServer(t, 0)
	c := ts.client(t, "v3")
	root := createRoot(t, c, "ECC_256", nil)
	ctx := context.Background()
	act := actorOf(t, ts)
	rec, err := ts.app.svc.GetCA(ctx, act, "Identifier", root.ID)
	if err != nil {
		t.Fatal(err)
	}
	// A copy of the root whose key a token would hold.
	rec.ID, rec.Identifier, rec.KeyRef, rec.InstanceUUID = 0, "hsm-"+rec.Identifier, keys.HSMRefPrefix+"00112233445566778899aabbccddeeff", ""
	if err := ts.app.store.CreateCA(ctx, &rec, store.KeyRecord{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var stdout strings.Builder
	err = serveCommand(ctx, []string{"--addr", "127.0.0.1:0", "--data", ts.app.cfg.Data}, &stdout, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "no HSM is configured") || !strings.Contains(err.Error(), rec.Identifier) {
		t.Fatalf("serve: %v, want a refusal naming the CA and the missing HSM", err)
	}
	if stdout.Len() > 0 {
		t.Errorf("the refused server printed %q", stdout.String())
	}
}
