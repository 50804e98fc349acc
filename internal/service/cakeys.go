package service

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// Where CA keys live. A CA's key is either software (generated here, sealed
// in the store under the keyring, ref "sw:...") or held by the HSM
// (generated in the token, never leaving it, ref keys.HSMRefPrefix...). The
// service sees only the ref and a crypto.Signer: keys.IsHSMRef picks the
// provider. Keys of end-entity certificates are always software.

// KeyStore says where a new CA key is generated.
type KeyStore string

const (
	// KeyStoreDefault leaves the choice to the server (Config.CAKeyStore).
	KeyStoreDefault KeyStore = ""
	// KeyStoreSoftware: generated in the service, sealed in the store.
	KeyStoreSoftware KeyStore = "SOFTWARE"
	// KeyStoreHSM: generated in the HSM (Config.HSM), non-extractable.
	KeyStoreHSM KeyStore = "HSM"
)

// CAKeyStoreOf says where ca's private key is: KeyStoreHSM or
// KeyStoreSoftware, or KeyStoreDefault ("") for an external CA, whose key
// pcad does not hold.
func CAKeyStoreOf(ca pca.CA) KeyStore {
	switch {
	case ca.KeyRef == "":
		return KeyStoreDefault
	case keys.IsHSMRef(ca.KeyRef):
		return KeyStoreHSM
	}
	return KeyStoreSoftware
}

// KeyExportable reports whether the private key a certificate's ref names
// can be exported (DescribeCertificatePrivateKey): only a software key the
// service holds. A key in an HSM never can.
func KeyExportable(ref string) bool { return ref != "" && !keys.IsHSMRef(ref) }

// checkCAKeyStoreConfig validates Config.CAKeyStore against Config.HSM.
func checkCAKeyStoreConfig(ks KeyStore, hsm keys.HSM) (KeyStore, error) {
	switch ks {
	case KeyStoreDefault, KeyStoreSoftware:
		return KeyStoreSoftware, nil
	case KeyStoreHSM:
		if hsm == nil {
			return "", errors.New("service: the default CA key store is HSM, but no HSM is configured")
		}
		return KeyStoreHSM, nil
	}
	return "", fmt.Errorf("service: unknown CA key store %q (want %s or %s)", ks, KeyStoreSoftware, KeyStoreHSM)
}

// caKeyStore resolves the key store a create call asked for (its KeyStore
// parameter; empty = the server's default).
func (s *Service) caKeyStore(ks KeyStore) (KeyStore, error) {
	switch ks {
	case KeyStoreDefault:
		return s.caKeys, nil
	case KeyStoreSoftware:
		return ks, nil
	case KeyStoreHSM:
		if s.hsm == nil {
			return "", pca.Invalid("KeyStore", "The specified parameter KeyStore value HSM is not available: this server has no PKCS#11 token configured for CA keys (pcad serve --kms).")
		}
		return ks, nil
	}
	return "", pca.Invalid("KeyStore", "The specified parameter KeyStore is not valid: %q is not one of %s, %s.", string(ks), KeyStoreSoftware, KeyStoreHSM)
}

// caKey is a new CA's key: its signer and ref, and the record to store with
// the CA (sealed, for a software key; none, with an empty Ref, for an HSM
// key, which the store does not hold).
type caKey struct {
	signer crypto.Signer
	ref    string
	rec    store.KeyRecord
}

// newCAKey generates the key of a new CA of alg for a in ks (resolved by
// caKeyStore). label names an HSM key for operators.
func (s *Service) newCAKey(ctx context.Context, a Actor, ks KeyStore, alg pca.Algorithm, label string) (caKey, error) {
	if ks == KeyStoreHSM {
		ref, sg, err := s.hsm.Generate(ctx, alg, hsmLabel(label))
		if err != nil {
			return caKey{}, pca.Internal(fmt.Errorf("service: generate the CA key in the HSM: %w", err))
		}
		return caKey{signer: sg, ref: ref}, nil
	}
	sg, err := s.generateKey(ctx, a, alg)
	if err != nil {
		return caKey{}, internal(err)
	}
	rec, err := s.sealKey(a.AccountID, alg, sg)
	if err != nil {
		return caKey{}, err
	}
	return caKey{signer: sg, ref: rec.Ref, rec: rec}, nil
}

// hsmLabel is the CKA_LABEL of a CA key: "pcad CA " and the CA's common
// name, at most 64 bytes, cut at a character boundary.
func hsmLabel(cn string) string {
	l := "pcad CA " + cn
	for len(l) > 64 {
		_, n := utf8.DecodeLastRuneInString(l)
		l = l[:len(l)-n]
	}
	return l
}

