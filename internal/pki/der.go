package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// Hand-written DER for the CRL writer and the OCSP responder.

// DER tags used by hand.
const (
	tagInteger         = 0x02
	tagBitString       = 0x03
	tagOctetString     = 0x04
	tagEnumerated      = 0x0a
	tagUTCTime         = 0x17
	tagGeneralizedTime = 0x18
	tagSequence        = 0x30
	tagContext0        = 0xa0 // [0] constructed
)

// headerLen is the length of a tag and DER length octets for n content
// octets.
func headerLen(n int64) int64 {
	switch {
	case n < 0x80:
		return 2
	case n <= 0xff:
		return 3
	case n <= 0xffff:
		return 4
	case n <= 0xffffff:
		return 5
	}
	return 6 // up to 4 GiB of content, checked by the callers
}

// tlvLen is the total length of an element with n content octets.
func tlvLen(n int64) int64 { return headerLen(n) + n }

// appendHeader appends a tag and the DER length of n content octets.
func appendHeader(b []byte, tag byte, n int64) []byte {
	b = append(b, tag)
	switch l := headerLen(n) - 2; l {
	case 0:
		return append(b, byte(n))
	default:
		b = append(b, 0x80|byte(l))
		for i := l - 1; i >= 0; i-- {
			b = append(b, byte(n>>(8*i)))
		}
		return b
	}
}

// appendUint appends a non-negative INTEGER. scratch must hold 21 octets.
func appendUint(b, scratch []byte, n *big.Int) []byte {
	k := (n.BitLen() + 7) / 8
	if k == 0 {
		return append(b, tagInteger, 1, 0)
	}
	v := n.FillBytes(scratch[:k])
	if v[0]&0x80 != 0 {
		b = appendHeader(b, tagInteger, int64(k+1))
		b = append(b, 0)
	} else {
		b = appendHeader(b, tagInteger, int64(k))
	}
	return append(b, v...)
}

// appendTime appends t (UTC, whole seconds) as RFC 5280 4.1.2.5 wants it:
// UTCTime YYMMDDHHMMSSZ through 2049, GeneralizedTime YYYYMMDDHHMMSSZ from
// 2050. checkTime must have accepted t.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	if year < 2050 {
		b = append(b, tagUTCTime, 13)
		b = append2(b, year%100)
	} else {
		b = append(b, tagGeneralizedTime, 15)
		b = append2(b, year/100)
		b = append2(b, year%100)
	}
	for _, v := range []int{int(month), day, hour, min, sec} {
		b = append2(b, v)
	}
	return append(b, 'Z')
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }

// checkTime checks that t can be encoded by appendTime.
func checkTime(t time.Time) error {
	if y := t.UTC().Year(); y < 1950 || y > 9999 {
		return fmt.Errorf("time %s is outside the years 1950 to 9999", t.UTC().Format(time.RFC3339))
	}
	return nil
}

// sigScheme is how an issuer key signs CRLs and OCSP responses: the
// AlgorithmIdentifier DER, the hash, and the public key.
type sigScheme struct {
	alg  []byte
	hash crypto.Hash
	pub  crypto.PublicKey
}

// Signature AlgorithmIdentifiers (RFC 4055 with NULL parameters for RSA,
// RFC 5758 without parameters for ECDSA).
var (
	algSHA256WithRSA   = []byte{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00}
	algECDSAWithSHA256 = []byte{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}
	algECDSAWithSHA384 = []byte{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}
	algECDSAWithSHA512 = []byte{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}
)

// schemeFor picks the scheme for a signer's public key, as
// signatureAlgorithmFor does for certificates.
func schemeFor(pub crypto.PublicKey) (sigScheme, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return sigScheme{algSHA256WithRSA, crypto.SHA256, k}, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return sigScheme{algECDSAWithSHA256, crypto.SHA256, k}, nil
		case elliptic.P384():
			return sigScheme{algECDSAWithSHA384, crypto.SHA384, k}, nil
		case elliptic.P521():
			return sigScheme{algECDSAWithSHA512, crypto.SHA512, k}, nil
		}
	}
	return sigScheme{}, fmt.Errorf("pki: no signature algorithm for key %T", pub)
}

// verify checks sig over digest with the scheme's public key, so that a
// faulty signer never yields a CRL or OCSP response that does not verify.
func (s sigScheme) verify(digest, sig []byte) error {
	ok := false
	switch k := s.pub.(type) {
	case *rsa.PublicKey:
		ok = rsa.VerifyPKCS1v15(k, s.hash, digest, sig) == nil
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(k, digest, sig)
	}
	if !ok {
		return errors.New("pki: the signer's signature does not verify")
	}
	return nil
}

// sigLen is the exact DER length of the signature value writeCRL commits
// to before signing: the modulus length for RSA; for ECDSA the length of an
// ECDSA-Sig-Value whose r and s together take one octet less than twice the
// longest possible integer (the most likely length; see fitECDSA).
func (s sigScheme) sigLen() int64 {
	switch k := s.pub.(type) {
	case *rsa.PublicKey:
		return int64((k.N.BitLen() + 7) / 8)
	case *ecdsa.PublicKey:
		n := k.Curve.Params().N
		l := int64(n.BitLen()/8 + 1) // content octets of the largest INTEGER below n
		content := 2 + l + 2 + (l - 1)
		return tlvLen(content)
	}
	return 0
}

// fitECDSA returns sig, or the equally valid signature (r, n-s), re-encoded,
// if one of them has exactly want octets; otherwise nil.
func fitECDSA(sig []byte, curveN *big.Int, want int64) []byte {
	if int64(len(sig)) == want {
		return sig
	}
	var v struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &v); err != nil || len(rest) > 0 || v.S == nil || v.S.Sign() <= 0 {
		return nil
	}
	v.S.Sub(curveN, v.S)
	alt, err := asn1.Marshal(v)
	if err != nil || int64(len(alt)) != want {
		return nil
	}
	return alt
}
