-- +goose Up
-- CA revocation, issuer type and the revocation sequence that drives CRL rebuilds.
ALTER TABLE cas ADD COLUMN revoked_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cas ADD COLUMN issuer_type TEXT NOT NULL DEFAULT 'local';
ALTER TABLE cas ADD COLUMN alias TEXT NOT NULL DEFAULT '';
-- Bumped by every revocation of a certificate the CA issued; a CRL records the
-- value it was built from, so a newer value means the CRL is stale.
ALTER TABLE cas ADD COLUMN revocation_seq INTEGER NOT NULL DEFAULT 0;

-- Every CA gets a default instance: a root's counts the sub-CAs it signs.
INSERT INTO instances (account_id, uuid, ca_id, total_count, issued_count, created_at)
SELECT c.account_id,
       lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-7' || substr(lower(hex(randomblob(2))), 2) || '-' ||
       substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))),
       c.id, 0, (SELECT COUNT(*) FROM cas s WHERE s.parent_id = c.id), c.created_at
FROM cas c WHERE c.ca_type = 'ROOT' AND NOT EXISTS (SELECT 1 FROM instances i WHERE i.ca_id = c.id);

-- Certificates: upload flag (UploadPcaCertToCas) and OCSP/status lookups by issuer and serial.
ALTER TABLE certificates ADD COLUMN upload_flag INTEGER NOT NULL DEFAULT 0;
CREATE INDEX certs_ca_serial ON certificates (ca_id, serial);

-- Revocations: the source of CRLs and OCSP answers. A row stays after the
-- certificate is deleted from the inventory, until it has expired.
CREATE TABLE revocations (
    ca_id      INTEGER NOT NULL,
    serial     TEXT    NOT NULL,
    account_id INTEGER NOT NULL,
    revoked_at INTEGER NOT NULL,
    reason     INTEGER NOT NULL,
    not_after  INTEGER NOT NULL,
    PRIMARY KEY (ca_id, serial)
) WITHOUT ROWID;
INSERT INTO revocations (ca_id, serial, account_id, revoked_at, reason, not_after)
SELECT ca_id, serial, account_id, revoked_at, revoke_reason, not_after FROM certificates WHERE status = 'REVOKE';

-- The latest CRL of each CA.
CREATE TABLE crls (
    ca_id       INTEGER PRIMARY KEY,
    number      INTEGER NOT NULL,
    built_seq   INTEGER NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    entries     INTEGER NOT NULL,
    der         BLOB    NOT NULL
);

-- Tags of CAs and certificates (resource_id is the identifier).
CREATE TABLE tags (
    account_id  INTEGER NOT NULL,
    resource_id TEXT    NOT NULL,
    tag_key     TEXT    NOT NULL,
    tag_value   TEXT    NOT NULL,
    PRIMARY KEY (account_id, resource_id, tag_key)
) WITHOUT ROWID;
CREATE INDEX tags_key ON tags (account_id, tag_key, tag_value);
INSERT INTO tags (account_id, resource_id, tag_key, tag_value)
SELECT c.account_id, c.identifier, json_extract(j.value, '$.Key'), json_extract(j.value, '$.Value')
FROM certificates c, json_each(c.tags) j;
INSERT INTO tags (account_id, resource_id, tag_key, tag_value)
SELECT c.account_id, c.identifier, json_extract(j.value, '$.Key'), json_extract(j.value, '$.Value')
FROM cas c, json_each(c.tags) j;
ALTER TABLE certificates DROP COLUMN tags;
ALTER TABLE cas DROP COLUMN tags;

-- CA events for ListCACertificateLog.
CREATE TABLE ca_events (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL,
    ca_id      INTEGER NOT NULL,
    op_type    TEXT    NOT NULL,
    content    TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX ca_events_ca ON ca_events (account_id, ca_id, id);

-- ClientToken idempotency: the first result of a token, per account and action.
CREATE TABLE idempotency (
    account_id  INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    token       TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    response    BLOB,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, action, token)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE idempotency;
DROP TABLE ca_events;
ALTER TABLE cas ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE certificates ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
DROP TABLE tags;
DROP TABLE crls;
DROP TABLE revocations;
DROP INDEX certs_ca_serial;
ALTER TABLE certificates DROP COLUMN upload_flag;
ALTER TABLE cas DROP COLUMN revocation_seq;
ALTER TABLE cas DROP COLUMN alias;
ALTER TABLE cas DROP COLUMN issuer_type;
ALTER TABLE cas DROP COLUMN revoked_at;
