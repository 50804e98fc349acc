//go:build pkcs11 && cgo

package pkcs11

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ThalesGroup/crypto11"
	p11 "github.com/miekg/pkcs11"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/pca"
)

// Built reports whether this binary has PKCS#11 support.
const Built = true

// idSize is the size of the CKA_ID given to each generated key pair.
const idSize = 16

// Token is a logged-in PKCS#11 token; it implements keys.HSM and is safe
// for concurrent use (crypto11 keeps a pool of sessions).
type Token struct {
	c    *crypto11.Context
	name string // for messages: the token and module
}

var _ keys.HSM = (*Token)(nil)

// Open loads cfg's module, finds its token and logs in with the PIN. The
// errors say which step failed: ErrModule (the module does not load),
// ErrTokenNotFound (no slot holds the token; the message lists the labels
// of the tokens present), ErrPIN (the PIN was refused). The PIN never
// appears in a message. PKCS#11 keeps one login per token and process: a
// second Open of a token this process has open is not checked against the
// PIN.
//
// Open returns a keys.HSM in every build; built without the tag pkcs11 it
// returns ErrNotBuilt.
func Open(ctx context.Context, cfg Config) (keys.HSM, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(cfg.Module); err != nil {
		return nil, fmt.Errorf("pkcs11: %w: %s: %w", ErrModule, cfg.Module, err)
	}
	pin, err := cfg.pin()
	if err != nil {
		return nil, err
	}
	c, err := crypto11.Configure(&crypto11.Config{Path: cfg.Module, TokenLabel: cfg.Token, TokenSerial: cfg.Serial, Pin: pin})
	if err != nil {
		return nil, openError(cfg, err)
	}
	return &Token{c: c, name: fmt.Sprintf("%s of module %s", cfg.tokenName(), cfg.Module)}, nil
}

// errTokenNotFoundText is crypto11's (unexported) error for a token that no
// slot holds.
const errTokenNotFoundText = "could not find PKCS#11 token"

// openError classifies an error of crypto11.Configure.
func openError(cfg Config, err error) error {
	var code p11.Error
	switch {
	case err.Error() == errTokenNotFoundText:
		have := "no token at all"
		if labels, lerr := tokenLabels(cfg.Module); lerr == nil && len(labels) > 0 {
			have = "tokens labelled " + strings.Join(labels, ", ")
		}
		return fmt.Errorf("pkcs11: %w: no slot of module %s holds the %s (it has %s)", ErrTokenNotFound, cfg.Module, cfg.tokenName(), have)
	case errors.As(err, &code) && isPINError(code):
		return fmt.Errorf("pkcs11: %w: the %s of module %s refused the user PIN (%s)", ErrPIN, cfg.tokenName(), cfg.Module, pinReason(code))
	case strings.Contains(err.Error(), "failed to create module context"):
		return fmt.Errorf("pkcs11: %w: %s: %w", ErrModule, cfg.Module, err)
	}
	return fmt.Errorf("pkcs11: open the %s of module %s: %w", cfg.tokenName(), cfg.Module, err)
}

func isPINError(code p11.Error) bool {
	switch code {
	case p11.CKR_PIN_INCORRECT, p11.CKR_PIN_INVALID, p11.CKR_PIN_LEN_RANGE, p11.CKR_PIN_EXPIRED, p11.CKR_PIN_LOCKED,
		p11.CKR_USER_PIN_NOT_INITIALIZED:
		return true
	}
	return false
}

func pinReason(code p11.Error) string {
	switch code {
	case p11.CKR_PIN_LOCKED:
		return "the PIN is locked after too many failed logins: the security officer must unlock it"
	case p11.CKR_PIN_EXPIRED:
		return "the PIN has expired: set a new one"
	case p11.CKR_USER_PIN_NOT_INITIALIZED:
		return "the token has no user PIN yet: initialise it"
	}
	name := code.Error()
	if i := strings.LastIndex(name, "CKR_"); i >= 0 {
		name = name[i:]
	}
	return "wrong PIN: " + name
}

