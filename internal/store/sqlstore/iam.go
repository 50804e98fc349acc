package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// ListAccounts implements store.IAMStore.
func (s *Store) ListAccounts(ctx context.Context) ([]pca.Account, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, name, created_at FROM accounts ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list accounts: %w", err)
	}
	defer rows.Close()
	var out []pca.Account
	for rows.Next() {
		var a pca.Account
		var created int64
		if err := rows.Scan(&a.ID, &a.Name, &created); err != nil {
			return nil, fmt.Errorf("sqlstore: list accounts: %w", err)
		}
		a.Created = fromMS(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

const principalColumns = "id, account_id, name, owner, display_name, email, mobile_phone, comments, created_at, updated_at"

func scanPrincipal(row scanner) (pca.Principal, error) {
	var p pca.Principal
	var owner int
	var created, updated int64
	err := row.Scan(&p.ID, &p.AccountID, &p.Name, &owner, &p.DisplayName, &p.Email, &p.MobilePhone, &p.Comments, &created, &updated)
	p.Owner, p.Created, p.Updated = owner == 1, fromMS(created), fromMS(updated)
	return p, err
}

// CreateUser implements store.IAMStore.
func (s *Store) CreateUser(ctx context.Context, p *pca.Principal) error {
	id, err := s.insertID(ctx, `INSERT INTO principals (account_id, name, owner, display_name, email, mobile_phone, comments, created_at, updated_at)
		VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?)`, p.AccountID, p.Name, p.DisplayName, p.Email, p.MobilePhone, p.Comments, ms(p.Created), ms(p.Updated))
	if isUnique(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create user: %w", err)
	}
	p.ID, p.Owner = id, false
	return nil
}

// GetUser implements store.IAMStore.
func (s *Store) GetUser(ctx context.Context, accountID int64, name string) (pca.Principal, error) {
	return getUser(ctx, s.db, accountID, name, "")
}

func getUser(ctx context.Context, q queryRower, accountID int64, name, lock string) (pca.Principal, error) {
	p, err := scanPrincipal(q.QueryRowContext(ctx, "SELECT "+principalColumns+" FROM principals WHERE account_id = ? AND name = ? AND owner = 0"+lock, accountID, name))
	if err != nil {
		return pca.Principal{}, fmt.Errorf("sqlstore: get user: %w", notFound(err))
	}
	return p, nil
}

// GetPrincipal implements store.IAMStore.
func (s *Store) GetPrincipal(ctx context.Context, accountID, id int64) (pca.Principal, error) {
	p, err := scanPrincipal(s.db.QueryRowContext(ctx, "SELECT "+principalColumns+" FROM principals WHERE account_id = ? AND id = ?", accountID, id))
	if err != nil {
		return pca.Principal{}, fmt.Errorf("sqlstore: get principal: %w", notFound(err))
	}
	return p, nil
}

// UpdateUser implements store.IAMStore.
func (s *Store) UpdateUser(ctx context.Context, accountID int64, name string, u store.UserUpdate) (pca.Principal, error) {
	var out pca.Principal
	err := s.inTx(ctx, func(tx *sqlTx) error {
		res, err := tx.ExecContext(ctx, `UPDATE principals SET name = COALESCE(?, name), display_name = COALESCE(?, display_name),
			email = COALESCE(?, email), mobile_phone = COALESCE(?, mobile_phone), comments = COALESCE(?, comments), updated_at = ?
			WHERE account_id = ? AND name = ? AND owner = 0`,
			u.NewName, u.DisplayName, u.Email, u.MobilePhone, u.Comments, ms(u.At), accountID, name)
		if isUnique(err) {
			return store.ErrConflict
		}
		if err := affectedOne(res, err, "update user"); err != nil {
			return err
		}
		if u.NewName != nil {
			name = *u.NewName
		}
		out, err = getUser(ctx, tx, accountID, name, "")
		return err
	})
	return out, err
}

// DeleteUser implements store.IAMStore.
func (s *Store) DeleteUser(ctx context.Context, accountID int64, name string) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		// The row lock keeps AddAccessKey (which locks the principal too) and
		// AttachPolicy (whose foreign key check waits for it) out until the
		// counts below are final.
		p, err := getUser(ctx, tx, accountID, name, tx.e.forUpdate("principals"))
		if err != nil {
			return err
		}
		var keys, policies int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM access_keys WHERE account_id = ? AND principal_id = ?", accountID, p.ID).Scan(&keys); err != nil {
			return fmt.Errorf("sqlstore: delete user: %w", err)
		}
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM policy_attachments WHERE account_id = ? AND principal_id = ?", accountID, p.ID).Scan(&policies); err != nil {
			return fmt.Errorf("sqlstore: delete user: %w", err)
		}
		if keys > 0 || policies > 0 {
			return store.ErrState
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM principals WHERE id = ?", p.ID); err != nil {
			return fmt.Errorf("sqlstore: delete user: %w", err)
		}
		return nil
	})
}

