//go:build !pkcs11 || !cgo

package pkcs11

import (
	"context"

	"github.com/pcad-dev/pcad/internal/keys"
)

// Built reports whether this binary has PKCS#11 support.
const Built = false

// Open always fails with ErrNotBuilt: this binary was built without the
// build tag pkcs11 (or without cgo). Build with `go build -tags pkcs11` for
// PKCS#11 support.
func Open(ctx context.Context, cfg Config) (keys.HSM, error) {
	return nil, ErrNotBuilt
}
