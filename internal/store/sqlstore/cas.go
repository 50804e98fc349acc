package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

const caColumns = `c.id, c.account_id, c.identifier, COALESCE(c.parent_id, 0), COALESCE(p.identifier, ''), c.ca_type, c.status,
	c.cn, c.o, c.ou, c.l, c.st, c.c, c.subject_dn, c.algorithm, c.key_ref, c.serial, c.der, c.not_before, c.not_after,
	c.years, c.path_len, c.ext_key_usages, c.cert_max_time, c.enable_crl, c.crl_days, c.resource_group_id,
	COALESCE((SELECT i.uuid FROM instances i WHERE i.ca_id = c.id ORDER BY i.id LIMIT 1), ''), c.issuer_type, c.alias,
	c.revoked_at, c.created_at`

const caFrom = ` FROM cas c LEFT JOIN cas p ON p.id = c.parent_id `

// CreateCA implements store.Store.
func (s *Store) CreateCA(ctx context.Context, ca *pca.CA, key store.KeyRecord) error {
	eku, err := json.Marshal(nonNil(ca.ExtendedKeyUsages))
	if err != nil {
		return fmt.Errorf("sqlstore: encode ekus: %w", err)
	}
	var parent any
	if ca.ParentID != 0 {
		parent = ca.ParentID
	}
	issuerType := ca.IssuerType
	if issuerType == "" {
		issuerType = "local"
	}
	return s.inTx(ctx, func(tx *sqlTx) error {
		if ca.ParentID != 0 {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM cas WHERE id = ? AND account_id = ?", ca.ParentID, ca.AccountID).Scan(&n); err != nil {
				return fmt.Errorf("sqlstore: check parent: %w", err)
			}
			if n == 0 {
				return store.ErrNotFound // another account's CA is reported as a missing one
			}
			// A sub-CA draws one from its parent's default instance, if any.
			if err := draw(ctx, tx, ca.AccountID, "ca_id = ?", ca.ParentID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if key.Ref != "" {
			if err := putKey(ctx, tx, key); err != nil {
				return err
			}
		}
		ca.ID, err = tx.insertID(ctx, `INSERT INTO cas (account_id, identifier, parent_id, ca_type, status,
			cn, o, ou, l, st, c, subject_dn, algorithm, key_ref, serial, der, not_before, not_after, years, path_len,
			ext_key_usages, cert_max_time, enable_crl, crl_days, resource_group_id, issuer_type, alias, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ca.AccountID, ca.Identifier, parent, string(ca.Type), string(ca.Status),
			ca.Subject.CommonName, ca.Subject.Organization, ca.Subject.OrganizationUnit, ca.Subject.Locality, ca.Subject.State, ca.Subject.Country,
			ca.SubjectDN, string(ca.Algorithm), ca.KeyRef, ca.SerialNumber, ca.DER, ms(ca.NotBefore), ms(ca.NotAfter), ca.Years, ca.PathLen,
			string(eku), ca.CertMaxTime, boolInt(ca.EnableCRL), ca.CRLDays, ca.ResourceGroupID, issuerType, ca.AliasName, ms(ca.Created))
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore: insert ca: %w", err)
		}
		if ca.InstanceUUID != "" {
			_, err := tx.ExecContext(ctx, `INSERT INTO instances (account_id, uuid, ca_id, total_count, issued_count, created_at)
				VALUES (?, ?, ?, 0, 0, ?)`, ca.AccountID, strings.ToLower(ca.InstanceUUID), ca.ID, ms(ca.Created))
			if isUnique(err) {
				return store.ErrConflict
			}
			if err != nil {
				return fmt.Errorf("sqlstore: insert instance: %w", err)
			}
		}
		return putTags(ctx, tx, ca.AccountID, ca.Identifier, ca.Tags)
	})
}

// draw takes one certificate from the first instance matching where (with
// args), refusing beyond its quota: ErrQuota, or ErrNotFound without one.
func draw(ctx context.Context, tx *sqlTx, accountID int64, where string, args ...any) error {
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM instances WHERE account_id = ? AND "+where+" ORDER BY id LIMIT 1",
		append([]any{accountID}, args...)...).Scan(&id)
	if err != nil {
		return fmt.Errorf("sqlstore: find instance: %w", notFound(err))
	}
	res, err := tx.ExecContext(ctx, drawSQL, id, accountID)
	if err != nil {
		return fmt.Errorf("sqlstore: draw from instance: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: draw from instance: %w", err)
	} else if n == 0 {
		return store.ErrQuota
	}
	return nil
}

// GetCA implements store.Store.
func (s *Store) GetCA(ctx context.Context, accountID int64, identifier string) (pca.CA, error) {
	return s.getCA(ctx, "c.account_id = ? AND c.identifier = ?", accountID, identifier)
}

// GetCAByID implements store.Store.
func (s *Store) GetCAByID(ctx context.Context, accountID, id int64) (pca.CA, error) {
	return s.getCA(ctx, "c.account_id = ? AND c.id = ?", accountID, id)
}

// GetCAUntagged implements store.Store.
func (s *Store) GetCAUntagged(ctx context.Context, accountID int64, identifier string) (pca.CA, error) {
	ca, err := scanCA(s.db.QueryRowContext(ctx, "SELECT "+caColumns+caFrom+"WHERE c.account_id = ? AND c.identifier = ?", accountID, identifier))
	if err != nil {
		return pca.CA{}, fmt.Errorf("sqlstore: get ca: %w", notFound(err))
	}
	return ca, nil
}

func (s *Store) getCA(ctx context.Context, where string, args ...any) (pca.CA, error) {
	ca, err := scanCA(s.db.QueryRowContext(ctx, "SELECT "+caColumns+caFrom+"WHERE "+where, args...))
	if err != nil {
		return pca.CA{}, fmt.Errorf("sqlstore: get ca: %w", notFound(err))
	}
	tags, err := getTags(ctx, s.db, ca.AccountID, []string{ca.Identifier})
	if err != nil {
		return pca.CA{}, err
	}
	ca.Tags = tags[ca.Identifier]
	return ca, nil
}

func scanCA(row scanner) (pca.CA, error) {
	var ca pca.CA
	var typ, status, alg, eku string
	var nb, na, revoked, created int64
	var enableCRL int
	err := row.Scan(&ca.ID, &ca.AccountID, &ca.Identifier, &ca.ParentID, &ca.ParentIdentifier, &typ, &status,
		&ca.Subject.CommonName, &ca.Subject.Organization, &ca.Subject.OrganizationUnit, &ca.Subject.Locality, &ca.Subject.State, &ca.Subject.Country,
		&ca.SubjectDN, &alg, &ca.KeyRef, &ca.SerialNumber, &ca.DER, &nb, &na, &ca.Years, &ca.PathLen, &eku, &ca.CertMaxTime,
		&enableCRL, &ca.CRLDays, &ca.ResourceGroupID, &ca.InstanceUUID, &ca.IssuerType, &ca.AliasName, &revoked, &created)
	if err != nil {
		return pca.CA{}, err
	}
	ca.Type, ca.Status, ca.Algorithm = pca.CAType(typ), pca.Status(status), pca.Algorithm(alg)
	ca.NotBefore, ca.NotAfter, ca.RevokedAt, ca.Created = fromMS(nb), fromMS(na), fromMS(revoked), fromMS(created)
	ca.EnableCRL = enableCRL == 1
	if err := json.Unmarshal([]byte(eku), &ca.ExtendedKeyUsages); err != nil {
		return pca.CA{}, fmt.Errorf("decode ekus: %w", err)
	}
	return ca, nil
}

// ListCAs implements store.CAStore.
func (s *Store) ListCAs(ctx context.Context, accountID int64, q store.CAQuery) ([]pca.CA, int64, error) {
	where := []string{"c.account_id = ?"}
	args := []any{accountID}
	add := func(cond string, v ...any) { where, args = append(where, cond), append(args, v...) }
	if q.Status != "" {
		add("c.status = ?", string(q.Status))
	}
	if q.Type != "" {
		add("c.ca_type = ?", string(q.Type))
	}
	if q.IssuerType != "" {
		add("c.issuer_type = ?", q.IssuerType)
	}
	if q.Valid != nil && !q.ValidAt.IsZero() {
		if *q.Valid {
			add("c.not_before <= ? AND c.not_after > ?", ms(q.ValidAt), ms(q.ValidAt))
		} else {
			add("(c.not_before > ? OR c.not_after <= ?)", ms(q.ValidAt), ms(q.ValidAt))
		}
	}
	if len(q.Identifiers) > 0 {
		add("c.identifier IN ("+placeholders(len(q.Identifiers))+")", anySlice(q.Identifiers)...)
	}
	if q.Keyword != "" {
		kw := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q.Keyword)) + "%"
		add(`(lower(c.cn) LIKE ? ESCAPE '\' OR lower(c.o) LIKE ? ESCAPE '\' OR lower(c.ou) LIKE ? ESCAPE '\' OR lower(c.subject_dn) LIKE ? ESCAPE '\')`, kw, kw, kw, kw)
	}
	if q.ResourceGroupID != "" {
		add("c.resource_group_id = ?", q.ResourceGroupID)
	}
	var total int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM cas c WHERE "+strings.Join(where, " AND "), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: count cas: %w", err)
	}
	if q.BeforeID > 0 {
		add("c.id < ?", q.BeforeID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	query := "SELECT " + caColumns + caFrom + "WHERE " + strings.Join(where, " AND ") + " ORDER BY c.id DESC LIMIT " +
		strconv.Itoa(limit) + " OFFSET " + strconv.FormatInt(q.Offset, 10)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list cas: %w", err)
	}
	defer rows.Close()
	var out []pca.CA
	var ids []string
	for rows.Next() {
		ca, err := scanCA(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlstore: list cas: %w", err)
		}
		out = append(out, ca)
		ids = append(ids, ca.Identifier)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list cas: %w", err)
	}
	tags, err := getTags(ctx, s.db, accountID, ids)
	if err != nil {
		return nil, 0, err
	}
	for i := range out {
		out[i].Tags = tags[out[i].Identifier]
	}
	return out, total, nil
}

// RevokeCA implements store.CAStore.
func (s *Store) RevokeCA(ctx context.Context, accountID int64, identifier string, at time.Time) (pca.CA, error) {
	var out pca.CA
	err := s.inTx(ctx, func(tx *sqlTx) error {
		ca, err := scanCA(tx.QueryRowContext(ctx, "SELECT "+caColumns+caFrom+"WHERE c.account_id = ? AND c.identifier = ?"+tx.e.forUpdate("c"),
			accountID, identifier))
		if err != nil {
			return fmt.Errorf("sqlstore: revoke ca: %w", notFound(err))
		}
		if ca.Status != pca.StatusIssue {
			return store.ErrState
		}
		if _, err := tx.ExecContext(ctx, "UPDATE cas SET status = ?, revoked_at = ? WHERE id = ?", string(pca.StatusRevoke), ms(at), ca.ID); err != nil {
			return fmt.Errorf("sqlstore: revoke ca: %w", err)
		}
		if ca.ParentID != 0 {
			if err := addRevocation(ctx, tx, ca.ParentID, accountID, ca.SerialNumber, at, pca.ReasonCACompromise, ca.NotAfter); err != nil {
				return err
			}
		}
		ca.Status, ca.RevokedAt = pca.StatusRevoke, at.UTC().Truncate(time.Millisecond)
		tags, err := getTags(ctx, tx, accountID, []string{ca.Identifier})
		if err != nil {
			return err
		}
		ca.Tags = tags[ca.Identifier]
		out = ca
		return nil
	})
	return out, err
}

// UpdateCA implements store.CAStore.
func (s *Store) UpdateCA(ctx context.Context, accountID int64, identifier string, alias, resourceGroup *string) error {
	res, err := s.exec(ctx, `UPDATE cas SET alias = COALESCE(?, alias), resource_group_id = COALESCE(?, resource_group_id)
		WHERE account_id = ? AND identifier = ?`, alias, resourceGroup, accountID, identifier)
	return affectedOne(res, err, "update ca")
}

// affectedOne turns an UPDATE/DELETE result into ErrNotFound when no row changed.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// AddCAEvent implements store.CAStore.
func (s *Store) AddCAEvent(ctx context.Context, ev store.CAEvent) error {
	_, err := s.exec(ctx, "INSERT INTO ca_events (account_id, ca_id, op_type, content, created_at, request_id) VALUES (?, ?, ?, ?, ?, ?)",
		ev.AccountID, ev.CAID, ev.OpType, ev.Content, ms(ev.Created), ev.RequestID)
	if err != nil {
		return fmt.Errorf("sqlstore: add ca event: %w", err)
	}
	return nil
}

// ListCAEvents implements store.CAStore.
func (s *Store) ListCAEvents(ctx context.Context, accountID, caID int64) ([]store.CAEvent, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT op_type, content, created_at, request_id FROM ca_events WHERE account_id = ? AND ca_id = ? ORDER BY id",
		accountID, caID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list ca events: %w", err)
	}
	defer rows.Close()
	var out []store.CAEvent
	for rows.Next() {
		ev := store.CAEvent{AccountID: accountID, CAID: caID}
		var created int64
		if err := rows.Scan(&ev.OpType, &ev.Content, &created, &ev.RequestID); err != nil {
			return nil, fmt.Errorf("sqlstore: list ca events: %w", err)
		}
		ev.Created = fromMS(created)
		out = append(out, ev)
	}
	return out, rows.Err()
}

const instanceColumns = "id, account_id, uuid, ca_id, total_count, issued_count"

func scanInstance(row scanner) (pca.Instance, error) {
	var in pca.Instance
	err := row.Scan(&in.ID, &in.AccountID, &in.UUID, &in.CAID, &in.TotalCount, &in.Issued)
	return in, err
}

// GetInstance implements store.Store.
func (s *Store) GetInstance(ctx context.Context, accountID int64, uuid string) (pca.Instance, error) {
	in, err := scanInstance(s.db.QueryRowContext(ctx, "SELECT "+instanceColumns+" FROM instances WHERE account_id = ? AND uuid = ?",
		accountID, strings.ToLower(uuid)))
	if err != nil {
		return pca.Instance{}, fmt.Errorf("sqlstore: get instance: %w", notFound(err))
	}
	return in, nil
}

// GetInstanceByID implements store.CAStore.
func (s *Store) GetInstanceByID(ctx context.Context, accountID, id int64) (pca.Instance, error) {
	in, err := scanInstance(s.db.QueryRowContext(ctx, "SELECT "+instanceColumns+" FROM instances WHERE account_id = ? AND id = ?", accountID, id))
	if err != nil {
		return pca.Instance{}, fmt.Errorf("sqlstore: get instance: %w", notFound(err))
	}
	return in, nil
}

// ListInstances implements store.CAStore.
func (s *Store) ListInstances(ctx context.Context, accountID, caID int64, offset int64, limit int) ([]pca.Instance, int64, error) {
	if limit <= 0 {
		limit = 20
	}
	where, args := "account_id = ?", []any{accountID}
	if caID > 0 {
		where, args = where+" AND ca_id = ?", append(args, caID)
	}
	var total int64
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM instances WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: count instances: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+instanceColumns+" FROM instances WHERE "+where+" ORDER BY id LIMIT "+
		strconv.Itoa(limit)+" OFFSET "+strconv.FormatInt(offset, 10), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: list instances: %w", err)
	}
	defer rows.Close()
	var out []pca.Instance
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlstore: list instances: %w", err)
		}
		out = append(out, in)
	}
	return out, total, rows.Err()
}

// SetInstanceQuota implements store.Store.
func (s *Store) SetInstanceQuota(ctx context.Context, accountID int64, uuid string, total int64) error {
	res, err := s.exec(ctx, "UPDATE instances SET total_count = ? WHERE account_id = ? AND uuid = ?", total, accountID, strings.ToLower(uuid))
	return affectedOne(res, err, "set quota")
}

// AllCAs implements store.PKIStore.
func (s *Store) AllCAs(ctx context.Context) ([]pca.CA, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+caColumns+caFrom+"ORDER BY c.id")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: all cas: %w", err)
	}
	defer rows.Close()
	var out []pca.CA
	for rows.Next() {
		ca, err := scanCA(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: all cas: %w", err)
		}
		out = append(out, ca)
	}
	return out, rows.Err()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anySlice[T any](v []T) []any {
	out := make([]any, len(v))
	for i := range v {
		out[i] = v[i]
	}
	return out
}
