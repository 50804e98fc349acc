package sqlstore

import (
	"context"
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
	return s.queryAudit(ctx, "audit records for resource", `account_id = ? AND id > ?
		AND (resource = ? OR resource LIKE ? ESCAPE '\' OR resource LIKE ? ESCAPE '\' OR resource LIKE ? ESCAPE '\')
		ORDER BY id LIMIT `+strconv.Itoa(limit),
		accountID, afterID, resource, lit+",%", "%,"+lit, "%,"+lit+",%")
}
