package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/pcad-dev/pcad/internal/pca"
)

// RSA key sizes AlgorithmOf accepts.
const (
	MinRSABits = 2048
	MaxRSABits = 8192
)

// ErrUnsupportedKey is wrapped (as the Err of a *pca.Error) by AlgorithmOf
// when a public key is of a type, size or curve pcad does not issue for.
var ErrUnsupportedKey = errors.New("pki: unsupported public key")

// GenerateKey makes a new private key for alg using r. The returned signer is
// an *rsa.PrivateKey or an *ecdsa.PrivateKey. An unsupported alg is reported
// as pca.Invalid("Algorithm", ...).
//
// Since Go 1.26 the standard library ignores r for key generation and always
// uses its own secure source, unless GODEBUG=cryptocustomrand=1 is set; r is
// still passed on so that setting takes effect. r must not be nil.
func GenerateKey(alg pca.Algorithm, r io.Reader) (crypto.Signer, error) {
	if r == nil {
		return nil, errors.New("pki: generate key: nil random source")
	}
	switch alg {
	case pca.RSA2048, pca.RSA4096:
		k, err := rsa.GenerateKey(r, alg.Bits())
		if err != nil {
			return nil, fmt.Errorf("pki: generate %s key: %w", alg, err)
		}
		return k, nil
	case pca.ECC256, pca.ECC384, pca.ECC512:
		k, err := ecdsa.GenerateKey(curveOf(alg), r)
		if err != nil {
			return nil, fmt.Errorf("pki: generate %s key: %w", alg, err)
		}
		return k, nil
	}
	return nil, pca.Invalid("Algorithm", "The specified parameter Algorithm value %q is not supported: use one of RSA_2048, RSA_4096, ECC_256, ECC_384, ECC_512.", string(alg))
}

func curveOf(alg pca.Algorithm) elliptic.Curve {
	switch alg {
	case pca.ECC256:
		return elliptic.P256()
	case pca.ECC384:
		return elliptic.P384()
	case pca.ECC512:
		return elliptic.P521()
	}
	return nil
}

// AlgorithmOf names the algorithm of a public key: ECDSA keys on P-256, P-384
// and P-521 are ECC_256, ECC_384 and ECC_512; RSA keys of MinRSABits to
// MaxRSABits bits are "RSA_<bits>" (so a 3072-bit key is "RSA_3072", a name
// that pca.Algorithm.Supported does not list: pcad signs such keys but never
// generates them). Anything else is a *pca.Error of kind KindInvalid with
// Param "Algorithm" wrapping ErrUnsupportedKey; a caller that got the key from
// a CSR may rewrite Param to "Csr".
func AlgorithmOf(pub crypto.PublicKey) (pca.Algorithm, error) {
	alg, why := keyProblem(pub)
	if why != "" {
		e := pca.Invalid("Algorithm", "The specified parameter Algorithm is not valid: %s", why)
		e.Err = ErrUnsupportedKey
		return "", e
	}
	return alg, nil
}

// keyProblem names the algorithm of a supported public key, or returns a
// sentence saying why pcad does not support it.
func keyProblem(pub crypto.PublicKey) (pca.Algorithm, string) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k == nil || k.N == nil {
			return "", "the RSA public key is empty."
		}
		bits := k.N.BitLen()
		if bits < MinRSABits || bits > MaxRSABits {
			return "", fmt.Sprintf("RSA keys must have %d to %d bits, this one has %d.", MinRSABits, MaxRSABits, bits)
		}
		return pca.Algorithm(fmt.Sprintf("RSA_%d", bits)), ""
	case *ecdsa.PublicKey:
		if k == nil || k.Curve == nil {
			return "", "the ECDSA public key is empty."
		}
		switch k.Curve {
		case elliptic.P256():
			return pca.ECC256, ""
		case elliptic.P384():
			return pca.ECC384, ""
		case elliptic.P521():
			return pca.ECC512, ""
		}
		return "", fmt.Sprintf("ECDSA keys must use the P-256, P-384 or P-521 curve, not %s.", k.Curve.Params().Name)
	}
	return "", fmt.Sprintf("only RSA and ECDSA keys are supported, not %T.", pub)
}

// keyFamily returns the family of a supported public key type, or "".
func keyFamily(pub crypto.PublicKey) pca.KeyFamily {
	switch pub.(type) {
	case *rsa.PublicKey:
		return pca.FamilyRSA
	case *ecdsa.PublicKey:
		return pca.FamilyECC
	}
	return ""
}

