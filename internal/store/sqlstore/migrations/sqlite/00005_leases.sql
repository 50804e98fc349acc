-- +goose Up
-- Leases elect one replica for each background job (CRL rebuilds, sweeps):
-- the holder renews before expires_at (ms since the epoch); another replica
-- takes an expired lease.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE leases;
