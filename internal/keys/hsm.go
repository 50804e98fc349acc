package keys

import (
	"context"
	"crypto"
	"errors"
	"strings"

	"github.com/pcad-dev/pcad/internal/pca"
)

// HSMRefPrefix starts the key reference of every key an HSM holds; the rest
// is the HSM's own name for the key (for a PKCS#11 token, the key pair's
// CKA_ID in lower-case hex). Software keys, sealed in the store, have refs
// of another form ("sw:<id>").
const HSMRefPrefix = "pkcs11:"

// IsHSMRef reports whether ref names a key held by an HSM: a key whose
// private half never leaves it, so that it is neither sealed in the store
// nor exportable.
func IsHSMRef(ref string) bool { return strings.HasPrefix(ref, HSMRefPrefix) }

// Errors of HSM implementations; test with errors.Is.
var (
	// ErrKeyNotFound: the HSM holds no key under the ref (deleted, or the
	// server is connected to another token than the one that made it).
	ErrKeyNotFound = errors.New("keys: the HSM holds no such key")
	// ErrNotExportable: the key lives in an HSM and never leaves it.
	ErrNotExportable = errors.New("keys: the key is held in an HSM and cannot be exported")
)

// HSM generates private keys inside a hardware security module (or any
// PKCS#11 token) and signs with them there: the private halves never leave
// it. The crypto.Signer values it returns sign through the HSM; they are not
// Go private keys, so they cannot be marshalled, sealed or exported.
// Implementations are safe for concurrent use.
type HSM interface {
	// Generate makes a new, non-extractable key pair of alg in the HSM,
	// labelled label (a name for operators listing the token's objects, not
	// an identifier), and returns its ref (starting with HSMRefPrefix) and a
	// signer. An alg the HSM cannot make is an error.
	Generate(ctx context.Context, alg pca.Algorithm, label string) (ref string, s crypto.Signer, err error)
	// Signer returns a signer for the key ref names. A key the HSM does not
	// hold gives an error wrapping ErrKeyNotFound.
	Signer(ctx context.Context, ref string) (crypto.Signer, error)
	// Close logs out and releases the HSM; signers it returned stop working.
	Close() error
}
