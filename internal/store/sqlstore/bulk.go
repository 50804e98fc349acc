package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// BulkInsertCertificates stores many already-issued certificates in one
// transaction, for seeding benchmarks and imports. It leaves the database as
// the same InsertCertificate calls (in slice order, without keys) would: the
// certificate rows and bodies, revocations and each CA's revocation
// sequence, tags (a repeated key keeps its last value), the cert_counts
// counters and each instance's issued count. It does not enforce quotas.
// IDs are filled in, ascending in slice order (and left zero when the call
// fails). A duplicate identifier or custom identifier fails the whole call
// with store.ErrConflict.
//
// On PostgreSQL the rows go in through COPY, with ids drawn from the
// table's identity sequence first; on SQLite through the ordinary
// per-row statements.
//
// Shared rows are updated in the order InsertCertificate updates them
// (instances, then CAs, then counters), each kind in ascending key order,
// so that on PostgreSQL a bulk insert and concurrent issuance or other bulk
// inserts wait for each other instead of deadlocking.
func (s *Store) BulkInsertCertificates(ctx context.Context, certs []pca.Certificate) error {
	if len(certs) == 0 {
		return nil
	}
	var err error
	if s.db.e.dialect == dialectPostgres {
		err = s.bulkInsertPostgres(ctx, certs)
	} else {
		err = s.bulkInsertRows(ctx, certs)
	}
	if err != nil {
		// The transaction stored nothing: leave no ids behind either.
		for i := range certs {
			certs[i].ID = 0
		}
	}
	return err
}

// bulkInsertRows is BulkInsertCertificates through per-row statements.
func (s *Store) bulkInsertRows(ctx context.Context, certs []pca.Certificate) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		if err := bulkDraw(ctx, tx, certs); err != nil {
			return err
		}
		for i := range certs {
			if err := insertCertRow(ctx, tx, &certs[i]); err != nil {
				return err
			}
		}
		return bulkCount(ctx, tx, certs)
	})
}

// bulkDraw adds each instance's share of certs to its issued count, in
// ascending instance id order.
func bulkDraw(ctx context.Context, tx *sqlTx, certs []pca.Certificate) error {
	draws := map[int64]int64{}
	for i := range certs {
		draws[certs[i].InstanceID]++
	}
	for _, inst := range slices.Sorted(maps.Keys(draws)) {
		if _, err := tx.ExecContext(ctx, "UPDATE instances SET issued_count = issued_count + ? WHERE id = ?", draws[inst], inst); err != nil {
			return fmt.Errorf("sqlstore: bulk draw: %w", err)
		}
	}
	return nil
}

// countKey is one row of cert_counts, or with day of cert_day_counts.
type countKey struct {
	account, ca, inst int64
	typ               pca.CertType
	status            pca.Status
	day               int64
}

// kind is a certificate of k's account, CA, instance and type, for the
// count helpers.
func (k countKey) kind() *pca.Certificate {
	return &pca.Certificate{AccountID: k.account, CAID: k.ca, InstanceID: k.inst, Type: k.typ}
}

func (a countKey) compare(b countKey) int {
	return cmp.Or(cmp.Compare(a.account, b.account), cmp.Compare(a.day, b.day), cmp.Compare(a.ca, b.ca), cmp.Compare(a.inst, b.inst),
		cmp.Compare(a.typ, b.typ), cmp.Compare(a.status, b.status))
}

