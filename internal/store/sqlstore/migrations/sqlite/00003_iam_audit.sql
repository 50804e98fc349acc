-- +goose Up
-- RAM users are principals that are not the owner.
ALTER TABLE principals ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE principals ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE principals ADD COLUMN mobile_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE principals ADD COLUMN comments TEXT NOT NULL DEFAULT '';
ALTER TABLE principals ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX access_keys_principal ON access_keys (account_id, principal_id);

-- Custom policies (RAM policy documents). System policies are built in, not stored.
CREATE TABLE policies (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL,
    document    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
) WITHOUT ROWID;

CREATE TABLE policy_attachments (
    account_id   INTEGER NOT NULL,
    principal_id INTEGER NOT NULL REFERENCES principals(id),
    policy_type  TEXT    NOT NULL,
    policy_name  TEXT    NOT NULL,
    attached_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, principal_id, policy_type, policy_name)
) WITHOUT ROWID;
CREATE INDEX policy_attachments_policy ON policy_attachments (account_id, policy_type, policy_name);

-- The audit log: one row per API call, each chained to the previous by hash.
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    account_id    INTEGER NOT NULL,
    principal_id  INTEGER NOT NULL,
    access_key_id TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    resource      TEXT    NOT NULL,
    code          TEXT    NOT NULL,
    request_id    TEXT    NOT NULL,
    source_ip     TEXT    NOT NULL,
    prev_hash     BLOB    NOT NULL,
    hash          BLOB    NOT NULL
);
CREATE INDEX audit_log_account ON audit_log (account_id, id);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE policy_attachments;
DROP TABLE policies;
DROP INDEX access_keys_principal;
ALTER TABLE principals DROP COLUMN updated_at;
ALTER TABLE principals DROP COLUMN comments;
ALTER TABLE principals DROP COLUMN mobile_phone;
ALTER TABLE principals DROP COLUMN email;
ALTER TABLE principals DROP COLUMN display_name;
