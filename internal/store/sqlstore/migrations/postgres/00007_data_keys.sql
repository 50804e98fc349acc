-- +goose Up
-- Data keys: random AES-256 keys that seal private keys, AccessKey secrets
-- and server secrets. Each is stored wrapped (encrypted) under the master
-- key, which never reaches the database; master_fingerprint names that
-- master key (a keyed hash of it) so that a wrong key, or a master-key
-- rotation left half done, is reported before anything is opened.
-- ids are chosen by pcad (1 for the first key), not generated here.
CREATE TABLE data_keys (
    id                 BIGINT PRIMARY KEY,
    wrapped            BYTEA  NOT NULL,
    master_fingerprint TEXT COLLATE "C" NOT NULL,
    created_at         BIGINT NOT NULL
);

-- +goose Down
DROP TABLE data_keys;
