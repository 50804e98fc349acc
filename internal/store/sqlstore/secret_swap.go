package sqlstore

import (
	"context"
	"fmt"

	"github.com/pcad-dev/pcad/internal/store"
)

// SwapSecret implements store.Store. One statement does the compare and the
// write, so concurrent swappers (in this process or another replica) cannot
// both win.
func (s *Store) SwapSecret(ctx context.Context, name string, old, sealed []byte) error {
	q, args := "UPDATE server_secrets SET sealed = ? WHERE name = ? AND sealed = ?", []any{sealed, name, old}
	if old == nil {
		q, args = "INSERT INTO server_secrets (name, sealed) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", []any{name, sealed}
	}
	res, err := s.exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("sqlstore: swap secret: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: swap secret: %w", err)
	}
	if n != 1 {
		return store.ErrConflict
	}
	return nil
}