// KeySize returns the size in bits of an RSA modulus or of an ECDSA curve
// (521 for P-521), or 0 for any other key.
func KeySize(pub crypto.PublicKey) int {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k != nil && k.N != nil {
			return k.N.BitLen()
		}
	case *ecdsa.PublicKey:
		if k != nil && k.Curve != nil {
			return k.Curve.Params().BitSize
		}
	}
	return 0
}

// signatureAlgorithmFor picks the signature algorithm for an issuer key:
// SHA-256 with RSA (PKCS #1 v1.5) for every RSA key, and ECDSA with SHA-256,
// SHA-384 or SHA-512 for P-256, P-384 and P-521.
func signatureAlgorithmFor(pub crypto.PublicKey) (x509.SignatureAlgorithm, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return x509.SHA256WithRSA, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return x509.ECDSAWithSHA256, nil
		case elliptic.P384():
			return x509.ECDSAWithSHA384, nil
		case elliptic.P521():
			return x509.ECDSAWithSHA512, nil
		}
	}
	return x509.UnknownSignatureAlgorithm, fmt.Errorf("pki: no signature algorithm for issuer key %T", pub)
}

// signatureNames spells signature algorithms as the API does (SignAlgorithm).
var signatureNames = map[x509.SignatureAlgorithm]string{
	x509.SHA1WithRSA:      "SHA1WITHRSA",
	x509.SHA256WithRSA:    "SHA256WITHRSA",
	x509.SHA384WithRSA:    "SHA384WITHRSA",
	x509.SHA512WithRSA:    "SHA512WITHRSA",
	x509.SHA256WithRSAPSS: "SHA256WITHRSAANDMGF1",
	x509.SHA384WithRSAPSS: "SHA384WITHRSAANDMGF1",
	x509.SHA512WithRSAPSS: "SHA512WITHRSAANDMGF1",
	x509.ECDSAWithSHA1:    "SHA1WITHECDSA",
	x509.ECDSAWithSHA256:  "SHA256WITHECDSA",
	x509.ECDSAWithSHA384:  "SHA384WITHECDSA",
	x509.ECDSAWithSHA512:  "SHA512WITHECDSA",
	x509.PureEd25519:      "ED25519",
}

// SignatureAlgorithmName returns the API spelling of c's signature algorithm,
// such as "SHA256WITHRSA" or "SHA384WITHECDSA". An algorithm without an API
// name is returned as Go names it, upper-cased and without dashes.
func SignatureAlgorithmName(c *x509.Certificate) string {
	if n, ok := signatureNames[c.SignatureAlgorithm]; ok {
		return n
	}
	return strings.ToUpper(strings.ReplaceAll(c.SignatureAlgorithm.String(), "-", ""))
}

// NewSerial returns 128 random bits from r as a positive, non-zero serial
// number (at most 17 octets in DER, within RFC 5280's 20). A reader that
// yields only zero serials four times in a row is reported as an error.
func NewSerial(r io.Reader) (*big.Int, error) {
	if r == nil {
		return nil, errors.New("pki: serial: nil random source")
	}
	var b [16]byte
	for range 4 {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("pki: serial randomness: %w", err)
		}
		if n := new(big.Int).SetBytes(b[:]); n.Sign() > 0 {
			return n, nil
		}
	}
	return nil, errors.New("pki: serial randomness: reader returned only zeros")
}

// CheckSerial reports whether n is usable as a certificate serial number:
// positive and at most 20 octets when DER-encoded (RFC 5280 4.1.2.2). A nil
// or bad serial is a pca.Invalid error for parameter param (for example
// "SerialNumber" for a caller-chosen serial).
func CheckSerial(param string, n *big.Int) error {
	if n == nil {
		return pca.Missing(param)
	}
	if n.Sign() <= 0 {
		return pca.Invalid(param, "The specified parameter %s is not valid: a serial number must be positive.", param)
	}
	// DER adds a leading zero octet when the top bit is set: 159 bits fit 20 octets.
	if n.BitLen() > 159 {
		return pca.Invalid(param, "The specified parameter %s is not valid: a serial number must fit in 20 octets.", param)
	}
	return nil
}

// subjectKeyID computes a key identifier by RFC 7093 section 2 method 1: the
// leftmost 160 bits of the SHA-256 hash of the subjectPublicKey BIT STRING.
// It is what Go's crypto/x509 itself generates for CA certificates since Go
// 1.25; computing it here makes every certificate (leaves too) carry one.
func subjectKeyID(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal public key: %w", err)
	}
	var spki struct {
		Algorithm        pkix.AlgorithmIdentifier
		SubjectPublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		return nil, fmt.Errorf("pki: parse public key: %w", err)
	}
	h := sha256.Sum256(spki.SubjectPublicKey.Bytes)
	return h[:20], nil
}

// samePublicKey reports whether a and b are the same supported public key.
func samePublicKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
