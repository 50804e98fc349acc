package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// certColumns are the columns of a certificate row without its DER, in the
// order scanCert reads them.
const certColumns = `c.id, c.account_id, c.identifier, c.ca_id, ca.identifier, c.instance_id, COALESCE(i.uuid, ''), c.cert_type, c.status,
	c.cn, c.o, c.ou, c.l, c.st, c.c, c.subject_dn, c.sans, c.algorithm, c.serial, c.not_before, c.not_after, c.key_ref,
	c.alias, COALESCE(c.custom_identifier, ''), c.extra, c.resource_group_id, c.upload_flag, c.revoked_at, c.revoke_reason,
	c.created_at, c.changed_at`

const certJoins = ` FROM certificates c JOIN cas ca ON ca.id = c.ca_id LEFT JOIN instances i ON i.id = c.instance_id `

type scanner interface{ Scan(dest ...any) error }

func scanCert(row scanner, extra ...any) (pca.Certificate, error) {
	var c pca.Certificate
	var typ, status, sans, alg string
	var nb, na, revokedAt, created, changed int64
	var reason, uploaded int
	dest := []any{&c.ID, &c.AccountID, &c.Identifier, &c.CAID, &c.ParentIdentifier, &c.InstanceID, &c.InstanceUUID, &typ, &status,
		&c.Subject.CommonName, &c.Subject.Organization, &c.Subject.OrganizationUnit, &c.Subject.Locality, &c.Subject.State, &c.Subject.Country,
		&c.SubjectDN, &sans, &alg, &c.SerialNumber, &nb, &na, &c.KeyRef, &c.AliasName, &c.CustomIdentifier, &c.Extra, &c.ResourceGroupID,
		&uploaded, &revokedAt, &reason, &created, &changed}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return pca.Certificate{}, err
	}
	c.Type, c.Status, c.Algorithm = pca.CertType(typ), pca.Status(status), pca.Algorithm(alg)
	c.NotBefore, c.NotAfter, c.RevokedAt = fromMS(nb), fromMS(na), fromMS(revokedAt)
	c.Created, c.Changed = fromMS(created), fromMS(changed)
	c.RevokeReason = pca.RevocationReason(reason)
	c.Uploaded = uploaded == 1
	if err := json.Unmarshal([]byte(sans), &c.SANs); err != nil {
		return pca.Certificate{}, fmt.Errorf("decode sans: %w", err)
	}
	return c, nil
}

// InsertCertificate implements store.Store.
func (s *Store) InsertCertificate(ctx context.Context, c *pca.Certificate, key *store.KeyRecord) error {
	return s.insertCertificate(ctx, c, key, false, nil)
}

// InsertIssued implements store.Store.
func (s *Store) InsertIssued(ctx context.Context, c *pca.Certificate, key *store.KeyRecord, audit *store.AuditAppend) error {
	return s.insertCertificate(ctx, c, key, true, audit)
}

// insertCertificate stores c (and key), reserving its serial first when
// reserve is set, and appends audit when not nil. The statements that take
// locks every issuance of the instance or the account contends for on
// PostgreSQL (the instance's draw, the counters, the audit lock) come last,
// so that those locks are held from there to the COMMIT only.
func (s *Store) insertCertificate(ctx context.Context, c *pca.Certificate, key *store.KeyRecord, reserve bool, audit *store.AuditAppend) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		if reserve {
			_, err := tx.ExecContext(ctx, "INSERT INTO serials (issuer_id, serial, reserved_at) VALUES (?, ?, ?)", c.CAID, c.SerialNumber, ms(c.Created))
			if isUnique(err) {
				return store.ErrSerialTaken
			}
			if err != nil {
				return fmt.Errorf("sqlstore: reserve serial: %w", err)
			}
		}
		if key != nil {
			if err := putKey(ctx, tx, *key); err != nil {
				return err
			}
		}
		if err := insertCertRow(ctx, tx, c); err != nil {
			return err
		}
		if err := drawAndCount(ctx, tx, c); err != nil || audit == nil {
			return err
		}
		return appendAuditTx(ctx, tx, audit)
	})
}