// tokenName names the token for messages: `token "label"` or `token with
// serial "serial"`.
func (c Config) tokenName() string {
	if c.Token != "" {
		return fmt.Sprintf("token %q", c.Token)
	}
	return fmt.Sprintf("token with serial %q", c.Serial)
}

// pin returns the PIN: PIN, or the first line of PINFile.
func (c Config) pin() (string, error) {
	if c.PINFile == "" {
		return c.PIN, nil
	}
	b, err := os.ReadFile(c.PINFile)
	if err != nil {
		return "", fmt.Errorf("pkcs11: read pin-file: %w", err)
	}
	defer clear(b)
	pin, _, _ := strings.Cut(string(b), "\n")
	pin = strings.TrimSuffix(pin, "\r")
	if pin == "" {
		return "", fmt.Errorf("pkcs11: pin-file %s: the first line is empty", c.PINFile)
	}
	return pin, nil
}

// tokenLabels lists the labels of the tokens present in the module's slots,
// for the message of a token not found. It loads the module on its own
// handle and finalises it only if no one else in the process has it
// initialised.
func tokenLabels(module string) ([]string, error) {
	m := p11.New(module)
	if m == nil {
		return nil, errors.New("pkcs11: module does not load")
	}
	defer m.Destroy()
	switch err := m.Initialize(); {
	case err == nil:
		defer m.Finalize()
	case errors.Is(err, p11.Error(p11.CKR_CRYPTOKI_ALREADY_INITIALIZED)):
	default:
		return nil, err
	}
	slots, err := m.GetSlotList(true)
	if err != nil {
		return nil, err
	}
	var labels []string
	for _, s := range slots {
		ti, err := m.GetTokenInfo(s)
		if err != nil {
			return nil, err
		}
		if ti.Flags&p11.CKF_TOKEN_INITIALIZED != 0 { // not the free slot
			labels = append(labels, fmt.Sprintf("%q", ti.Label))
		}
	}
	return labels, nil
}

// Generate makes a key pair of alg in the token: CKA_TOKEN (persistent),
// CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE, for signing only (no
// decrypt, unwrap or derive), with a random 16-byte CKA_ID and CKA_LABEL
// label. A token that reports the private key extractable or not
// sensitive despite that template is refused: the key is deleted.
func (t *Token) Generate(ctx context.Context, alg pca.Algorithm, label string) (string, crypto.Signer, error) {
	if err := ctx.Err(); err != nil {
		return "", nil, err
	}
	id := make([]byte, idSize)
	if _, err := io.ReadFull(rand.Reader, id); err != nil {
		return "", nil, fmt.Errorf("pkcs11: key id: %w", err)
	}
	if label == "" {
		label = "pcad key"
	}
	pub, err := crypto11.NewAttributeSetWithIDAndLabel(id, []byte(label))
	if err != nil {
		return "", nil, fmt.Errorf("pkcs11: %w", err)
	}
	priv := pub.Copy()
	for _, a := range []struct {
		set   crypto11.AttributeSet
		typ   crypto11.AttributeType
		value bool
	}{
		{pub, p11.CKA_TOKEN, true}, {pub, p11.CKA_VERIFY, true}, {pub, p11.CKA_ENCRYPT, false}, {pub, p11.CKA_WRAP, false},
		{priv, p11.CKA_TOKEN, true}, {priv, p11.CKA_PRIVATE, true}, {priv, p11.CKA_SIGN, true},
		{priv, p11.CKA_SENSITIVE, true}, {priv, p11.CKA_EXTRACTABLE, false},
		{priv, p11.CKA_DECRYPT, false}, {priv, p11.CKA_UNWRAP, false}, {priv, p11.CKA_DERIVE, false},
	} {
		if err := a.set.Set(a.typ, a.value); err != nil {
			return "", nil, fmt.Errorf("pkcs11: key template: %w", err)
		}
	}
	var s crypto11.Signer
	switch alg {
	case pca.RSA2048, pca.RSA4096:
		s, err = t.c.GenerateRSAKeyPairWithAttributes(pub, priv, alg.Bits())
	case pca.ECC256:
		s, err = t.c.GenerateECDSAKeyPairWithAttributes(pub, priv, elliptic.P256())
	case pca.ECC384:
		s, err = t.c.GenerateECDSAKeyPairWithAttributes(pub, priv, elliptic.P384())
	case pca.ECC512:
		s, err = t.c.GenerateECDSAKeyPairWithAttributes(pub, priv, elliptic.P521())
	default:
		return "", nil, fmt.Errorf("pkcs11: cannot generate a %s key in the token: use RSA_2048, RSA_4096, ECC_256, ECC_384 or ECC_512", alg)
	}
	if err != nil {
		return "", nil, fmt.Errorf("pkcs11: generate a %s key in the %s: %w", alg, t.name, err)
	}
	ref := keys.HSMRefPrefix + hex.EncodeToString(id)
	if err := t.checkProtected(s); err != nil {
		if derr := s.Delete(); derr != nil {
			err = fmt.Errorf("%w (and deleting it failed: %w)", err, derr)
		}
		return "", nil, fmt.Errorf("pkcs11: key %s: %w", ref, err)
	}
	return ref, &signer{s: s}, nil
}

