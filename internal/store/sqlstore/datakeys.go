package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pcad-dev/pcad/internal/store"
)

// ListDataKeys implements store.DataKeyStore.
func (s *Store) ListDataKeys(ctx context.Context) ([]store.DataKey, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, wrapped, master_fingerprint, created_at FROM data_keys ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list data keys: %w", err)
	}
	defer rows.Close()
	var out []store.DataKey
	for rows.Next() {
		k, err := scanDataKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list data keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list data keys: %w", err)
	}
	return out, nil
}

// GetDataKey implements store.DataKeyStore.
func (s *Store) GetDataKey(ctx context.Context, id int64) (store.DataKey, error) {
	k, err := scanDataKey(s.db.QueryRowContext(ctx, "SELECT id, wrapped, master_fingerprint, created_at FROM data_keys WHERE id = ?", id))
	if err != nil {
		return store.DataKey{}, fmt.Errorf("sqlstore: get data key %d: %w", id, notFound(err))
	}
	return k, nil
}

func scanDataKey(row interface{ Scan(...any) error }) (store.DataKey, error) {
	var k store.DataKey
	var created int64
	if err := row.Scan(&k.ID, &k.Wrapped, &k.MasterFingerprint, &created); err != nil {
		return store.DataKey{}, err
	}
	k.Created = fromMS(created)
	return k, nil
}

// InsertDataKey implements store.DataKeyStore. The conflict rule makes the
// check and the write one statement, so of concurrent inserts of one id
// exactly one stores its key.
func (s *Store) InsertDataKey(ctx context.Context, k store.DataKey) error {
	if k.ID <= 0 || len(k.Wrapped) == 0 || k.MasterFingerprint == "" {
		return fmt.Errorf("sqlstore: insert data key: id, wrapped key and fingerprint are required")
	}
	res, err := s.exec(ctx, `INSERT INTO data_keys (id, wrapped, master_fingerprint, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, k.ID, k.Wrapped, k.MasterFingerprint, ms(k.Created))
	if err != nil {
		return fmt.Errorf("sqlstore: insert data key %d: %w", k.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: insert data key %d: %w", k.ID, err)
	}
	if n != 1 {
		return fmt.Errorf("sqlstore: insert data key %d: %w", k.ID, store.ErrConflict)
	}
	return nil
}

// RewrapDataKey implements store.DataKeyStore.
func (s *Store) RewrapDataKey(ctx context.Context, id int64, oldFingerprint string, wrapped []byte, fingerprint string) error {
	if len(wrapped) == 0 || fingerprint == "" {
		return fmt.Errorf("sqlstore: rewrap data key %d: wrapped key and fingerprint are required", id)
	}
	res, err := s.exec(ctx, "UPDATE data_keys SET wrapped = ?, master_fingerprint = ? WHERE id = ? AND master_fingerprint = ?",
		wrapped, fingerprint, id, oldFingerprint)
	if err != nil {
		return fmt.Errorf("sqlstore: rewrap data key %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: rewrap data key %d: %w", id, err)
	} else if n == 1 {
		return nil
	}
	if _, err := s.GetDataKey(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("sqlstore: rewrap data key %d: its master fingerprint is no longer %s: %w", id, oldFingerprint, store.ErrConflict)
}

// sealedColumns names the table, key column and sealed column of a kind.
func sealedColumns(kind store.SealedKind) (table, idCol, valCol string, err error) {
	switch kind {
	case store.SealedPrivateKey:
		return "private_keys", "ref", "sealed", nil
	case store.SealedAccessKey:
		return "access_keys", "id", "secret_sealed", nil
	case store.SealedSecret:
		return "server_secrets", "name", "sealed", nil
	}
	return "", "", "", fmt.Errorf("sqlstore: unknown sealed kind %v", kind)
}

// maxSealedPage bounds ListSealedValues' limit.
const maxSealedPage = 1000

// ListSealedValues implements store.DataKeyStore. Key columns compare bytes
// on both engines (SQLite's BINARY collation, COLLATE "C" on PostgreSQL), so
// the pages follow byte order and the primary key serves the range scan.
func (s *Store) ListSealedValues(ctx context.Context, kind store.SealedKind, after string, limit int) ([]store.SealedValue, error) {
	table, idCol, valCol, err := sealedColumns(kind)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > maxSealedPage {
		return nil, fmt.Errorf("sqlstore: list sealed values: limit must be 1..%d, got %d", maxSealedPage, limit)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+idCol+", "+valCol+" FROM "+table+" WHERE "+idCol+" > ? ORDER BY "+idCol+" LIMIT ?", after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list %ss: %w", kind, err)
	}
	defer rows.Close()
	var out []store.SealedValue
	for rows.Next() {
		v := store.SealedValue{Kind: kind}
		if err := rows.Scan(&v.ID, &v.Sealed); err != nil {
			return nil, fmt.Errorf("sqlstore: list %ss: %w", kind, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list %ss: %w", kind, err)
	}
	return out, nil
}

// SwapSealedValue implements store.DataKeyStore. One statement does the
// compare and the write, so a concurrent writer of the same value (the
// audit head moving on) makes one of the two fail rather than be lost.
func (s *Store) SwapSealedValue(ctx context.Context, kind store.SealedKind, id string, old, sealed []byte) error {
	table, idCol, valCol, err := sealedColumns(kind)
	if err != nil {
		return err
	}
	if len(sealed) == 0 {
		return fmt.Errorf("sqlstore: swap %s %q: empty value", kind, id)
	}
	res, err := s.exec(ctx, "UPDATE "+table+" SET "+valCol+" = ? WHERE "+idCol+" = ? AND "+valCol+" = ?", sealed, id, old)
	if err != nil {
		return fmt.Errorf("sqlstore: swap %s: %w", kind, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: swap %s: %w", kind, err)
	} else if n == 1 {
		return nil
	}
	var one int
	err = s.db.QueryRowContext(ctx, "SELECT 1 FROM "+table+" WHERE "+idCol+" = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("sqlstore: swap %s: %w", kind, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: swap %s: %w", kind, err)
	}
	return fmt.Errorf("sqlstore: swap %s: the stored value changed: %w", kind, store.ErrConflict)
}
