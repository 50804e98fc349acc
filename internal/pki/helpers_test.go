package pki

import (
	"crypto"
	"crypto/rand"
	"strings"
	"sync"
	"testing"

	"github.com/pcad-dev/pcad/internal/pca"
)

// wantErr checks err against an expected outcome: param "" means success;
// param internal means a plain error with the "pki: " prefix; otherwise a
// *pca.Error of the given kind and Param whose Msg is a sentence naming the
// parameter.
func wantErr(t *testing.T, err error, kind pca.Kind, param string) {
	t.Helper()
	switch param {
	case "":
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	case internal:
		if err == nil {
			t.Fatalf("got no error, want an internal error")
		}
		if e, ok := pca.AsError(err); ok {
			t.Fatalf("got *pca.Error %+v, want a plain internal error", e)
		}
		if !strings.HasPrefix(err.Error(), "pki: ") {
			t.Fatalf("internal error %q lacks the \"pki: \" prefix", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("got no error, want %v error for %s", kind, param)
	}
	e, ok := pca.AsError(err)
	if !ok {
		t.Fatalf("got %v (%T), want *pca.Error", err, err)
	}
	if e.Kind != kind || e.Param != param {
		t.Fatalf("got Kind %v Param %q (%q), want Kind %v Param %q", e.Kind, e.Param, e.Msg, kind, param)
	}
	if !strings.Contains(e.Msg, param) {
		t.Errorf("message %q does not name the parameter %s", e.Msg, param)
	}
	if e.Msg == "" || !strings.HasSuffix(e.Msg, ".") {
		t.Errorf("message %q is not a sentence", e.Msg)
	}
}

// internal is the param wantErr takes for an internal error.
const internal = "internal"

var (
	rsa4096Once sync.Once
	rsa4096Key  crypto.Signer
	rsa4096Err  error
)

// testKey generates a key for alg. RSA_4096 is generated once per test
// binary and shared, because it is slow.
func testKey(t *testing.T, alg pca.Algorithm) crypto.Signer {
	t.Helper()
	if alg == pca.RSA4096 {
		rsa4096Once.Do(func() { rsa4096Key, rsa4096Err = GenerateKey(alg, rand.Reader) })
		if rsa4096Err != nil {
			t.Fatal(rsa4096Err)
		}
		return rsa4096Key
	}
	k, err := GenerateKey(alg, rand.Reader)
	if err != nil {
		t.Fatalf("GenerateKey(%s): %v", alg, err)
	}
	return k
}