// ListUsers implements store.IAMStore.
func (s *Store) ListUsers(ctx context.Context, accountID int64, afterName string, limit int) ([]pca.Principal, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+principalColumns+" FROM principals WHERE account_id = ? AND owner = 0 AND name > ? ORDER BY name LIMIT "+
		strconv.Itoa(limit), accountID, afterName)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list users: %w", err)
	}
	defer rows.Close()
	var out []pca.Principal
	for rows.Next() {
		p, err := scanPrincipal(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list users: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// AddAccessKey implements store.IAMStore.
func (s *Store) AddAccessKey(ctx context.Context, k store.AccessKeyRecord, max int) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		// Lock the principal first: concurrent adds for one principal then
		// count one after another and cannot pass the quota together.
		var exists int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM principals p WHERE p.account_id = ? AND p.id = ?"+tx.e.forUpdate("p"), k.AccountID, k.PrincipalID).Scan(&exists)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: add access key: %w", err)
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM access_keys WHERE account_id = ? AND principal_id = ?", k.AccountID, k.PrincipalID).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: add access key: %w", err)
		}
		if max > 0 && n >= max {
			return store.ErrQuota
		}
		if exists == 0 {
			return store.ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO access_keys (id, account_id, principal_id, secret_sealed, active, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			k.ID, k.AccountID, k.PrincipalID, k.SecretSealed, boolInt(k.Active), ms(k.Created))
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore: add access key: %w", err)
		}
		return nil
	})
}

// ListAccessKeys implements store.IAMStore.
func (s *Store) ListAccessKeys(ctx context.Context, accountID, principalID int64) ([]store.AccessKeyRecord, error) {
	q, args := "SELECT id, account_id, principal_id, secret_sealed, active, created_at FROM access_keys WHERE account_id = ?", []any{accountID}
	if principalID != 0 {
		q, args = q+" AND principal_id = ?", append(args, principalID)
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY created_at, id", args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list access keys: %w", err)
	}
	defer rows.Close()
	var out []store.AccessKeyRecord
	for rows.Next() {
		var k store.AccessKeyRecord
		var active int
		var created int64
		if err := rows.Scan(&k.ID, &k.AccountID, &k.PrincipalID, &k.SecretSealed, &active, &created); err != nil {
			return nil, fmt.Errorf("sqlstore: list access keys: %w", err)
		}
		k.Active, k.Created = active == 1, fromMS(created)
		out = append(out, k)
	}
	return out, rows.Err()
}

// SetAccessKeyActive implements store.IAMStore.
func (s *Store) SetAccessKeyActive(ctx context.Context, accountID, principalID int64, id string, active bool) error {
	res, err := s.exec(ctx, "UPDATE access_keys SET active = ? WHERE account_id = ? AND principal_id = ? AND id = ?",
		boolInt(active), accountID, principalID, id)
	return affectedOne(res, err, "set access key status")
}

// DeleteAccessKey implements store.IAMStore.
func (s *Store) DeleteAccessKey(ctx context.Context, accountID, principalID int64, id string) error {
	res, err := s.exec(ctx, "DELETE FROM access_keys WHERE account_id = ? AND principal_id = ? AND id = ?", accountID, principalID, id)
	return affectedOne(res, err, "delete access key")
}

const policyColumns = `p.account_id, p.name, p.description, p.document, p.created_at, p.updated_at,
	(SELECT COUNT(*) FROM policy_attachments a WHERE a.account_id = p.account_id AND a.policy_type = 'Custom' AND a.policy_name = p.name)`

func scanPolicy(row scanner) (store.Policy, error) {
	var p store.Policy
	var created, updated int64
	err := row.Scan(&p.AccountID, &p.Name, &p.Description, &p.Document, &created, &updated, &p.Attachments)
	p.Created, p.Updated = fromMS(created), fromMS(updated)
	return p, err
}

