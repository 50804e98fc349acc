package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

const caColumns = `c.id, c.account_id, c.identifier, COALESCE(c.parent_id, 0), COALESCE(p.identifier, ''), c.ca_type, c.status,
	c.cn, c.o, c.ou, c.l, c.st, c.c, c.subject_dn, c.algorithm, c.key_ref, c.serial, c.der, c.not_before, c.not_after,
	c.years, c.path_len, c.ext_key_usages, c.cert_max_time, c.enable_crl, c.crl_days, c.resource_group_id, c.tags,
	COALESCE((SELECT i.uuid FROM instances i WHERE i.ca_id = c.id ORDER BY i.id LIMIT 1), ''), c.created_at`

// CreateCA implements store.Store.
func (s *Store) CreateCA(ctx context.Context, ca *pca.CA, key store.KeyRecord) error {
	eku, err := json.Marshal(nonNil(ca.ExtendedKeyUsages))
	if err != nil {
		return fmt.Errorf("sqlstore: encode ekus: %w", err)
	}
	tags, err := json.Marshal(nonNilTags(ca.Tags))
	if err != nil {
		return fmt.Errorf("sqlstore: encode tags: %w", err)
	}
	var parent any
	if ca.ParentID != 0 {
		parent = ca.ParentID
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := putKey(ctx, tx, key); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO cas (account_id, identifier, parent_id, ca_type, status,
			cn, o, ou, l, st, c, subject_dn, algorithm, key_ref, serial, der, not_before, not_after, years, path_len,
			ext_key_usages, cert_max_time, enable_crl, crl_days, resource_group_id, tags, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			ca.AccountID, ca.Identifier, parent, string(ca.Type), string(ca.Status),
			ca.Subject.CommonName, ca.Subject.Organization, ca.Subject.OrganizationUnit, ca.Subject.Locality, ca.Subject.State, ca.Subject.Country,
			ca.SubjectDN, string(ca.Algorithm), ca.KeyRef, ca.SerialNumber, ca.DER, ms(ca.NotBefore), ms(ca.NotAfter), ca.Years, ca.PathLen,
			string(eku), ca.CertMaxTime, boolInt(ca.EnableCRL), ca.CRLDays, ca.ResourceGroupID, string(tags), ms(ca.Created))
		if isUnique(err) {
			return store.ErrConflict
		}
		if err != nil {
			return fmt.Errorf("sqlstore: insert ca: %w", err)
		}
		if ca.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlstore: ca id: %w", err)
		}
		if ca.Type == pca.CASub {
			_, err := tx.ExecContext(ctx, `INSERT INTO instances (account_id, uuid, ca_id, total_count, issued_count, created_at)
				VALUES (?, ?, ?, 0, 0, ?)`, ca.AccountID, strings.ToLower(ca.InstanceUUID), ca.ID, ms(ca.Created))
			if isUnique(err) {
				return store.ErrConflict
			}
			if err != nil {
				return fmt.Errorf("sqlstore: insert instance: %w", err)
			}
		}
		return nil
	})
}

// GetCA implements store.Store.
func (s *Store) GetCA(ctx context.Context, accountID int64, identifier string) (pca.CA, error) {
	return s.getCA(ctx, "c.account_id = ? AND c.identifier = ?", accountID, identifier)
}

// GetCAByID implements store.Store.
func (s *Store) GetCAByID(ctx context.Context, accountID, id int64) (pca.CA, error) {
	return s.getCA(ctx, "c.account_id = ? AND c.id = ?", accountID, id)
}

func (s *Store) getCA(ctx context.Context, where string, args ...any) (pca.CA, error) {
	row := s.db.QueryRowContext(ctx, "SELECT "+caColumns+" FROM cas c LEFT JOIN cas p ON p.id = c.parent_id WHERE "+where, args...)
	var ca pca.CA
	var typ, status, alg, eku, tags string
	var nb, na, created int64
	var enableCRL int
	err := row.Scan(&ca.ID, &ca.AccountID, &ca.Identifier, &ca.ParentID, &ca.ParentIdentifier, &typ, &status,
		&ca.Subject.CommonName, &ca.Subject.Organization, &ca.Subject.OrganizationUnit, &ca.Subject.Locality, &ca.Subject.State, &ca.Subject.Country,
		&ca.SubjectDN, &alg, &ca.KeyRef, &ca.SerialNumber, &ca.DER, &nb, &na, &ca.Years, &ca.PathLen, &eku, &ca.CertMaxTime,
		&enableCRL, &ca.CRLDays, &ca.ResourceGroupID, &tags, &ca.InstanceUUID, &created)
	if err != nil {
		return pca.CA{}, fmt.Errorf("sqlstore: get ca: %w", notFound(err))
	}
	ca.Type, ca.Status, ca.Algorithm = pca.CAType(typ), pca.Status(status), pca.Algorithm(alg)
	ca.NotBefore, ca.NotAfter, ca.Created = fromMS(nb), fromMS(na), fromMS(created)
	ca.EnableCRL = enableCRL == 1
	if err := json.Unmarshal([]byte(eku), &ca.ExtendedKeyUsages); err != nil {
		return pca.CA{}, fmt.Errorf("sqlstore: decode ekus: %w", err)
	}
	if err := json.Unmarshal([]byte(tags), &ca.Tags); err != nil {
		return pca.CA{}, fmt.Errorf("sqlstore: decode tags: %w", err)
	}
	return ca, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilTags(t []pca.Tag) []pca.Tag {
	if t == nil {
		return []pca.Tag{}
	}
	return t
}

// GetInstance implements store.Store.
func (s *Store) GetInstance(ctx context.Context, accountID int64, uuid string) (pca.Instance, error) {
	in := pca.Instance{AccountID: accountID}
	err := s.db.QueryRowContext(ctx, "SELECT id, uuid, ca_id, total_count, issued_count FROM instances WHERE account_id = ? AND uuid = ?",
		accountID, strings.ToLower(uuid)).Scan(&in.ID, &in.UUID, &in.CAID, &in.TotalCount, &in.Issued)
	if err != nil {
		return pca.Instance{}, fmt.Errorf("sqlstore: get instance: %w", notFound(err))
	}
	return in, nil
}

// SetInstanceQuota implements store.Store.
func (s *Store) SetInstanceQuota(ctx context.Context, accountID int64, uuid string, total int64) error {
	res, err := s.db.ExecContext(ctx, "UPDATE instances SET total_count = ? WHERE account_id = ? AND uuid = ?", total, accountID, strings.ToLower(uuid))
	if err != nil {
		return fmt.Errorf("sqlstore: set quota: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlstore: set quota: %w", err)
	} else if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
