package service

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// MaxExportPasswordLen is the longest export password, in bytes.
const MaxExportPasswordLen = 32

// checkExportPassword accepts 1 to MaxExportPasswordLen printable ASCII
// characters other than space: letters, digits and punctuation such as
// ,.+-_#. The password never appears in a message.
func checkExportPassword(param string, password []byte) error {
	if len(password) == 0 {
		return pca.Missing(param)
	}
	if len(password) > MaxExportPasswordLen {
		return pca.Invalid(param, "The specified parameter %s is too long: at most %d characters.", param, MaxExportPasswordLen)
	}
	for _, c := range password {
		if c < 0x21 || c > 0x7e {
			return pca.Invalid(param, "The specified parameter %s is not valid: use printable ASCII letters, digits and punctuation such as ,.+-_# (no spaces).", param)
		}
	}
	return nil
}

// ExportPrivateKey returns the private key of an end-entity certificate of
// the caller's account as an "ENCRYPTED PRIVATE KEY" PEM block (PKCS#8,
// PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC) under password. Only keys
// the service generated (CreateClientCertificate, CreateServerCertificate)
// are held; any other certificate is a KindState error, and so is a CA's
// identifier (a CA's key is never exported) or a key held in an HSM. A
// non-empty resourceGroup must be the certificate's (else KindNotFound).
// Neither the password nor the key is logged or kept.
func (s *Service) ExportPrivateKey(ctx context.Context, a Actor, identifier, resourceGroup string, password []byte) ([]byte, error) {
	if err := checkExportPassword("EncryptedCode", password); err != nil {
		return nil, err
	}
	c, err := s.GetCertificate(ctx, a, identifier)
	if pca.KindOf(err) == pca.KindNotFound {
		if ca, cerr := s.store.GetCA(ctx, a.AccountID, identifier); cerr == nil {
			return nil, caKeyNotExportable(ca) // cakeys.go
		}
	}
	if err != nil {
		return nil, err
	}
	if resourceGroup != "" && resourceGroup != c.ResourceGroupID {
		return nil, pca.NotFound("Identifier", "Certificate", identifier)
	}
	if c.KeyRef == "" {
		return nil, pca.StateError("PrivateKeyNotHeld", "The certificate %q was issued from a caller's CSR: this service does not hold its private key.", identifier)
	}
	if !KeyExportable(c.KeyRef) {
		return nil, pca.StateError("PrivateKeyNotExportable", "The private key of certificate %q is held in an HSM (PKCS#11 token): it never leaves the token and cannot be exported.", identifier)
	}
	rec, err := s.store.GetKey(ctx, a.AccountID, c.KeyRef)
	if errors.Is(err, store.ErrNotFound) {
		return nil, pca.StateError("PrivateKeyNotHeld", "The private key of certificate %q is no longer held by this service.", identifier)
	}
	if err != nil {
		return nil, internal(fmt.Errorf("service: load certificate key: %w", err))
	}
	key, err := s.sealer.OpenSigner(ctx, rec.Sealed, rec.Ref)
	if err != nil {
		return nil, pca.Internal(fmt.Errorf("service: open certificate key: %w", err))
	}
	// The key must be the certificate's: never hand out another one.
	cert, err := x509.ParseCertificate(c.DER)
	if err != nil {
		return nil, pca.Internal(fmt.Errorf("service: parse certificate: %w", err))
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, pca.Internal(fmt.Errorf("service: the held key %s does not match certificate %s", rec.Ref, c.Identifier))
	}
	out, err := keys.EncryptPKCS8PEM(key, password, s.rand)
	if err != nil {
		return nil, pca.Internal(fmt.Errorf("service: encrypt key: %w", err))
	}
	return out, nil
}