// CreatePolicy implements store.IAMStore.
func (s *Store) CreatePolicy(ctx context.Context, p store.Policy) error {
	_, err := s.exec(ctx, "INSERT INTO policies (account_id, name, description, document, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
		p.AccountID, p.Name, p.Description, p.Document, ms(p.Created), ms(p.Updated))
	if isUnique(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create policy: %w", err)
	}
	return nil
}

// GetPolicy implements store.IAMStore.
func (s *Store) GetPolicy(ctx context.Context, accountID int64, name string) (store.Policy, error) {
	p, err := scanPolicy(s.db.QueryRowContext(ctx, "SELECT "+policyColumns+" FROM policies p WHERE p.account_id = ? AND p.name = ?", accountID, name))
	if err != nil {
		return store.Policy{}, fmt.Errorf("sqlstore: get policy: %w", notFound(err))
	}
	return p, nil
}

// ListPolicies implements store.IAMStore.
func (s *Store) ListPolicies(ctx context.Context, accountID int64, afterName string, limit int) ([]store.Policy, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+policyColumns+" FROM policies p WHERE p.account_id = ? AND p.name > ? ORDER BY p.name LIMIT "+
		strconv.Itoa(limit), accountID, afterName)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list policies: %w", err)
	}
	defer rows.Close()
	var out []store.Policy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list policies: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// DeletePolicy implements store.IAMStore.
func (s *Store) DeletePolicy(ctx context.Context, accountID int64, name string) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM policy_attachments WHERE account_id = ? AND policy_type = 'Custom' AND policy_name = ?",
			accountID, name).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: delete policy: %w", err)
		}
		if n > 0 {
			return store.ErrState
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM policies WHERE account_id = ? AND name = ?", accountID, name)
		return affectedOne(res, err, "delete policy")
	})
}

// AttachPolicy implements store.IAMStore.
func (s *Store) AttachPolicy(ctx context.Context, accountID, principalID int64, a store.Attachment) error {
	_, err := s.exec(ctx, "INSERT INTO policy_attachments (account_id, principal_id, policy_type, policy_name, attached_at) VALUES (?, ?, ?, ?, ?)",
		accountID, principalID, a.PolicyType, a.PolicyName, ms(a.Attached))
	if isUnique(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: attach policy: %w", err)
	}
	return nil
}

// DetachPolicy implements store.IAMStore.
func (s *Store) DetachPolicy(ctx context.Context, accountID, principalID int64, policyType, policyName string) error {
	res, err := s.exec(ctx, "DELETE FROM policy_attachments WHERE account_id = ? AND principal_id = ? AND policy_type = ? AND policy_name = ?",
		accountID, principalID, policyType, policyName)
	return affectedOne(res, err, "detach policy")
}

