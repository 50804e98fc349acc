package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// getTags loads the tags of resources, ordered by key.
func getTags(ctx context.Context, q querier, accountID int64, ids []string) (map[string][]pca.Tag, error) {
	out := make(map[string][]pca.Tag, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := q.QueryContext(ctx, "SELECT resource_id, tag_key, tag_value FROM tags WHERE account_id = ? AND resource_id IN ("+
		placeholders(len(ids))+") ORDER BY resource_id, tag_key", append([]any{accountID}, anySlice(ids)...)...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var t pca.Tag
		if err := rows.Scan(&id, &t.Key, &t.Value); err != nil {
			return nil, fmt.Errorf("sqlstore: get tags: %w", err)
		}
		out[id] = append(out[id], t)
	}
	return out, rows.Err()
}

// putTags adds or replaces tags by key.
func putTags(ctx context.Context, tx execer, accountID int64, resourceID string, tags []pca.Tag) error {
	for _, t := range tags {
		_, err := tx.ExecContext(ctx, `INSERT INTO tags (account_id, resource_id, tag_key, tag_value) VALUES (?, ?, ?, ?)
			ON CONFLICT (account_id, resource_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`,
			accountID, resourceID, t.Key, t.Value)
		if err != nil {
			return fmt.Errorf("sqlstore: put tag: %w", err)
		}
	}
	return nil
}

// GetTags implements store.LifecycleStore.
func (s *Store) GetTags(ctx context.Context, accountID int64, resourceIDs []string) (map[string][]pca.Tag, error) {
	return getTags(ctx, s.db, accountID, resourceIDs)
}

// SetTags implements store.LifecycleStore.
func (s *Store) SetTags(ctx context.Context, accountID int64, resourceID string, tags []pca.Tag, maxTags int) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		// Adding then counting is a read-modify-write: serialise the writers
		// of one resource's tags so that two cannot pass the limit together.
		if err := tx.lock(ctx, "tags:"+strconv.FormatInt(accountID, 10)+":"+resourceID); err != nil {
			return err
		}
		if err := putTags(ctx, tx, accountID, resourceID, tags); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM tags WHERE account_id = ? AND resource_id = ?", accountID, resourceID).Scan(&n); err != nil {
			return fmt.Errorf("sqlstore: count tags: %w", err)
		}
		if maxTags > 0 && n > maxTags {
			return store.ErrQuota
		}
		return nil
	})
}

// RemoveTags implements store.LifecycleStore.
func (s *Store) RemoveTags(ctx context.Context, accountID int64, resourceID string, keys []string) error {
	q, args := "DELETE FROM tags WHERE account_id = ? AND resource_id = ?", []any{accountID, resourceID}
	if keys != nil {
		if len(keys) == 0 {
			return nil
		}
		q += " AND tag_key IN (" + placeholders(len(keys)) + ")"
		args = append(args, anySlice(keys)...)
	}
	if _, err := s.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("sqlstore: remove tags: %w", err)
	}
	return nil
}

// FindTagged implements store.LifecycleStore. The cursor encodes the last
// (resource, key) pair returned.
func (s *Store) FindTagged(ctx context.Context, accountID int64, resourceIDs []string, match []pca.Tag, after string, limit int) ([]store.TaggedResource, string, error) {
	if limit <= 0 {
		limit = 20
	}
	where := []string{"t.account_id = ?"}
	args := []any{accountID}
	if len(resourceIDs) > 0 {
		where, args = append(where, "t.resource_id IN ("+placeholders(len(resourceIDs))+")"), append(args, anySlice(resourceIDs)...)
	}
	for _, m := range match {
		cond := "EXISTS (SELECT 1 FROM tags m WHERE m.account_id = t.account_id AND m.resource_id = t.resource_id AND m.tag_key = ?"
		args = append(args, m.Key)
		if m.Value != "" {
			cond += " AND m.tag_value = ?"
			args = append(args, m.Value)
		}
		where = append(where, cond+")")
	}
	if after != "" {
		raw, err := base64.RawURLEncoding.DecodeString(after)
		res, key, ok := strings.Cut(string(raw), "\x00")
		if err != nil || !ok {
			return nil, "", store.ErrNotFound
		}
		where, args = append(where, "(t.resource_id > ? OR (t.resource_id = ? AND t.tag_key > ?))"), append(args, res, res, key)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT t.resource_id, t.tag_key, t.tag_value FROM tags t WHERE "+strings.Join(where, " AND ")+
		" ORDER BY t.resource_id, t.tag_key LIMIT "+strconv.Itoa(limit+1), args...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlstore: find tagged: %w", err)
	}
	defer rows.Close()
	var out []store.TaggedResource
	for rows.Next() {
		var r store.TaggedResource
		if err := rows.Scan(&r.ResourceID, &r.Tag.Key, &r.Tag.Value); err != nil {
			return nil, "", fmt.Errorf("sqlstore: find tagged: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlstore: find tagged: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		next = base64.RawURLEncoding.EncodeToString([]byte(last.ResourceID + "\x00" + last.Tag.Key))
	}
	return out, next, nil
}

// SetResourceGroup implements store.LifecycleStore.
func (s *Store) SetResourceGroup(ctx context.Context, accountID int64, resourceID, group string) error {
	return s.inTx(ctx, func(tx *sqlTx) error {
		for _, table := range []string{"cas", "certificates"} {
			res, err := tx.ExecContext(ctx, "UPDATE "+table+" SET resource_group_id = ? WHERE account_id = ? AND identifier = ?", group, accountID, resourceID)
			if err := affectedOne(res, err, "set resource group"); err == nil {
				return nil
			} else if err != store.ErrNotFound {
				return err
			}
		}
		return store.ErrNotFound
	})
}
