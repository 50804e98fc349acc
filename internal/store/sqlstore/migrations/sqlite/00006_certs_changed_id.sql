-- +goose Up
-- Nothing to do on SQLite: migrations/postgres/00006 makes PostgreSQL's
-- certs_changed index carry the certificate id, which SQLite's index on
-- (account_id, changed_at) holds already (every SQLite index entry ends with
-- the rowid, and certificates.id is the rowid). The version exists on both
-- engines so that their migration numbers stay the same.

-- +goose Down