// checkProtected reads back the private key's protection attributes.
func (t *Token) checkProtected(s crypto11.Signer) error {
	attrs, err := t.c.GetAttributes(s, []crypto11.AttributeType{p11.CKA_SENSITIVE, p11.CKA_EXTRACTABLE})
	if err != nil {
		return fmt.Errorf("read the key's attributes: %w", err)
	}
	sensitive, extractable := attrs[p11.CKA_SENSITIVE], attrs[p11.CKA_EXTRACTABLE]
	if sensitive == nil || extractable == nil || !isTrue(sensitive.Value) || isTrue(extractable.Value) {
		return errors.New("the token made the private key extractable or not sensitive, against the template; it was deleted")
	}
	return nil
}

// isTrue reads a CK_BBOOL attribute value.
func isTrue(v []byte) bool { return len(v) == 1 && v[0] != 0 }

// Signer finds the key pair whose CKA_ID ref carries.
func (t *Token) Signer(ctx context.Context, ref string) (crypto.Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	id, err := parseRef(ref)
	if err != nil {
		return nil, err
	}
	found, err := t.c.FindKeyPairs(id, nil)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: find key %s in the %s: %w", ref, t.name, err)
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("pkcs11: %w: the %s has no key pair with CKA_ID %x (key %s)", keys.ErrKeyNotFound, t.name, id, ref)
	case 1:
		return &signer{s: found[0]}, nil
	}
	return nil, fmt.Errorf("pkcs11: the %s has %d key pairs with CKA_ID %x (key %s): remove the copies", t.name, len(found), id, ref)
}

// parseRef returns the CKA_ID of a ref made by Generate.
func parseRef(ref string) ([]byte, error) {
	h, ok := strings.CutPrefix(ref, keys.HSMRefPrefix)
	id, err := hex.DecodeString(h)
	if !ok || err != nil || len(id) == 0 {
		return nil, fmt.Errorf("pkcs11: %q is not a PKCS#11 key ref (%s<hex CKA_ID>)", ref, keys.HSMRefPrefix)
	}
	return id, nil
}

// Close logs out and releases the token (and the module, when no other
// Token of this process uses it).
func (t *Token) Close() error {
	if err := t.c.Close(); err != nil {
		return fmt.Errorf("pkcs11: close the %s: %w", t.name, err)
	}
	return nil
}

// signer signs with a key in the token. It exposes only crypto.Signer: the
// crypto11 handle (which could delete the key) stays here.
type signer struct{ s crypto11.Signer }

// Public returns the key pair's public key (*rsa.PublicKey or *ecdsa.PublicKey).
func (k *signer) Public() crypto.PublicKey { return k.s.Public() }

// Sign signs digest in the token; rand is not used (the token draws its
// own randomness). RSA signs PKCS #1 v1.5, or PSS when opts is
// *rsa.PSSOptions; ECDSA returns an ASN.1 DER signature.
func (k *signer) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	sig, err := k.s.Sign(rand, digest, opts)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: sign: %w", err)
	}
	return sig, nil
}