// bulkCount adds certs to the cert_counts and cert_day_counts counters, in
// primary-key order.
func bulkCount(ctx context.Context, tx *sqlTx, certs []pca.Certificate) error {
	counts, days := map[countKey]int64{}, map[countKey]int64{}
	for i := range certs {
		c := &certs[i]
		k := countKey{c.AccountID, c.CAID, c.InstanceID, c.Type, c.Status, 0}
		counts[k]++
		k.day = dayOf(ms(c.Changed))
		days[k]++
	}
	for _, k := range slices.SortedFunc(maps.Keys(counts), countKey.compare) {
		if err := bumpKindCount(ctx, tx, k.kind(), k.status, counts[k]); err != nil {
			return err
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(days), countKey.compare) {
		if err := bumpDayCount(ctx, tx, k.kind(), k.status, fromMS(k.day*msPerDay), days[k]); err != nil {
			return err
		}
	}
	return nil
}

// certCopyColumns are the certificates columns the PostgreSQL bulk path
// writes, in the order certCopyRow fills them. upload_flag keeps its
// default (0), as in insertCertRow.
var certCopyColumns = []string{"id", "account_id", "identifier", "ca_id", "instance_id", "cert_type", "status",
	"cn", "o", "ou", "l", "st", "c", "subject_dn", "sans", "algorithm", "serial", "not_before", "not_after", "key_ref", "alias",
	"custom_identifier", "extra", "resource_group_id", "revoked_at", "revoke_reason", "created_at", "changed_at"}

// certCopyRow is c as a row of certCopyColumns, with the values
// insertCertRow would bind.
func certCopyRow(c *pca.Certificate) ([]any, error) {
	sans, err := json.Marshal(nonNilSANs(c.SANs))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encode sans: %w", err)
	}
	var custom any
	if c.CustomIdentifier != "" {
		custom = c.CustomIdentifier
	}
	return []any{c.ID, c.AccountID, c.Identifier, c.CAID, c.InstanceID, string(c.Type), string(c.Status),
		c.Subject.CommonName, c.Subject.Organization, c.Subject.OrganizationUnit, c.Subject.Locality, c.Subject.State, c.Subject.Country,
		c.SubjectDN, string(sans), string(c.Algorithm), c.SerialNumber, ms(c.NotBefore), ms(c.NotAfter), c.KeyRef, c.AliasName, custom,
		c.Extra, c.ResourceGroupID, ms(c.RevokedAt), int32(c.RevokeReason), ms(c.Created), ms(c.Changed)}, nil
}

// bulkInsertPostgres is BulkInsertCertificates on PostgreSQL: one
// transaction on one connection, whose certificate rows and bodies go in
// through pgx's CopyFrom on the same connection (database/sql's Raw), and
// whose other writes are set-based statements.
func (s *Store) bulkInsertPostgres(ctx context.Context, certs []pca.Certificate) (err error) {
	conn, err := s.db.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: bulk insert: %w", err)
	}
	defer conn.Close()
	raw, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	defer func() {
		if err != nil {
			raw.Rollback()
		}
	}()
	tx := &sqlTx{tx: raw, e: s.db.e}

	// Draw from the instances first, as InsertCertificate does.
	if err := bulkDraw(ctx, tx, certs); err != nil {
		return err
	}

	// Ids from the identity sequence, so that they stay above every id
	// handed out before and after; sorted, so that slice order is id order.
	ids := make([]int64, 0, len(certs))
	rows, err := tx.QueryContext(ctx, "SELECT nextval(pg_get_serial_sequence('certificates', 'id')) FROM generate_series(1, ?)", len(certs))
	if err != nil {
		return fmt.Errorf("sqlstore: bulk ids: %w", err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("sqlstore: bulk ids: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlstore: bulk ids: %w", err)
	}
	if len(ids) != len(certs) {
		return fmt.Errorf("sqlstore: bulk ids: got %d, want %d", len(ids), len(certs))
	}
	slices.Sort(ids)
	for i := range certs {
		certs[i].ID = ids[i]
	}
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("sqlstore: bulk insert: driver connection is %T, not pgx", dc)
		}
		pc := sc.Conn()
		if _, err := pc.CopyFrom(ctx, pgx.Identifier{"certificates"}, certCopyColumns,
			pgx.CopyFromSlice(len(certs), func(i int) ([]any, error) { return certCopyRow(&certs[i]) })); err != nil {
			return copyErr("certificates", err)
		}
		if _, err := pc.CopyFrom(ctx, pgx.Identifier{"certificate_bodies"}, []string{"cert_id", "der"},
			pgx.CopyFromSlice(len(certs), func(i int) ([]any, error) { return []any{certs[i].ID, certs[i].DER}, nil })); err != nil {
			return copyErr("certificate bodies", err)
		}
		return nil
	})
	if err != nil {
		return err
	}

	if err := bulkRevocations(ctx, tx, certs); err != nil {
		return err
	}
	if err := bulkTags(ctx, tx, certs); err != nil {
		return err
	}
	if err := bulkCount(ctx, tx, certs); err != nil {
		return err
	}
	if err := raw.Commit(); err != nil {
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	return nil
}

