package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// CountAccounts implements store.Store.
func (s *Store) CountAccounts(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM accounts").Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count accounts: %w", err)
	}
	return n, nil
}

// CreateAccount implements store.Store.
func (s *Store) CreateAccount(ctx context.Context, name string, key store.AccessKeyRecord, now time.Time) (pca.Account, pca.Principal, error) {
	a := pca.Account{Name: name, Created: now.UTC().Truncate(time.Millisecond)}
	p := pca.Principal{Name: "owner", Owner: true}
	err := s.inTx(ctx, func(tx *sqlTx) error {
		// Account UIDs are long numbers, as Alibaba's are; start far from 1.
		// MAX(id)+1 is a read-then-write: serialise it.
		if err := tx.lock(ctx, "accounts"); err != nil {
			return err
		}
		var maxID sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT MAX(id) FROM accounts").Scan(&maxID); err != nil {
			return fmt.Errorf("sqlstore: next account id: %w", err)
		}
		a.ID = 1000000000000001
		if maxID.Valid {
			a.ID = maxID.Int64 + 1
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO accounts (id, name, created_at) VALUES (?, ?, ?)", a.ID, name, ms(now)); err != nil {
			return fmt.Errorf("sqlstore: insert account: %w", err)
		}
		var err error
		p.ID, err = tx.insertID(ctx, "INSERT INTO principals (account_id, name, owner, created_at) VALUES (?, ?, 1, ?)", a.ID, p.Name, ms(now))
		if err != nil {
			return fmt.Errorf("sqlstore: insert principal: %w", err)
		}
		p.AccountID = a.ID
		_, err = tx.ExecContext(ctx, `INSERT INTO access_keys (id, account_id, principal_id, secret_sealed, active, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, key.ID, a.ID, p.ID, key.SecretSealed, boolInt(key.Active), ms(now))
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore: insert access key: %w", err)
		}
		return nil
	})
	if err != nil {
		return pca.Account{}, pca.Principal{}, err
	}
	return a, p, nil
}

// GetAccessKey implements store.Store.
func (s *Store) GetAccessKey(ctx context.Context, id string) (store.AccessKeyRecord, error) {
	var k store.AccessKeyRecord
	var active int
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, account_id, principal_id, secret_sealed, active, created_at
		FROM access_keys WHERE id = ?`, id).Scan(&k.ID, &k.AccountID, &k.PrincipalID, &k.SecretSealed, &active, &created)
	if err != nil {
		return store.AccessKeyRecord{}, fmt.Errorf("sqlstore: get access key: %w", notFound(err))
	}
	k.Active = active == 1
	k.Created = fromMS(created)
	return k, nil
}

// GetSecret implements store.Store.
func (s *Store) GetSecret(ctx context.Context, name string) ([]byte, error) {
	var b []byte
	if err := s.db.QueryRowContext(ctx, "SELECT sealed FROM server_secrets WHERE name = ?", name).Scan(&b); err != nil {
		return nil, fmt.Errorf("sqlstore: get secret: %w", notFound(err))
	}
	return b, nil
}

// PutSecretIfAbsent implements store.Store.
func (s *Store) PutSecretIfAbsent(ctx context.Context, name string, sealed []byte) ([]byte, error) {
	if _, err := s.exec(ctx, "INSERT INTO server_secrets (name, sealed) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", name, sealed); err != nil {
		return nil, fmt.Errorf("sqlstore: put secret: %w", err)
	}
	return s.GetSecret(ctx, name)
}

// PutKey implements store.Store.
func (s *Store) PutKey(ctx context.Context, k store.KeyRecord) error {
	return putKey(ctx, s.db, k)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func putKey(ctx context.Context, db execer, k store.KeyRecord) error {
	_, err := db.ExecContext(ctx, "INSERT INTO private_keys (ref, account_id, algorithm, sealed, created_at) VALUES (?, ?, ?, ?, ?)",
		k.Ref, k.AccountID, string(k.Algorithm), k.Sealed, ms(k.Created))
	if isUnique(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: put key: %w", err)
	}
	return nil
}

// GetKey implements store.Store.
func (s *Store) GetKey(ctx context.Context, accountID int64, ref string) (store.KeyRecord, error) {
	k := store.KeyRecord{Ref: ref, AccountID: accountID}
	var alg string
	var created int64
	err := s.db.QueryRowContext(ctx, "SELECT algorithm, sealed, created_at FROM private_keys WHERE account_id = ? AND ref = ?",
		accountID, ref).Scan(&alg, &k.Sealed, &created)
	if err != nil {
		return store.KeyRecord{}, fmt.Errorf("sqlstore: get key: %w", notFound(err))
	}
	k.Algorithm = pca.Algorithm(alg)
	k.Created = fromMS(created)
	return k, nil
}

// ReserveSerial implements store.Store.
func (s *Store) ReserveSerial(ctx context.Context, issuerID int64, serial string, now time.Time) error {
	_, err := s.exec(ctx, "INSERT INTO serials (issuer_id, serial, reserved_at) VALUES (?, ?, ?)", issuerID, serial, ms(now))
	if isUnique(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: reserve serial: %w", err)
	}
	return nil
}
