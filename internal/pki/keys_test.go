package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/pcad-dev/pcad/internal/pca"
)

func TestGenerateKey(t *testing.T) {
	tests := []struct {
		name   string
		alg    pca.Algorithm
		family pca.KeyFamily
		param  string
	}{
		{name: "ok/rsa-2048", alg: pca.RSA2048, family: pca.FamilyRSA},
		{name: "ok/rsa-4096", alg: pca.RSA4096, family: pca.FamilyRSA},
		{name: "ok/ecc-256", alg: pca.ECC256, family: pca.FamilyECC},
		{name: "ok/ecc-384", alg: pca.ECC384, family: pca.FamilyECC},
		{name: "ok/ecc-512-is-p521", alg: pca.ECC512, family: pca.FamilyECC},
		{name: "fail/rsa-1024", alg: "RSA_1024", param: "Algorithm"},
		{name: "fail/sm2", alg: "SM2_256", param: "Algorithm"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var k crypto.Signer
			var err error
			if tc.alg == pca.RSA4096 {
				k = testKey(t, tc.alg)
			} else {
				k, err = GenerateKey(tc.alg, rand.Reader)
			}
			wantErr(t, err, pca.KindInvalid, tc.param)
			if tc.param != "" {
				return
			}
			got, err := AlgorithmOf(k.Public())
			if err != nil || got != tc.alg {
				t.Errorf("AlgorithmOf(generated %s) = %q, %v", tc.alg, got, err)
			}
			if KeySize(k.Public()) != tc.alg.Bits() || keyFamily(k.Public()) != tc.family {
				t.Errorf("KeySize %d family %q, want %d %q", KeySize(k.Public()), keyFamily(k.Public()), tc.alg.Bits(), tc.family)
			}
		})
	}
	if _, err := GenerateKey(pca.ECC256, nil); err == nil {
		t.Error("GenerateKey with a nil reader succeeded")
	}
}

// fakeRSA is an RSA public key of the given modulus size; AlgorithmOf only
// looks at the size.
func fakeRSA(bits int) *rsa.PublicKey {
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	return &rsa.PublicKey{N: n.Add(n, big.NewInt(1)), E: 65537}
}

func TestAlgorithmOf(t *testing.T) {
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256 := testKey(t, pca.ECC256).Public()
	tests := []struct {
		name string
		pub  crypto.PublicKey
		want pca.Algorithm
		bad  bool
	}{
		{name: "ok/rsa-2048", pub: fakeRSA(2048), want: pca.RSA2048},
		{name: "ok/rsa-3072", pub: fakeRSA(3072), want: "RSA_3072"},
		{name: "ok/rsa-4096", pub: fakeRSA(4096), want: pca.RSA4096},
		{name: "ok/rsa-8192", pub: fakeRSA(8192), want: "RSA_8192"},
		{name: "ok/p256", pub: p256, want: pca.ECC256},
		{name: "fail/rsa-1024", pub: fakeRSA(1024), bad: true},
		{name: "fail/rsa-2047", pub: fakeRSA(2047), bad: true},
		{name: "fail/rsa-8193", pub: fakeRSA(8193), bad: true},
		{name: "fail/rsa-empty", pub: &rsa.PublicKey{}, bad: true},
		{name: "fail/p224", pub: &p224.PublicKey, bad: true},
		{name: "fail/ed25519", pub: edPub, bad: true},
		{name: "fail/nil", pub: nil, bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AlgorithmOf(tc.pub)
			if !tc.bad {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v, want %q", got, err, tc.want)
				}
				return
			}
			wantErr(t, err, pca.KindInvalid, "Algorithm")
			if !errors.Is(err, ErrUnsupportedKey) {
				t.Errorf("error %v does not wrap ErrUnsupportedKey", err)
			}
		})
	}
}

// zeroThenRandom yields n all-zero 16-byte blocks, then random bytes.
type zeroThenRandom struct{ n int }

func (z *zeroThenRandom) Read(p []byte) (int, error) {
	if z.n > 0 {
		z.n--
		clear(p)
		return len(p), nil
	}
	return rand.Read(p)
}

