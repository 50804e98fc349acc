package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pcad-dev/pcad/internal/store"
)

// ClaimIdempotency implements store.LifecycleStore.
func (s *Store) ClaimIdempotency(ctx context.Context, accountID int64, action, token, fingerprint string, now time.Time) (store.Idempotency, bool, error) {
	res, err := s.exec(ctx, `INSERT INTO idempotency (account_id, action, token, fingerprint, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account_id, action, token) DO NOTHING`, accountID, action, token, fingerprint, ms(now))
	if err != nil {
		return store.Idempotency{}, false, fmt.Errorf("sqlstore: claim token: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return store.Idempotency{}, false, fmt.Errorf("sqlstore: claim token: %w", err)
	} else if n == 1 {
		return store.Idempotency{Fingerprint: fingerprint}, true, nil
	}
	var rec store.Idempotency
	err = s.db.QueryRowContext(ctx, "SELECT fingerprint, response FROM idempotency WHERE account_id = ? AND action = ? AND token = ?",
		accountID, action, token).Scan(&rec.Fingerprint, &rec.Response)
	if errors.Is(err, sql.ErrNoRows) {
		// Released between our insert and read: claim again.
		return s.ClaimIdempotency(ctx, accountID, action, token, fingerprint, now)
	}
	if err != nil {
		return store.Idempotency{}, false, fmt.Errorf("sqlstore: read token: %w", err)
	}
	return rec, false, nil
}

// CompleteIdempotency implements store.LifecycleStore.
func (s *Store) CompleteIdempotency(ctx context.Context, accountID int64, action, token string, response []byte) error {
	res, err := s.exec(ctx, "UPDATE idempotency SET response = ? WHERE account_id = ? AND action = ? AND token = ?",
		response, accountID, action, token)
	return affectedOne(res, err, "complete token")
}

// ReleaseIdempotency implements store.LifecycleStore.
func (s *Store) ReleaseIdempotency(ctx context.Context, accountID int64, action, token string) error {
	if _, err := s.exec(ctx, "DELETE FROM idempotency WHERE account_id = ? AND action = ? AND token = ? AND response IS NULL",
		accountID, action, token); err != nil {
		return fmt.Errorf("sqlstore: release token: %w", err)
	}
	return nil
}