// The statements of an instance draw and of the two counters, shared by
// drawFromInstance, bumpKindCount, bumpDayCount and drawAndCount's one
// statement on PostgreSQL.
const (
	drawSQL = `UPDATE instances SET issued_count = issued_count + 1
		WHERE id = ? AND account_id = ? AND (total_count = 0 OR issued_count < total_count)`
	kindCountInsert   = "INSERT INTO cert_counts (account_id, ca_id, instance_id, cert_type, status, n) "
	kindCountConflict = " ON CONFLICT (account_id, ca_id, instance_id, cert_type, status) DO UPDATE SET n = cert_counts.n + excluded.n"
	dayCountInsert    = "INSERT INTO cert_day_counts (account_id, day, ca_id, instance_id, cert_type, status, n) "
	dayCountConflict  = " ON CONFLICT (account_id, day, ca_id, instance_id, cert_type, status) DO UPDATE SET n = cert_day_counts.n + excluded.n"
)

// drawAndCount takes one certificate from c's instance (ErrQuota when none
// is left, ErrNotFound when the instance is not c's account's) and counts c
// (bumpCount). On PostgreSQL it is one statement, one round trip, instead
// of three.
func drawAndCount(ctx context.Context, tx *sqlTx, c *pca.Certificate) error {
	if tx.e.dialect != dialectPostgres {
		if err := drawFromInstance(ctx, tx, c); err != nil {
			return err
		}
		return bumpCount(ctx, tx, c, c.Status, c.Changed, 1)
	}
	// Each step reads the one before it (k from d, y from k, the count from
	// y), which makes PostgreSQL take the row locks in this order: the
	// instance, then cert_counts, then cert_day_counts, as a revocation
	// takes the counters (cert_counts first). Independent sub-statements of
	// a WITH run in no set order and could deadlock with a revocation.
	var drawn int64
	err := tx.QueryRowContext(ctx, "WITH d AS ("+drawSQL+" RETURNING id), "+
		"k AS ("+kindCountInsert+"SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), 1 FROM d"+
		kindCountConflict+" RETURNING 1 AS one), "+
		"y AS ("+dayCountInsert+"SELECT CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), 1 FROM k"+
		dayCountConflict+" RETURNING 1 AS one) "+
		"SELECT COUNT(*) FROM y",
		c.InstanceID, c.AccountID,
		c.AccountID, c.CAID, c.InstanceID, string(c.Type), string(c.Status),
		c.AccountID, dayOf(ms(c.Changed)), c.CAID, c.InstanceID, string(c.Type), string(c.Status)).Scan(&drawn)
	if err != nil {
		return fmt.Errorf("sqlstore: draw from instance: %w", err)
	}
	if drawn > 0 {
		return nil
	}
	return noDraw(ctx, tx, c)
}

// drawFromInstance takes one certificate from c's instance: ErrQuota when
// none is left, ErrNotFound when the instance is not c's account's.
func drawFromInstance(ctx context.Context, tx *sqlTx, c *pca.Certificate) error {
	res, err := tx.ExecContext(ctx, drawSQL, c.InstanceID, c.AccountID)
	if err != nil {
		return fmt.Errorf("sqlstore: draw from instance: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: draw from instance: %w", err)
	} else if n > 0 {
		return nil
	}
	return noDraw(ctx, tx, c)
}

// noDraw is the error of a draw from c's instance that changed nothing:
// ErrNotFound when the instance is not c's account's, else ErrQuota.
func noDraw(ctx context.Context, tx *sqlTx, c *pca.Certificate) error {
	var exists int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM instances WHERE id = ? AND account_id = ?", c.InstanceID, c.AccountID).Scan(&exists); err != nil {
		return fmt.Errorf("sqlstore: check instance: %w", err)
	}
	if exists == 0 {
		return store.ErrNotFound
	}
	return store.ErrQuota
}