// copyErr maps a COPY failure: a unique violation is a conflict, as for
// insertCertRow.
func copyErr(what string, err error) error {
	if isUnique(err) {
		return fmt.Errorf("sqlstore: bulk copy %s: %w: %w", what, store.ErrConflict, err)
	}
	return fmt.Errorf("sqlstore: bulk copy %s: %w", what, err)
}

// bulkRevocations records the revoked certificates of certs as addRevocation
// does for each: the first record of an issuer and serial stays, and every
// revoked certificate bumps its CA's revocation sequence (CAs in id order).
func bulkRevocations(ctx context.Context, tx *sqlTx, certs []pca.Certificate) error {
	var caIDs, accts, at, notAfter []int64
	var serials []string
	var reasons []int32
	seq := map[int64]int64{}
	for i := range certs {
		c := &certs[i]
		if c.Status != pca.StatusRevoke {
			continue
		}
		caIDs, accts, serials = append(caIDs, c.CAID), append(accts, c.AccountID), append(serials, c.SerialNumber)
		at, reasons, notAfter = append(at, ms(c.RevokedAt)), append(reasons, int32(c.RevokeReason)), append(notAfter, ms(c.NotAfter))
		seq[c.CAID]++
	}
	if len(caIDs) == 0 {
		return nil
	}
	for _, ca := range slices.Sorted(maps.Keys(seq)) {
		if _, err := tx.ExecContext(ctx, "UPDATE cas SET revocation_seq = revocation_seq + ? WHERE id = ?", seq[ca], ca); err != nil {
			return fmt.Errorf("sqlstore: bump revocation sequence: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO revocations (ca_id, serial, account_id, revoked_at, reason, not_after)
		SELECT * FROM unnest(?::bigint[], ?::text[], ?::bigint[], ?::bigint[], ?::integer[], ?::bigint[])
		ON CONFLICT (ca_id, serial) DO NOTHING`, caIDs, serials, accts, at, reasons, notAfter); err != nil {
		return fmt.Errorf("sqlstore: record revocations: %w", err)
	}
	return nil
}

// bulkTags writes the tags of certs as putTags does for each certificate:
// add, or replace the value of an existing key.
func bulkTags(ctx context.Context, tx *sqlTx, certs []pca.Certificate) error {
	var accts []int64
	var ids, keys, values []string
	for i := range certs {
		c := &certs[i]
		// One row per key: the last value given wins, as with one upsert
		// per tag (a statement may not upsert the same row twice).
		last := map[string]int{}
		for j, t := range c.Tags {
			last[t.Key] = j
		}
		for j, t := range c.Tags {
			if last[t.Key] != j {
				continue
			}
			accts, ids, keys, values = append(accts, c.AccountID), append(ids, c.Identifier), append(keys, t.Key), append(values, t.Value)
		}
	}
	if len(accts) == 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO tags (account_id, resource_id, tag_key, tag_value)
		SELECT * FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[])
		ON CONFLICT (account_id, resource_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`, accts, ids, keys, values); err != nil {
		return fmt.Errorf("sqlstore: put tags: %w", err)
	}
	return nil
}
