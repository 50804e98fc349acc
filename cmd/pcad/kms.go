package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/keys/pkcs11"
	"github.com/pcad-dev/pcad/internal/service"
)

// CA keys in a PKCS#11 token: --kms names the token, --ca-key-store says
// whether new CA keys go there by default (each CA create call may say
// otherwise with KeyStore=HSM|SOFTWARE). PKCS#11 needs a build with
// -tags pkcs11 (cgo); other builds refuse --kms with a message saying so.

// Values of --ca-key-store.
const (
	caKeyStoreSoftware = "software"
	caKeyStoreHSM      = "hsm"
)

// checkKMSFlags validates --kms (its syntax only: the token is opened by
// newApp) and --ca-key-store. Messages never show the --kms value, which
// may carry a PIN.
func checkKMSFlags(c *config) error {
	switch strings.ToLower(c.CAKeyStore) {
	case "", caKeyStoreSoftware:
		c.CAKeyStore = caKeyStoreSoftware
	case caKeyStoreHSM:
		c.CAKeyStore = caKeyStoreHSM
		if c.KMS == "" {
			return errors.New("--ca-key-store hsm needs --kms (PCAD_KMS) naming the PKCS#11 token")
		}
	default:
		return fmt.Errorf("--ca-key-store must be %s or %s, got %q", caKeyStoreSoftware, caKeyStoreHSM, c.CAKeyStore)
	}
	if c.KMS != "" {
		if _, err := pkcs11.ParseURI(c.KMS); err != nil {
			return fmt.Errorf("--kms: %w", err)
		}
	}
	return nil
}

// openKMS opens the PKCS#11 token --kms names and logs in (nil without
// --kms). newApp calls it first, so that a missing module or token, or a
// wrong PIN, refuses the start before the store is opened or anything is
// written. The error says which of these failed.
func openKMS(ctx context.Context, cfg config) (keys.HSM, error) {
	if cfg.KMS == "" {
		return nil, nil
	}
	pc, err := pkcs11.ParseURI(cfg.KMS)
	if err != nil {
		return nil, fmt.Errorf("--kms: %w", err)
	}
	h, err := pkcs11.Open(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("--kms: %w", err)
	}
	return h, nil
}

// serviceKeyStore maps --ca-key-store to the service's default key store.
func serviceKeyStore(cfg config) service.KeyStore {
	if cfg.CAKeyStore == caKeyStoreHSM {
		return service.KeyStoreHSM
	}
	return service.KeyStoreSoftware
}
