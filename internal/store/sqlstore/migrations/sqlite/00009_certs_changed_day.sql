-- +goose Up
-- A date window's first page: the newest ids of each UTC day of the window
-- come from this index in id order (a few entries per day), instead of a
-- sort of every id in the window (certs.go, windowPage).
CREATE INDEX certs_changed_day ON certificates (account_id, (changed_at / 86400000), id);

-- +goose Down
DROP INDEX certs_changed_day;
