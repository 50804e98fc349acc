package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/pcad-dev/pcad/internal/store"
)

// likeEscaper escapes the LIKE wildcards (and the escape character) of a
// literal, for "LIKE ? ESCAPE '\'".
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// AuditRecordsForResource implements store.AuditStore.
func (s *Store) AuditRecordsForResource(ctx context.Context, accountID int64, resource string, afterID int64, limit int) ([]store.AuditRecord, error) {
	if limit <= 0 {
		limit = 1000
	}
	if resource == "" {
		return nil, nil
	}
	lit := likeEscaper.Replace(resource)
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, account_id, principal_id, access_key_id, action, resource, code, request_id, source_ip, prev_hash, hash
		FROM audit_log WHERE account_id = ? AND id > ?
		AND (resource = ? OR resource LIKE ? ESCAPE '\' OR resource LIKE ? ESCAPE '\' OR resource LIKE ? ESCAPE '\')
		ORDER BY id LIMIT `+strconv.Itoa(limit),
		accountID, afterID, resource, lit+",%", "%,"+lit, "%,"+lit+",%")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: audit records for resource: %w", err)
	}
	defer rows.Close()
	var out []store.AuditRecord
	for rows.Next() {
		var r store.AuditRecord
		var at int64
		if err := rows.Scan(&r.ID, &at, &r.AccountID, &r.PrincipalID, &r.AccessKeyID, &r.Action, &r.Resource, &r.Code, &r.RequestID, &r.SourceIP,
			&r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("sqlstore: audit records for resource: %w", err)
		}
		r.At = fromMS(at)
		out = append(out, r)
	}
	return out, rows.Err()
}