func TestNewSerial(t *testing.T) {
	seen := make(map[string]bool)
	for i := range 1000 {
		s, err := NewSerial(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if s.Sign() <= 0 || s.BitLen() > 128 {
			t.Fatalf("serial %x: want positive and at most 128 bits", s)
		}
		if err := CheckSerial("SerialNumber", s); err != nil {
			t.Fatalf("CheckSerial(%x): %v", s, err)
		}
		if seen[s.String()] {
			t.Fatalf("serial %x repeated after %d calls", s, i)
		}
		seen[s.String()] = true
	}

	tests := []struct {
		name    string
		r       io.Reader
		wantErr bool
		want    *big.Int
	}{
		{name: "ok/all-ones-is-128-bits", r: bytes.NewReader(bytes.Repeat([]byte{0xff}, 16)),
			want: new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))},
		{name: "ok/one", r: bytes.NewReader(append(make([]byte, 15), 1)), want: big.NewInt(1)},
		{name: "ok/zero-then-retry", r: &zeroThenRandom{n: 3}},
		{name: "fail/only-zeros", r: &zeroThenRandom{n: 4}, wantErr: true},
		{name: "fail/short-reader", r: bytes.NewReader(make([]byte, 15)), wantErr: true},
		{name: "fail/reader-error", r: iotest.ErrReader(errors.New("boom")), wantErr: true},
		{name: "fail/nil-reader", r: nil, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSerial(tc.r)
			if tc.wantErr {
				wantErr(t, err, pca.KindInternal, internal)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Sign() <= 0 || (tc.want != nil && s.Cmp(tc.want) != 0) {
				t.Errorf("got %x, want %x", s, tc.want)
			}
		})
	}
}

func TestCheckSerial(t *testing.T) {
	max := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 159), big.NewInt(1))
	tests := []struct {
		name  string
		n     *big.Int
		kind  pca.Kind
		param string
	}{
		{name: "ok/one", n: big.NewInt(1)},
		{name: "ok/20-octets", n: max},
		{name: "fail/nil", n: nil, kind: pca.KindMissing, param: "SerialNumber"},
		{name: "fail/zero", n: big.NewInt(0), kind: pca.KindInvalid, param: "SerialNumber"},
		{name: "fail/negative", n: big.NewInt(-7), kind: pca.KindInvalid, param: "SerialNumber"},
		{name: "fail/21-octets", n: new(big.Int).Add(max, big.NewInt(1)), kind: pca.KindInvalid, param: "SerialNumber"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, CheckSerial("SerialNumber", tc.n), tc.kind, tc.param)
		})
	}
}

func TestSignatureAlgorithmNameAndKeySize(t *testing.T) {
	tests := []struct {
		alg  x509.SignatureAlgorithm
		want string
	}{
		{x509.SHA256WithRSA, "SHA256WITHRSA"},
		{x509.ECDSAWithSHA256, "SHA256WITHECDSA"},
		{x509.ECDSAWithSHA384, "SHA384WITHECDSA"},
		{x509.ECDSAWithSHA512, "SHA512WITHECDSA"},
		{x509.MD5WithRSA, "MD5RSA"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := SignatureAlgorithmName(&x509.Certificate{SignatureAlgorithm: tc.alg}); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if n := KeySize(fakeRSA(3072)); n != 3072 {
		t.Errorf("KeySize(RSA 3072) = %d", n)
	}
	if n := KeySize(ed25519.PublicKey(make([]byte, 32))); n != 0 {
		t.Errorf("KeySize(ed25519) = %d, want 0", n)
	}
}

func TestExtKeyUsageNames(t *testing.T) {
	got, err := ParseExtKeyUsages("ExtendedKeyUsages", []string{"serverAuth", "CLIENTAUTH", " serverAuth ", "ocspsigning"})
	if err != nil {
		t.Fatal(err)
	}
	want := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageOCSPSigning}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("got %v, want %v", got, want)
	}
	if names := strings.Join(ExtKeyUsageNames(got), ","); names != "serverAuth,clientAuth,OCSPSigning" {
		t.Errorf("ExtKeyUsageNames = %q", names)
	}
	_, err = ParseExtKeyUsages("ExtendedKeyUsages", []string{"serverAuth", "anyPurpose"})
	wantErr(t, err, pca.KindInvalid, "ExtendedKeyUsages")
	if got, err := ParseExtKeyUsages("ExtendedKeyUsages", nil); got != nil || err != nil {
		t.Errorf("no names: got %v, %v, want nil, nil", got, err)
	}
}
