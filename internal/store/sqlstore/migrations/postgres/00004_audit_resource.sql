-- +goose Up
-- ListCACertificateLog reads a CA's records from the audit log by resource.
CREATE INDEX audit_log_resource ON audit_log (account_id, resource, id);
-- The API call (audit request_id) that wrote each CA log detail.
ALTER TABLE ca_events ADD COLUMN request_id TEXT COLLATE "C" NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE ca_events DROP COLUMN request_id;
DROP INDEX audit_log_resource;