// Attachments implements store.IAMStore.
func (s *Store) Attachments(ctx context.Context, accountID, principalID int64) ([]store.Attachment, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT policy_type, policy_name, attached_at FROM policy_attachments WHERE account_id = ? AND principal_id = ? ORDER BY policy_type, policy_name",
		accountID, principalID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: attachments: %w", err)
	}
	defer rows.Close()
	var out []store.Attachment
	for rows.Next() {
		var a store.Attachment
		var at int64
		if err := rows.Scan(&a.PolicyType, &a.PolicyName, &at); err != nil {
			return nil, fmt.Errorf("sqlstore: attachments: %w", err)
		}
		a.Attached = fromMS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AppendAudit implements store.AuditStore. Appends are serialised (by BEGIN
// IMMEDIATE on SQLite, by an advisory lock on PostgreSQL), so the chain has
// no forks.
func (s *Store) AppendAudit(ctx context.Context, rec store.AuditRecord, chain func(store.AuditRecord) []byte) (store.AuditRecord, error) {
	rec, _, err := s.AppendAuditMovingHead(ctx, rec, chain, "", nil)
	return rec, err
}

// AppendAuditMovingHead implements store.AuditStore. The audit lock
// serialises appends on PostgreSQL (SQLite's writes are serial), so the
// head read here is the one this append replaces.
func (s *Store) AppendAuditMovingHead(ctx context.Context, rec store.AuditRecord, chain func(store.AuditRecord) []byte, headName string,
	move func(stored []byte, prev, rec store.AuditRecord) ([]byte, error)) (store.AuditRecord, bool, error) {
	a := store.AuditAppend{Record: rec, Chain: chain, HeadName: headName, Move: move}
	err := s.inTx(ctx, func(tx *sqlTx) error { return appendAuditTx(ctx, tx, &a) })
	return a.Stored, a.Moved, err
}

// appendAuditTx appends a.Record in tx after the newest record, taking the
// audit lock first (see AppendAuditMovingHead), and moves the head a.Move
// asks for; it sets a.Stored and a.Moved (both are reset first: tx may be
// retried).
func appendAuditTx(ctx context.Context, tx *sqlTx, a *store.AuditAppend) error {
	a.Stored, a.Moved = store.AuditRecord{}, false
	if err := tx.lock(ctx, "audit"); err != nil {
		return err
	}
	// One read after the lock: the newest record, the stored head (none
	// when the head is not to move) and, on PostgreSQL, the new record's id
	// (drawn under the lock, so ids grow in chain order). On SQLite the
	// writer is alone: the new id is the newest plus one, as SQLite would
	// assign it.
	headName := ""
	if a.Move != nil {
		headName = a.HeadName
	}
	tail := `SELECT (SELECT id FROM audit_log ORDER BY id DESC LIMIT 1), (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1),
		(SELECT sealed FROM server_secrets WHERE name = ?)`
	if tx.e.dialect == dialectPostgres {
		tail += ", nextval(pg_get_serial_sequence('audit_log', 'id'))"
	} else {
		tail += ", 0"
	}
	var prev store.AuditRecord
	var prevID sql.NullInt64
	var stored []byte
	var nextID int64
	if err := tx.QueryRowContext(ctx, tail, headName).Scan(&prevID, &prev.Hash, &stored, &nextID); err != nil {
		return fmt.Errorf("sqlstore: audit tail: %w", err)
	}
	prev.ID = prevID.Int64
	rec := a.Record
	rec.ID = nextID
	if tx.e.dialect != dialectPostgres {
		rec.ID = prev.ID + 1
	}
	rec.PrevHash = append([]byte{}, prev.Hash...)
	rec.At = rec.At.UTC().Truncate(time.Millisecond)
	rec.Hash = a.Chain(rec)
	var next []byte
	if a.Move != nil {
		var err error
		if next, err = a.Move(stored, prev, rec); err != nil {
			return err
		}
	}
	insert := `INSERT INTO audit_log (id, at, account_id, principal_id, access_key_id, action, resource, code, request_id, source_ip, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	args := []any{rec.ID, ms(rec.At), rec.AccountID, rec.PrincipalID, rec.AccessKeyID, rec.Action, rec.Resource,
		rec.Code, rec.RequestID, rec.SourceIP, rec.PrevHash, rec.Hash}
	const moveHead = `INSERT INTO server_secrets (name, sealed) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed`
	if next != nil && tx.e.dialect == dialectPostgres {
		// One statement: the record and the head that names it.
		insert, args = "WITH appended AS ("+insert+") "+moveHead, append(args, a.HeadName, next)
	}
	if _, err := tx.ExecContext(ctx, insert, args...); err != nil {
		return fmt.Errorf("sqlstore: append audit: %w", err)
	}
	if next != nil && tx.e.dialect != dialectPostgres {
		if _, err := tx.ExecContext(ctx, moveHead, a.HeadName, next); err != nil {
			return fmt.Errorf("sqlstore: move audit head: %w", err)
		}
	}
	a.Stored, a.Moved = rec, next != nil
	return nil
}

// AuditRecords implements store.AuditStore.
func (s *Store) AuditRecords(ctx context.Context, afterID int64, limit int) ([]store.AuditRecord, error) {
	if limit <= 0 {
		limit = 1000
	}
	return s.queryAudit(ctx, "audit records", "id > ? ORDER BY id LIMIT "+strconv.Itoa(limit), afterID)
}

// auditColumns are the audit_log columns in the order scanAudit reads them.
const auditColumns = "id, at, account_id, principal_id, access_key_id, action, resource, code, request_id, source_ip, prev_hash, hash"

// queryAudit runs SELECT auditColumns FROM audit_log WHERE <where> and scans
// the records; what names the query in errors.
func (s *Store) queryAudit(ctx context.Context, what, where string, args ...any) ([]store.AuditRecord, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+auditColumns+" FROM audit_log WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	defer rows.Close()
	var out []store.AuditRecord
	for rows.Next() {
		var r store.AuditRecord
		var at int64
		if err := rows.Scan(&r.ID, &at, &r.AccountID, &r.PrincipalID, &r.AccessKeyID, &r.Action, &r.Resource, &r.Code, &r.RequestID, &r.SourceIP,
			&r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("sqlstore: %s: %w", what, err)
		}
		r.At = fromMS(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
