package keys

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"io"
)

// PBKDF2Iterations is the PBKDF2-HMAC-SHA256 iteration count used by
// EncryptPKCS8PEM. 600000 is the OWASP (2023) figure for PBKDF2-HMAC-SHA256;
// OpenSSL accepts any count, and one derivation costs about 125 ms on the
// development host (AMD EPYC, Go 1.26). Each export and each import pays it
// once, and so does the client opening the file.
const PBKDF2Iterations = 600000

// maxPBKDF2Iterations bounds the iteration count DecryptPKCS8PEM will run
// (about 1 s here), so an imported file cannot pin a CPU for minutes.
const maxPBKDF2Iterations = 5000000

// pemEncryptedPrivateKey is the PEM type of a PKCS#8 EncryptedPrivateKeyInfo.
const pemEncryptedPrivateKey = "ENCRYPTED PRIVATE KEY"

// ErrBadPassword is returned by DecryptPKCS8PEM when the password does not
// open the key (or the ciphertext is corrupt; PBES2 cannot tell the two apart).
var ErrBadPassword = errors.New("keys: wrong password for encrypted private key")

var (
	oidPBES2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1   = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES128CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC      = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// algorithmIdentifier is the X.509 AlgorithmIdentifier (RFC 5280 4.1.1.2).
type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// encryptedPrivateKeyInfo is RFC 5958 section 3.
type encryptedPrivateKeyInfo struct {
	EncryptionAlgorithm algorithmIdentifier
	EncryptedData       []byte
}

// pbes2Params is RFC 8018 appendix A.4.
type pbes2Params struct {
	KeyDerivationFunc algorithmIdentifier
	EncryptionScheme  algorithmIdentifier
}

// pbkdf2Params is RFC 8018 appendix A.2; only the "specified" salt choice is
// supported. An absent PRF means hmacWithSHA1.
type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int                 `asn1:"optional"`
	PRF            algorithmIdentifier `asn1:"optional"`
}