// insertCertRow writes the certificate row and its body.
func insertCertRow(ctx context.Context, tx *sqlTx, c *pca.Certificate) error {
	sans, err := json.Marshal(nonNilSANs(c.SANs))
	if err != nil {
		return fmt.Errorf("sqlstore: encode sans: %w", err)
	}
	var custom any
	if c.CustomIdentifier != "" {
		custom = c.CustomIdentifier
	}
	c.ID, err = tx.insertID(ctx, `INSERT INTO certificates (account_id, identifier, ca_id, instance_id, cert_type, status,
		cn, o, ou, l, st, c, subject_dn, sans, algorithm, serial, not_before, not_after, key_ref, alias, custom_identifier,
		extra, resource_group_id, revoked_at, revoke_reason, created_at, changed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.AccountID, c.Identifier, c.CAID, c.InstanceID, string(c.Type), string(c.Status),
		c.Subject.CommonName, c.Subject.Organization, c.Subject.OrganizationUnit, c.Subject.Locality, c.Subject.State, c.Subject.Country,
		c.SubjectDN, string(sans), string(c.Algorithm), c.SerialNumber, ms(c.NotBefore), ms(c.NotAfter), c.KeyRef, c.AliasName, custom,
		c.Extra, c.ResourceGroupID, ms(c.RevokedAt), int(c.RevokeReason), ms(c.Created), ms(c.Changed))
	if isUnique(err) {
		return store.ErrConflict
	}
	if err != nil {
		return fmt.Errorf("sqlstore: insert certificate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO certificate_bodies (cert_id, der) VALUES (?, ?)", c.ID, c.DER); err != nil {
		return fmt.Errorf("sqlstore: insert certificate body: %w", err)
	}
	if c.Status == pca.StatusRevoke {
		if err := addRevocation(ctx, tx, c.CAID, c.AccountID, c.SerialNumber, c.RevokedAt, c.RevokeReason, c.NotAfter); err != nil {
			return err
		}
	}
	return putTags(ctx, tx, c.AccountID, c.Identifier, c.Tags)
}

// bumpCount adds delta certificates like c with status to cert_counts, and
// to cert_day_counts on the UTC day of changed (their last change).
func bumpCount(ctx context.Context, tx *sqlTx, c *pca.Certificate, status pca.Status, changed time.Time, delta int64) error {
	if err := bumpKindCount(ctx, tx, c, status, delta); err != nil {
		return err
	}
	return bumpDayCount(ctx, tx, c, status, changed, delta)
}

// bumpKindCount adds delta to the cert_counts row of c's kind and status.
func bumpKindCount(ctx context.Context, tx *sqlTx, c *pca.Certificate, status pca.Status, delta int64) error {
	_, err := tx.ExecContext(ctx, kindCountInsert+"VALUES (?, ?, ?, ?, ?, ?)"+kindCountConflict,
		c.AccountID, c.CAID, c.InstanceID, string(c.Type), string(status), delta)
	if err != nil {
		return fmt.Errorf("sqlstore: update counts: %w", err)
	}
	return nil
}

// bumpDayCount adds delta to the cert_day_counts row of c's kind, status and
// day of changed.
func bumpDayCount(ctx context.Context, tx *sqlTx, c *pca.Certificate, status pca.Status, changed time.Time, delta int64) error {
	_, err := tx.ExecContext(ctx, dayCountInsert+"VALUES (?, ?, ?, ?, ?, ?, ?)"+dayCountConflict,
		c.AccountID, dayOf(ms(changed)), c.CAID, c.InstanceID, string(c.Type), string(status), delta)
	if err != nil {
		return fmt.Errorf("sqlstore: update day counts: %w", err)
	}
	return nil
}

// msPerDay is the length of a cert_day_counts day in milliseconds.
const msPerDay = 24 * 60 * 60 * 1000

// dayOf is the cert_day_counts day of a time in Unix milliseconds.
func dayOf(ms int64) int64 { return ms / msPerDay }

// GetCertificate implements store.Store.
func (s *Store) GetCertificate(ctx context.Context, accountID int64, identifier string) (pca.Certificate, error) {
	return getCert(ctx, s.db, accountID, identifier, "")
}

type queryRower interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// getCert reads a certificate; lock is appended to the query (a row lock,
// from engine.forUpdate, when the caller goes on to change the row).
func getCert(ctx context.Context, q queryRower, accountID int64, identifier, lock string) (pca.Certificate, error) {
	var der []byte
	row := q.QueryRowContext(ctx, "SELECT "+certColumns+", b.der"+certJoins+
		"LEFT JOIN certificate_bodies b ON b.cert_id = c.id WHERE c.account_id = ? AND c.identifier = ?"+lock, accountID, identifier)
	c, err := scanCert(row, &der)
	if err != nil {
		return pca.Certificate{}, fmt.Errorf("sqlstore: get certificate: %w", notFound(err))
	}
	c.DER = der
	tags, err := getTags(ctx, q, accountID, []string{identifier})
	if err != nil {
		return pca.Certificate{}, err
	}
	c.Tags = tags[identifier]
	return c, nil
}

// RevokeCertificate implements store.Store.
func (s *Store) RevokeCertificate(ctx context.Context, accountID int64, identifier string, at time.Time, reason pca.RevocationReason) (pca.Certificate, error) {
	var out pca.Certificate
	err := s.inTx(ctx, func(tx *sqlTx) error {
		c, err := getCert(ctx, tx, accountID, identifier, tx.e.forUpdate("c"))
		if err != nil {
			return err
		}
		if c.Status != pca.StatusIssue {
			return store.ErrState
		}
		if _, err := tx.ExecContext(ctx, `UPDATE certificates SET status = ?, revoked_at = ?, revoke_reason = ?, changed_at = ?
			WHERE id = ?`, string(pca.StatusRevoke), ms(at), int(reason), ms(at), c.ID); err != nil {
			return fmt.Errorf("sqlstore: revoke: %w", err)
		}
		if err := bumpCount(ctx, tx, &c, pca.StatusIssue, c.Changed, -1); err != nil {
			return err
		}
		if err := bumpCount(ctx, tx, &c, pca.StatusRevoke, at, 1); err != nil {
			return err
		}
		if err := addRevocation(ctx, tx, c.CAID, accountID, c.SerialNumber, at, reason, c.NotAfter); err != nil {
			return err
		}
		c.Status, c.RevokedAt, c.RevokeReason, c.Changed = pca.StatusRevoke, at.UTC().Truncate(time.Millisecond), reason, at.UTC().Truncate(time.Millisecond)
		out = c
		return nil
	})
	return out, err
}

// ListCertificates implements store.Store.
//
// Paging is by descending id. Every mode picks the page's ids with a
// subquery on an index that starts with the filter columns and ends with
// id, then fetches only the page's rows. Token mode (BeforeID) is a keyset
// scan of that index, so a page costs the same at any depth; page mode
// (Offset) walks it; a date window sorts the ids of the window, whose index
// is not in id order. Total comes from cert_counts when no date or
// resource-group filter is set, else from an index count.
func (s *Store) ListCertificates(ctx context.Context, accountID int64, q store.ListQuery) (store.ListResult, error) {
	where := []string{"c.account_id = ?"}
	args := []any{accountID}
	countWhere := []string{"account_id = ?"}
	countArgs := []any{accountID}
	if q.Status != "" {
		where, args = append(where, "c.status = ?"), append(args, string(q.Status))
		countWhere, countArgs = append(countWhere, "status = ?"), append(countArgs, string(q.Status))
	}
	if q.Type != "" {
		where, args = append(where, "c.cert_type = ?"), append(args, string(q.Type))
		countWhere, countArgs = append(countWhere, "cert_type = ?"), append(countArgs, string(q.Type))
	}
	if len(q.Types) > 0 {
		in := " IN (" + placeholders(len(q.Types)) + ")"
		where, args = append(where, "c.cert_type"+in), append(args, anySlice(q.Types)...)
		countWhere, countArgs = append(countWhere, "cert_type"+in), append(countArgs, anySlice(q.Types)...)
	}
	dated, grouped := false, false
	if q.ResourceGroupID != "" {
		// Not counted by cert_counts: count through the index like a date window.
		where, args = append(where, "c.resource_group_id = ?"), append(args, q.ResourceGroupID)
		dated, grouped = true, true
	}
	if q.InstanceUUID != "" {
		var id int64
		err := s.db.QueryRowContext(ctx, "SELECT id FROM instances WHERE account_id = ? AND uuid = ?", accountID, strings.ToLower(q.InstanceUUID)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ListResult{Items: []pca.Certificate{}}, nil
		}
		if err != nil {
			return store.ListResult{}, fmt.Errorf("sqlstore: resolve instance: %w", err)
		}
		where, args = append(where, "c.instance_id = ?"), append(args, id)
		countWhere, countArgs = append(countWhere, "instance_id = ?"), append(countArgs, id)
	}
	if q.ParentIdentifier != "" {
		var id int64
		err := s.db.QueryRowContext(ctx, "SELECT id FROM cas WHERE account_id = ? AND identifier = ?", accountID, q.ParentIdentifier).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ListResult{Items: []pca.Certificate{}}, nil
		}
		if err != nil {
			return store.ListResult{}, fmt.Errorf("sqlstore: resolve parent: %w", err)
		}
		where, args = append(where, "c.ca_id = ?"), append(args, id)
		countWhere, countArgs = append(countWhere, "ca_id = ?"), append(countArgs, id)
	}
	if !q.ChangedFrom.IsZero() {
		where, args = append(where, "c.changed_at >= ?"), append(args, ms(q.ChangedFrom))
		dated = true
	}
	if !q.ChangedBefore.IsZero() {
		where, args = append(where, "c.changed_at < ?"), append(args, ms(q.ChangedBefore))
		dated = true
	}

	var total int64
	var err error
	switch {
	case dated && !grouped:
		total, err = s.countWindow(ctx, where[:len(where)-windowConds(q)], args[:len(args)-windowConds(q)], countWhere, countArgs, q.ChangedFrom, q.ChangedBefore)
	case dated:
		err = s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM certificates c WHERE "+strings.Join(where, " AND "), args...).Scan(&total)
	default:
		err = s.db.QueryRowContext(ctx, "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM cert_counts WHERE "+strings.Join(countWhere, " AND "), countArgs...).Scan(&total)
	}
	if err != nil {
		return store.ListResult{}, fmt.Errorf("sqlstore: count certificates: %w", err)
	}

	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	// Every mode chooses the page's ids first, from the index that starts
	// with the filter columns and ends with id (each is covering for the
	// ids: an index-only scan on PostgreSQL), then reads, joins and returns
	// only those rows. Selecting only ids also keeps PostgreSQL from walking
	// the primary key backwards and filtering each row it reads, a plan it
	// costs on the assumption that matches are spread evenly over ids: for a
	// filter whose rows are all old (a sub-CA no longer in use, an account
	// that stopped issuing) that walk reads every newer row first.
	//
	// A date window is read through certs_changed (account_id, changed_at,
	// id), which is not in id order: its ids are sorted (a top-N sort of the
	// window), with the ORDER BY on c.id + 0 so that no index can serve it
	// and the window's index is used. Otherwise PostgreSQL would again walk
	// the primary key, and since changed_at grows with id, a window far from
	// the newest rows would cost a scan of most of the table. A page costs at
	// most about what the window's exact count costs.
	//
	// LIMIT and OFFSET go into the SQL as integer literals computed here, not
	// as bound parameters: SQLite marks a statement whose LIMIT or OFFSET is a
	// parameter for re-preparation on every bind, which parsed every list
	// statement twice.
	order := " ORDER BY c.id DESC"
	if !q.ChangedFrom.IsZero() || !q.ChangedBefore.IsZero() {
		order = " ORDER BY c.id + 0 DESC"
	}
	page := order + " LIMIT " + strconv.Itoa(limit)
	if q.Offset > 0 {
		if q.Offset >= total {
			return store.ListResult{Items: []pca.Certificate{}, Total: total}, nil
		}
		page += " OFFSET " + strconv.FormatInt(q.Offset, 10)
	}
	// The filters without the window and BeforeID, for windowPage.
	baseWhere, baseArgs := where[:len(where)-windowConds(q)], args[:len(args)-windowConds(q)]
	if q.Offset == 0 && q.BeforeID > 0 {
		where, args = append(where, "c.id < ?"), append(args, q.BeforeID)
	}
	inner := "SELECT c.id FROM certificates c WHERE " + strings.Join(where, " AND ") + page
	if q.Offset == 0 {
		if in, inArgs, ok := windowPage(s.db.e.dialect, baseWhere, baseArgs, q, limit); ok {
			inner, args = in, inArgs
		}
	}
	query := "SELECT " + certColumns + certJoins + "WHERE c.id IN (" + inner + ") ORDER BY c.id DESC"
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return store.ListResult{}, fmt.Errorf("sqlstore: list certificates: %w", err)
	}
	defer rows.Close()
	items := make([]pca.Certificate, 0, limit)
	ids := make([]string, 0, limit)
	for rows.Next() {
		c, err := scanCert(rows)
		if err != nil {
			return store.ListResult{}, fmt.Errorf("sqlstore: list certificates: %w", err)
		}
		items = append(items, c)
		ids = append(ids, c.Identifier)
	}
	if err := rows.Err(); err != nil {
		return store.ListResult{}, fmt.Errorf("sqlstore: list certificates: %w", err)
	}
	rows.Close()
	tags, err := getTags(ctx, s.db, accountID, ids)
	if err != nil {
		return store.ListResult{}, err
	}
	for i := range items {
		items[i].Tags = tags[items[i].Identifier]
	}
	return store.ListResult{Items: items, Total: total}, nil
}

func nonNilSANs(s []pca.SAN) []pca.SAN {
	if s == nil {
		return []pca.SAN{}
	}
	return s
}

// DeleteCertificate implements store.LifecycleStore.
func (s *Store) DeleteCertificate(ctx context.Context, accountID int64, identifier string) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		c, err := getCert(ctx, tx, accountID, identifier, tx.e.forUpdate("c"))
		if err != nil {
			return err
		}
		if c.Status != pca.StatusRevoke {
			return store.ErrState
		}
		for _, q := range []string{
			"DELETE FROM certificate_bodies WHERE cert_id = ?",
			"DELETE FROM certificates WHERE id = ?",
		} {
			if _, err := tx.ExecContext(ctx, q, c.ID); err != nil {
				return fmt.Errorf("sqlstore: delete certificate: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM tags WHERE account_id = ? AND resource_id = ?", accountID, identifier); err != nil {
			return fmt.Errorf("sqlstore: delete tags: %w", err)
		}
		if c.KeyRef != "" {
			if _, err := tx.ExecContext(ctx, "DELETE FROM private_keys WHERE account_id = ? AND ref = ?", accountID, c.KeyRef); err != nil {
				return fmt.Errorf("sqlstore: delete key: %w", err)
			}
		}
		return bumpCount(ctx, tx, &c, c.Status, c.Changed, -1)
	})
}

// UpdateCertificate implements store.LifecycleStore.
func (s *Store) UpdateCertificate(ctx context.Context, accountID int64, identifier string, alias, resourceGroup *string, at time.Time) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		var c pca.Certificate
		var typ, status string
		var changed int64
		err := tx.QueryRowContext(ctx, "SELECT ca_id, instance_id, cert_type, status, changed_at FROM certificates c WHERE account_id = ? AND identifier = ?"+
			tx.e.forUpdate("c"), accountID, identifier).Scan(&c.CAID, &c.InstanceID, &typ, &status, &changed)
		if err != nil {
			return notFound(err)
		}
		c.AccountID, c.Type = accountID, pca.CertType(typ)
		res, err := tx.ExecContext(ctx, `UPDATE certificates SET alias = COALESCE(?, alias),
			resource_group_id = COALESCE(?, resource_group_id), changed_at = ? WHERE account_id = ? AND identifier = ?`,
			alias, resourceGroup, ms(at), accountID, identifier)
		if err := affectedOne(res, err, "update certificate"); err != nil {
			return err
		}
		// The certificate moves to the day of its new last change.
		if err := bumpDayCount(ctx, tx, &c, pca.Status(status), fromMS(changed), -1); err != nil {
			return err
		}
		return bumpDayCount(ctx, tx, &c, pca.Status(status), at, 1)
	})
}

// CertificatesBySerial implements store.LifecycleStore.
func (s *Store) CertificatesBySerial(ctx context.Context, accountID int64, serials []string) ([]pca.Certificate, error) {
	if len(serials) == 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+certColumns+", b.der"+certJoins+"LEFT JOIN certificate_bodies b ON b.cert_id = c.id "+
		"WHERE c.account_id = ? AND c.serial IN ("+placeholders(len(serials))+")", append([]any{accountID}, anySlice(serials)...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: certificates by serial: %w", err)
	}
	defer rows.Close()
	var out []pca.Certificate
	var ids []string
	for rows.Next() {
		var der []byte
		c, err := scanCert(rows, &der)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: certificates by serial: %w", err)
		}
		c.DER = der
		out = append(out, c)
		ids = append(ids, c.Identifier)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: certificates by serial: %w", err)
	}
	rows.Close()
	tags, err := getTags(ctx, s.db, accountID, ids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Tags = tags[out[i].Identifier]
	}
	return out, nil
}

// SetUploadFlag implements store.LifecycleStore.
func (s *Store) SetUploadFlag(ctx context.Context, accountID int64, ids []int64) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	res, err := s.exec(ctx, "UPDATE certificates SET upload_flag = 1 WHERE account_id = ? AND id IN ("+placeholders(len(ids))+")",
		append([]any{accountID}, anySlice(ids)...)...)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: set upload flag: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// windowConds is how many conditions on changed_at ListCertificates appended
// last to its WHERE list for q's date window.
func windowConds(q store.ListQuery) int {
	n := 0
	if !q.ChangedFrom.IsZero() {
		n++
	}
	if !q.ChangedBefore.IsZero() {
		n++
	}
	return n
}

// countWindow counts the certificates matching where (conditions on c,
// without the window) whose last change lies in [from, before) (a zero time:
// unbounded). The whole UTC days inside the window are summed from
// cert_day_counts (countWhere: the same filters on its columns); only the
// parts of the window that cover a day partly are counted through the
// certs_changed index. So an exact count costs the window's days, not its
// certificates.
func (s *Store) countWindow(ctx context.Context, where []string, args []any, countWhere []string, countArgs []any, from, before time.Time) (int64, error) {
	lo, hi := int64(0), int64(math.MaxInt64)
	if !from.IsZero() && ms(from) > 0 {
		lo = ms(from)
	}
	if !before.IsZero() {
		hi = ms(before)
	}
	if hi <= lo {
		return 0, nil
	}
	indexCount := func(lo, hi int64) (int64, error) {
		var n int64
		cond := append(append([]string{}, where...), "c.changed_at >= ?", "c.changed_at < ?")
		err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM certificates c WHERE "+strings.Join(cond, " AND "), append(append([]any{}, args...), lo, hi)...).Scan(&n)
		return n, err
	}
	firstDay := (lo + msPerDay - 1) / msPerDay // the first day that starts at or after lo
	endDay := hi / msPerDay                    // days before it end at or before hi
	if hi == math.MaxInt64 {
		endDay = math.MaxInt64 / msPerDay
	}
	if firstDay >= endDay {
		return indexCount(lo, hi) // no whole day inside: the window is at most two partial days
	}
	var total int64
	cond := append(append([]string{}, countWhere...), "day >= ?", "day < ?")
	if err := s.db.QueryRowContext(ctx, "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM cert_day_counts WHERE "+strings.Join(cond, " AND "),
		append(append([]any{}, countArgs...), firstDay, endDay)...).Scan(&total); err != nil {
		return 0, err
	}
	if start := firstDay * msPerDay; lo < start {
		n, err := indexCount(lo, start)
		if err != nil {
			return 0, err
		}
		total += n
	}
	if end := endDay * msPerDay; hi != math.MaxInt64 && end < hi {
		n, err := indexCount(end, hi)
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// maxWindowDays bounds the days windowPage splits a window into: a page
// then reads at most maxWindowDays x limit index entries (about 3 ms for 400
// days on SQLite), where a sort reads the whole window. It stays below
// SQLite's 500 terms of one compound SELECT.
const maxWindowDays = 400

// windowPage returns the subquery choosing a token-mode page of a date
// window bounded on both sides by at most maxWindowDays UTC days: for each
// day, the newest limit ids of that day (certs_changed_day, in id order
// within a day), then the newest limit of those. The page's ids are among
// them, since every id of the window belongs to one day. So a page reads
// about days x limit index entries rather than every id of the window. Only
// the first and the last day are cut to the window, by filtering the day's
// entries: a range condition on changed_at would make the planner read the
// window through certs_changed instead. where and args are the other
// filters (not the window, not BeforeID).
//
// PostgreSQL runs one per-day subquery LATERAL over the series of days (one
// plan); SQLite, which has no LATERAL, a UNION ALL of one subquery per day
// with the index named (INDEXED BY), its days bound as parameters so that
// windows of equal length share a prepared statement.
func windowPage(d dialect, where []string, args []any, q store.ListQuery, limit int) (string, []any, bool) {
	if q.ChangedFrom.IsZero() || q.ChangedBefore.IsZero() || q.ResourceGroupID != "" {
		return "", nil, false
	}
	lo, hi := ms(q.ChangedFrom), ms(q.ChangedBefore)
	if lo < 0 || hi <= lo {
		return "", nil, false
	}
	first, last := dayOf(lo), dayOf(hi-1)
	if last-first+1 > maxWindowDays {
		return "", nil, false
	}
	cond, condArgs := append([]string{}, where...), append([]any{}, args...)
	if q.BeforeID > 0 {
		cond, condArgs = append(cond, "c.id < ?"), append(condArgs, q.BeforeID)
	}
	lim := " ORDER BY c.id DESC LIMIT " + strconv.Itoa(limit)
	if d == dialectPostgres {
		all := append([]any{first, last}, condArgs...)
		all = append(all, first, lo, last, hi)
		return "SELECT w.id FROM generate_series(CAST(? AS BIGINT), CAST(? AS BIGINT)) AS days(day) CROSS JOIN LATERAL " +
			"(SELECT c.id FROM certificates c WHERE " + strings.Join(cond, " AND ") + " AND c.changed_at / 86400000 = days.day" +
			" AND (days.day > ? OR c.changed_at >= ?) AND (days.day < ? OR c.changed_at < ?)" + lim + ") AS w" +
			" ORDER BY w.id DESC LIMIT " + strconv.Itoa(limit), all, true
	}
	parts := make([]string, 0, last-first+1)
	var all []any
	for day := first; day <= last; day++ {
		dc, da := append(append([]string{}, cond...), "c.changed_at / 86400000 = ?"), append(append([]any{}, condArgs...), day)
		if day == first {
			dc, da = append(dc, "c.changed_at >= ?"), append(da, lo)
		}
		if day == last {
			dc, da = append(dc, "c.changed_at < ?"), append(da, hi)
		}
		parts = append(parts, "SELECT id FROM (SELECT c.id FROM certificates c INDEXED BY certs_changed_day WHERE "+strings.Join(dc, " AND ")+
			lim+") AS d"+strconv.FormatInt(day-first, 10))
		all = append(all, da...)
	}
	return "SELECT id FROM (" + strings.Join(parts, " UNION ALL ") + ") AS w ORDER BY id DESC LIMIT " + strconv.Itoa(limit), all, true
}
