-- +goose Up
-- Leases elect one replica for each background job (CRL rebuilds, sweeps):
-- the holder renews before expires_at (ms since the epoch); another replica
-- takes an expired lease.
CREATE TABLE leases (
    name       TEXT COLLATE "C" PRIMARY KEY,
    holder     TEXT COLLATE "C" NOT NULL,
    expires_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE leases;
