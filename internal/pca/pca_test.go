package pca

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestNewIdentifier(t *testing.T) {
	now := time.UnixMilli(1_795_848_382_123)
	a, err := NewIdentifier(now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewIdentifier(now.Add(time.Millisecond), rand.Reader)
	if !ValidUUID(a) || !ValidUUID(b) {
		t.Fatalf("not UUIDs: %q %q", a, b)
	}
	if a[14] != '7' || !bytes.ContainsAny([]byte{a[19]}, "89ab") {
		t.Fatalf("%q is not a version 7, RFC 9562 variant UUID", a)
	}
	if a[:13] != "01a220e7-a6ab" {
		t.Fatalf("%q does not start with the millisecond time", a)
	}
	if !(a < b) {
		t.Fatalf("identifiers are not time-ordered: %q >= %q", a, b)
	}
	if _, err := NewIdentifier(now, bytes.NewReader(nil)); err == nil {
		t.Fatal("empty randomness accepted")
	}
}

func TestValidUUID(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"1ef79512-569b-6a4e-9105-9b91473562f7", true},
		{"1EF79512-569B-6A4E-9105-9B91473562F7", true},
		{"1ef79512569b6a4e91059b91473562f7", false},
		{"1ef79512-569b-6a4e-9105-9b91473562f", false},
		{"1ef79512-569b-6a4e-9105_9b91473562f7", false},
		{"gef79512-569b-6a4e-9105-9b91473562f7", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := ValidUUID(tc.in); got != tc.want {
				t.Fatalf("ValidUUID(%q) = %v", tc.in, got)
			}
		})
	}
}

func TestParseAlgorithm(t *testing.T) {
	tests := []struct {
		in     string
		family KeyFamily
		bits   int
		ok     bool
	}{
		{"RSA_2048", FamilyRSA, 2048, true},
		{"RSA_4096", FamilyRSA, 4096, true},
		{"ECC_256", FamilyECC, 256, true},
		{"ECC_384", FamilyECC, 384, true},
		{"ECC_512", FamilyECC, 521, true},
		{"RSA_1024", "", 0, false},
		{"SM2_256", "", 0, false},
		{"rsa_2048", "", 0, false},
		{"RSA_3072", "", 0, false}, // accepted from CSRs, never generated
		{"", "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			a, err := ParseAlgorithm("Algorithm", tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				e, _ := AsError(err)
				if e.Kind != KindInvalid || e.Param != "Algorithm" {
					t.Fatalf("error %+v", e)
				}
				return
			}
			if a.Family() != tc.family || a.Bits() != tc.bits {
				t.Fatalf("%s: family %s bits %d", a, a.Family(), a.Bits())
			}
		})
	}
}

func TestErrorKinds(t *testing.T) {
	cause := errors.New("disk on fire")
	wrapped := fmt.Errorf("service: %w", Internal(cause))
	if KindOf(wrapped) != KindInternal || !errors.Is(wrapped, cause) {
		t.Fatal("internal error lost its kind or cause")
	}
	if KindOf(fmt.Errorf("x: %w", NotFound("Identifier", "Certificate", "abc"))) != KindNotFound {
		t.Fatal("not found kind lost")
	}
	if KindOf(errors.New("plain")) != KindInternal {
		t.Fatal("plain errors must be internal")
	}
	if e := Missing("Years"); e.Kind != KindMissing || e.Param != "Years" || !bytes.Contains([]byte(e.Msg), []byte("Years")) {
		t.Fatalf("missing: %+v", e)
	}
}

func TestAlgorithmFromCSR(t *testing.T) {
	tests := []struct {
		a      Algorithm
		family KeyFamily
		bits   int
	}{
		{"RSA_3072", FamilyRSA, 3072},
		{"RSA_8192", FamilyRSA, 8192},
		{"ECC_256", FamilyECC, 256},
		{"XYZ_1", "", 0},
		{"RSA_x", "", 0},
		{"RSA", "", 0},
	}
	for _, tc := range tests {
		if f, b := tc.a.Family(), tc.a.Bits(); f != tc.family || b != tc.bits {
			t.Errorf("%s: family %q bits %d, want %q %d", tc.a, f, b, tc.family, tc.bits)
		}
	}
}