// noteUnusedCAKey logs, when *err is set, an HSM key generated for a CA
// that was then not created. The key stays in the token: it is never
// deleted here, in case the CA was stored after all (an ambiguous commit).
func (s *Service) noteUnusedCAKey(k caKey, err *error) {
	if *err != nil && keys.IsHSMRef(k.ref) {
		s.log.Warn("a CA key generated in the HSM is unused: the CA was not created; the key may be deleted from the token",
			"key_ref", k.ref, "err", *err)
	}
}

// hsmSigner returns the signer of an HSM key.
func (s *Service) hsmSigner(ctx context.Context, ref string) (crypto.Signer, error) {
	if s.hsm == nil {
		return nil, pca.Internal(fmt.Errorf("service: the CA key %s is held in a PKCS#11 token, and this server has no HSM configured", ref))
	}
	sg, err := s.hsm.Signer(ctx, ref)
	if err != nil {
		return nil, pca.Internal(fmt.Errorf("service: open CA key: %w", err))
	}
	return sg, nil
}

// CheckCAKeys checks, reading only, that every CA not yet expired whose
// key is in an HSM can sign here: an HSM is configured, it holds the key,
// and the key's public half is the one in the CA's certificate. The keys
// found are kept for signing. pcad serve runs it at start, so that a server
// connected to the wrong token, or to none, refuses to start instead of
// failing later to sign certificates, CRLs and OCSP answers.
func (s *Service) CheckCAKeys(ctx context.Context) error {
	cas, err := s.store.AllCAs(ctx)
	if err != nil {
		return fmt.Errorf("service: check CA keys: %w", err)
	}
	now := s.now()
	var held []pca.CA
	for _, ca := range cas {
		if keys.IsHSMRef(ca.KeyRef) && now.Before(ca.NotAfter) {
			held = append(held, ca)
		}
	}
	if len(held) == 0 {
		return nil
	}
	if s.hsm == nil {
		return fmt.Errorf("service: %d CA(s) keep their keys in a PKCS#11 token (for example CA %s of account %d, key %s), and no HSM is configured: start with the token that holds them",
			len(held), held[0].Identifier, held[0].AccountID, held[0].KeyRef)
	}
	var bad []string
	for _, ca := range held {
		if err := s.checkCAKey(ctx, ca); err != nil {
			bad = append(bad, err.Error())
		}
	}
	if len(bad) > 0 {
		more := ""
		if len(bad) > 3 {
			more = fmt.Sprintf("; and %d more", len(bad)-3)
			bad = bad[:3]
		}
		return fmt.Errorf("service: %d of the %d CAs whose keys are in the HSM cannot sign with this token: %s%s",
			len(bad), len(held), strings.Join(bad, "; "), more)
	}
	return nil
}

// checkCAKey finds ca's HSM key, checks it against the certificate and
// keeps it for signing.
func (s *Service) checkCAKey(ctx context.Context, ca pca.CA) error {
	sg, err := s.hsm.Signer(ctx, ca.KeyRef)
	if err != nil {
		return fmt.Errorf("CA %s (account %d): %w", ca.Identifier, ca.AccountID, err)
	}
	cert, err := x509.ParseCertificate(ca.DER)
	if err != nil {
		return fmt.Errorf("CA %s (account %d): parse certificate: %w", ca.Identifier, ca.AccountID, err)
	}
	pub, ok := sg.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return fmt.Errorf("CA %s (account %d): the token's key %s is not the key of the CA certificate", ca.Identifier, ca.AccountID, ca.KeyRef)
	}
	s.mu.Lock()
	s.signers[ca.KeyRef] = sg
	s.mu.Unlock()
	return nil
}

// caKeyNotExportable is the answer to an export of a CA's key.
func caKeyNotExportable(ca pca.CA) error {
	switch CAKeyStoreOf(ca) {
	case KeyStoreHSM:
		return pca.StateError("PrivateKeyNotExportable", "The identifier %q names a CA whose private key is held in an HSM (PKCS#11 token): it never leaves the token and cannot be exported.", ca.Identifier)
	case KeyStoreSoftware:
		return pca.StateError("PrivateKeyNotExportable", "The identifier %q names a CA: pcad never exports a CA's private key.", ca.Identifier)
	}
	return pca.StateError("PrivateKeyNotHeld", "The identifier %q names an external CA: this service does not hold its private key.", ca.Identifier)
}