// EncryptPKCS8PEM returns key as an "ENCRYPTED PRIVATE KEY" PEM block:
// PKCS#8 (RFC 5958) encrypted with PBES2 (RFC 8018) using PBKDF2-HMAC-SHA256
// (16-byte salt from r, PBKDF2Iterations iterations) and AES-256-CBC (IV from
// r, PKCS#7 padding). `openssl pkey -passin pass:...` opens the result.
//
// This is the one path by which clear key material leaves the service, so
// callers must authorize the request before calling it.
func EncryptPKCS8PEM(key crypto.Signer, password []byte, r io.Reader) ([]byte, error) {
	if len(password) == 0 {
		return nil, errors.New("keys: empty password")
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal key: %w", err)
	}
	defer clear(der)

	saltIV := make([]byte, 16+aes.BlockSize)
	if _, err := io.ReadFull(r, saltIV); err != nil {
		return nil, fmt.Errorf("keys: salt: %w", err)
	}
	salt, iv := saltIV[:16], saltIV[16:]

	// PKCS#7: always pad, 1..16 bytes each holding the pad length.
	pad := aes.BlockSize - len(der)%aes.BlockSize
	buf := make([]byte, len(der)+pad)
	defer clear(buf)
	copy(buf, der)
	for i := len(der); i < len(buf); i++ {
		buf[i] = byte(pad)
	}

	dk, err := pbkdf2.Key(sha256.New, string(password), salt, PBKDF2Iterations, 32)
	if err != nil {
		return nil, fmt.Errorf("keys: pbkdf2: %w", err)
	}
	defer clear(dk)
	block, err := aes.NewCipher(dk)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	ct := make([]byte, len(buf))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, buf)

	kdfParams, err := asn1.Marshal(pbkdf2Params{
		Salt:           salt,
		IterationCount: PBKDF2Iterations,
		PRF:            algorithmIdentifier{Algorithm: oidHMACWithSHA256, Parameters: asn1.NullRawValue},
	})
	if err != nil {
		return nil, fmt.Errorf("keys: marshal pbkdf2 params: %w", err)
	}
	ivParam, err := asn1.Marshal(iv)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal iv: %w", err)
	}
	schemeParams, err := asn1.Marshal(pbes2Params{
		KeyDerivationFunc: algorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
		EncryptionScheme:  algorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivParam}},
	})
	if err != nil {
		return nil, fmt.Errorf("keys: marshal pbes2 params: %w", err)
	}
	out, err := asn1.Marshal(encryptedPrivateKeyInfo{
		EncryptionAlgorithm: algorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: schemeParams}},
		EncryptedData:       ct,
	})
	if err != nil {
		return nil, fmt.Errorf("keys: marshal encrypted key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemEncryptedPrivateKey, Bytes: out}), nil
}

// DecryptPKCS8PEM opens an "ENCRYPTED PRIVATE KEY" PEM block made by
// EncryptPKCS8PEM or by OpenSSL 3 defaults: PBES2 with PBKDF2 (HMAC-SHA256
// or HMAC-SHA1 PRF) and AES-128/192/256-CBC. A wrong password returns
// ErrBadPassword; an unsupported or malformed structure returns another error.
func DecryptPKCS8PEM(pemBytes, password []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != pemEncryptedPrivateKey {
		return nil, errors.New("keys: no ENCRYPTED PRIVATE KEY PEM block")
	}
	var info encryptedPrivateKeyInfo
	if err := unmarshalExact(block.Bytes, &info); err != nil {
		return nil, fmt.Errorf("keys: encrypted key: %w", err)
	}
	if !info.EncryptionAlgorithm.Algorithm.Equal(oidPBES2) {
		return nil, fmt.Errorf("keys: unsupported encryption algorithm %v (want PBES2)", info.EncryptionAlgorithm.Algorithm)
	}
	var scheme pbes2Params
	if err := unmarshalExact(info.EncryptionAlgorithm.Parameters.FullBytes, &scheme); err != nil {
		return nil, fmt.Errorf("keys: pbes2 params: %w", err)
	}
	if !scheme.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) {
		return nil, fmt.Errorf("keys: unsupported key derivation %v (want PBKDF2)", scheme.KeyDerivationFunc.Algorithm)
	}
	var kdf pbkdf2Params
	if err := unmarshalExact(scheme.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return nil, fmt.Errorf("keys: pbkdf2 params: %w", err)
	}
	var prf func() hash.Hash
	switch {
	case len(kdf.PRF.Algorithm) == 0, kdf.PRF.Algorithm.Equal(oidHMACWithSHA1):
		prf = sha1.New
	case kdf.PRF.Algorithm.Equal(oidHMACWithSHA256):
		prf = sha256.New
	default:
		return nil, fmt.Errorf("keys: unsupported PBKDF2 PRF %v", kdf.PRF.Algorithm)
	}
	if kdf.IterationCount < 1 || kdf.IterationCount > maxPBKDF2Iterations {
		return nil, fmt.Errorf("keys: PBKDF2 iteration count %d outside 1..%d", kdf.IterationCount, maxPBKDF2Iterations)
	}
	var keyLen int
	switch alg := scheme.EncryptionScheme.Algorithm; {
	case alg.Equal(oidAES128CBC):
		keyLen = 16
	case alg.Equal(oidAES192CBC):
		keyLen = 24
	case alg.Equal(oidAES256CBC):
		keyLen = 32
	default:
		return nil, fmt.Errorf("keys: unsupported cipher %v", alg)
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, fmt.Errorf("keys: PBKDF2 key length %d does not match cipher (%d)", kdf.KeyLength, keyLen)
	}
	var iv []byte
	if err := unmarshalExact(scheme.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(iv) != aes.BlockSize {
		return nil, errors.New("keys: bad AES-CBC IV")
	}
	ct := info.EncryptedData
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, errors.New("keys: encrypted data is not a whole number of AES blocks")
	}

	dk, err := pbkdf2.Key(prf, string(password), kdf.Salt, kdf.IterationCount, keyLen)
	if err != nil {
		return nil, fmt.Errorf("keys: pbkdf2: %w", err)
	}
	defer clear(dk)
	c, err := aes.NewCipher(dk)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	pt := make([]byte, len(ct))
	defer clear(pt)
	cipher.NewCBCDecrypter(c, iv).CryptBlocks(pt, ct)

	// A wrong password leaves random bytes: the padding check catches all
	// but about 1 in 256 cases and the PKCS#8 parse catches the rest.
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, ErrBadPassword
	}
	for _, b := range pt[len(pt)-pad:] {
		if int(b) != pad {
			return nil, ErrBadPassword
		}
	}
	k, err := x509.ParsePKCS8PrivateKey(pt[:len(pt)-pad])
	if err != nil {
		return nil, ErrBadPassword
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: key of type %T is not a signer", k)
	}
	return signer, nil
}

// unmarshalExact decodes DER into v and rejects trailing bytes.
func unmarshalExact(der []byte, v any) error {
	rest, err := asn1.Unmarshal(der, v)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("trailing data after ASN.1 value")
	}
	return nil
}
