package sqlstore

import (
	"context"
	"fmt"

	"github.com/pcad-dev/pcad/internal/pca"
)

// BulkInsertCertificates stores many already-issued certificates in one
// transaction, for seeding benchmarks and imports. It keeps the counters and
// instance draws exactly as InsertCertificate does but does not enforce
// quotas. IDs are filled in.
func (s *Store) BulkInsertCertificates(ctx context.Context, certs []pca.Certificate) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		type key struct {
			ca, inst int64
			typ      pca.CertType
			status   pca.Status
			account  int64
		}
		counts := map[key]int64{}
		draws := map[int64]int64{}
		for i := range certs {
			c := &certs[i]
			if err := insertCertRow(ctx, tx, c); err != nil {
				return err
			}
			counts[key{c.CAID, c.InstanceID, c.Type, c.Status, c.AccountID}]++
			draws[c.InstanceID]++
		}
		for k, n := range counts {
			c := pca.Certificate{AccountID: k.account, CAID: k.ca, InstanceID: k.inst, Type: k.typ}
			if err := bumpCount(ctx, tx, &c, k.status, n); err != nil {
				return err
			}
		}
		for inst, n := range draws {
			if _, err := tx.ExecContext(ctx, "UPDATE instances SET issued_count = issued_count + ? WHERE id = ?", n, inst); err != nil {
				return fmt.Errorf("sqlstore: bulk draw: %w", err)
			}
		}
		return nil
	})
}
