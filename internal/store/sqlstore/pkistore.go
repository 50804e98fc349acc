package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// addRevocation records a revoked serial under its issuer and bumps the
// issuer's revocation sequence, which marks its CRL stale.
func addRevocation(ctx context.Context, tx *sqlTx, caID, accountID int64, serial string, at time.Time, reason pca.RevocationReason, notAfter time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO revocations (ca_id, serial, account_id, revoked_at, reason, not_after) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (ca_id, serial) DO NOTHING`, caID, serial, accountID, ms(at), int(reason), ms(notAfter)); err != nil {
		return fmt.Errorf("sqlstore: record revocation: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE cas SET revocation_seq = revocation_seq + 1 WHERE id = ?", caID); err != nil {
		return fmt.Errorf("sqlstore: bump revocation sequence: %w", err)
	}
	return nil
}

// CertificateByIssuerSerial implements store.PKIStore.
func (s *Store) CertificateByIssuerSerial(ctx context.Context, caID int64, serial string) (pca.Certificate, error) {
	c, err := scanCert(s.db.QueryRowContext(ctx, "SELECT "+certColumns+certJoins+"WHERE c.ca_id = ? AND c.serial = ?", caID, serial))
	if err != nil {
		return pca.Certificate{}, fmt.Errorf("sqlstore: certificate by serial: %w", notFound(err))
	}
	return c, nil
}

// RevocationByIssuerSerial implements store.PKIStore.
func (s *Store) RevocationByIssuerSerial(ctx context.Context, caID int64, serial string) (store.Revocation, error) {
	r := store.Revocation{Serial: serial}
	var at, na int64
	var reason int
	err := s.db.QueryRowContext(ctx, "SELECT revoked_at, reason, not_after FROM revocations WHERE ca_id = ? AND serial = ?", caID, serial).
		Scan(&at, &reason, &na)
	if err != nil {
		return store.Revocation{}, fmt.Errorf("sqlstore: revocation: %w", notFound(err))
	}
	r.RevokedAt, r.Reason, r.NotAfter = fromMS(at), pca.RevocationReason(reason), fromMS(na)
	return r, nil
}

// Revocations implements store.PKIStore. Rows are read in batches by serial
// so memory stays flat however many there are, and no read transaction
// stays open across the whole list. Each row is scanned into interface
// values, which database/sql assigns as the driver gives them, without the
// reflection a typed Scan costs per column: a CRL of a million entries
// reads a million rows.
func (s *Store) Revocations(ctx context.Context, caID int64, notAfterFrom time.Time, fn func(store.Revocation) error) error {
	const batch = 5000
	var cols [4]any
	dest := []any{&cols[0], &cols[1], &cols[2], &cols[3]}
	last := ""
	for {
		rows, err := s.db.QueryContext(ctx, `SELECT serial, revoked_at, reason, not_after FROM revocations
			WHERE ca_id = ? AND serial > ? AND not_after >= ? ORDER BY serial LIMIT `+strconv.Itoa(batch), caID, last, ms(notAfterFrom))
		if err != nil {
			return fmt.Errorf("sqlstore: revocations: %w", err)
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: revocations: %w", err)
			}
			r, err := revocationRow(cols)
			if err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: revocations: %w", err)
			}
			last = r.Serial
			n++
			if err := fn(r); err != nil {
				rows.Close()
				return err
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return fmt.Errorf("sqlstore: revocations: %w", err)
		}
		if n < batch {
			return nil
		}
	}
}

// revocationRow makes a Revocation of the serial, revoked_at, reason and
// not_after columns as the driver gave them: text as a string (or []byte),
// integers as int64.
func revocationRow(cols [4]any) (store.Revocation, error) {
	var r store.Revocation
	switch v := cols[0].(type) {
	case string:
		r.Serial = v
	case []byte:
		r.Serial = string(v)
	default:
		return r, fmt.Errorf("serial of type %T", cols[0])
	}
	var ints [3]int64
	for i, c := range cols[1:] {
		v, ok := c.(int64)
		if !ok {
			return r, fmt.Errorf("column %d of type %T, want an integer", i+2, c)
		}
		ints[i] = v
	}
	r.RevokedAt, r.Reason, r.NotAfter = fromMS(ints[0]), pca.RevocationReason(ints[1]), fromMS(ints[2])
	return r, nil
}

// RevocationSeq implements store.PKIStore.
func (s *Store) RevocationSeq(ctx context.Context, caID int64) (int64, error) {
	var seq int64
	if err := s.db.QueryRowContext(ctx, "SELECT revocation_seq FROM cas WHERE id = ?", caID).Scan(&seq); err != nil {
		return 0, fmt.Errorf("sqlstore: revocation sequence: %w", notFound(err))
	}
	return seq, nil
}

// GetCRL implements store.PKIStore.
func (s *Store) GetCRL(ctx context.Context, caID int64) (store.CRLRecord, error) {
	rec := store.CRLRecord{CAID: caID}
	var tu, nu int64
	err := s.db.QueryRowContext(ctx, "SELECT number, built_seq, this_update, next_update, entries, der FROM crls WHERE ca_id = ?", caID).
		Scan(&rec.Number, &rec.BuiltSeq, &tu, &nu, &rec.Entries, &rec.DER)
	if err != nil {
		return store.CRLRecord{}, fmt.Errorf("sqlstore: get crl: %w", notFound(err))
	}
	rec.ThisUpdate, rec.NextUpdate = fromMS(tu), fromMS(nu)
	return rec, nil
}

// CRLNumber implements store.PKIStore.
func (s *Store) CRLNumber(ctx context.Context, caID int64) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(number), 0) FROM crls WHERE ca_id = ?", caID).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: crl number: %w", err)
	}
	return n, nil
}

// PutCRL implements store.PKIStore.
func (s *Store) PutCRL(ctx context.Context, rec store.CRLRecord) error {
	res, err := s.exec(ctx, `INSERT INTO crls (ca_id, number, built_seq, this_update, next_update, entries, der) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (ca_id) DO UPDATE SET number = excluded.number, built_seq = excluded.built_seq, this_update = excluded.this_update,
			next_update = excluded.next_update, entries = excluded.entries, der = excluded.der
		WHERE excluded.number > crls.number`,
		rec.CAID, rec.Number, rec.BuiltSeq, ms(rec.ThisUpdate), ms(rec.NextUpdate), rec.Entries, rec.DER)
	if err != nil {
		return fmt.Errorf("sqlstore: put crl: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: put crl: %w", err)
	} else if n == 0 {
		return store.ErrConflict
	}
	return nil
}

// CAStates implements store.PKIStore.
func (s *Store) CAStates(ctx context.Context) ([]store.CAState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.status, c.revocation_seq, r.ca_id IS NOT NULL, COALESCE(r.number, 0),
		COALESCE(r.built_seq, 0), COALESCE(r.next_update, 0) FROM cas c LEFT JOIN crls r ON r.ca_id = c.id ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: ca states: %w", err)
	}
	defer rows.Close()
	var out []store.CAState
	for rows.Next() {
		var st store.CAState
		var status string
		var next int64
		if err := rows.Scan(&st.CAID, &status, &st.RevocationSeq, &st.HasCRL, &st.CRLNumber, &st.CRLBuiltSeq, &next); err != nil {
			return nil, fmt.Errorf("sqlstore: ca states: %w", err)
		}
		st.Status, st.CRLNextUpdate = pca.Status(status), fromMS(next)
		out = append(out, st)
	}
	return out, rows.Err()
}
