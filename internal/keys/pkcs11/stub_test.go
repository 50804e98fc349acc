//go:build !pkcs11 || !cgo

package pkcs11

import (
	"context"
	"errors"
	"testing"
)

// TestOpenWithoutPKCS11 checks the message of a build without the tag: it
// says how to build with PKCS#11 support.
func TestOpenWithoutPKCS11(t *testing.T) {
	h, err := Open(context.Background(), Config{Module: "/m", Token: "t", PIN: "1"})
	if h != nil || !errors.Is(err, ErrNotBuilt) || err.Error() != "this pcad was built without PKCS#11 support: build with -tags pkcs11 (cgo)" {
		t.Fatalf("Open = %v, %v; want ErrNotBuilt", h, err)
	}
	if Built {
		t.Error("Built is true in a build without PKCS#11")
	}
}
