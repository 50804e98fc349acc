-- +goose Up
-- Certificates by the UTC day of their last change (changed_at / 86400000),
-- kept with cert_counts in the same transactions: a ListCert date window
-- counts its whole days here and only its two partial days through the
-- certs_changed index, so an exact TotalCount no longer reads the window.
CREATE TABLE cert_day_counts (
    account_id  BIGINT NOT NULL,
    day         BIGINT NOT NULL,
    ca_id       BIGINT NOT NULL,
    instance_id BIGINT NOT NULL,
    cert_type   TEXT COLLATE "C" NOT NULL,
    status      TEXT COLLATE "C" NOT NULL,
    n           BIGINT NOT NULL,
    PRIMARY KEY (account_id, day, ca_id, instance_id, cert_type, status)
);
INSERT INTO cert_day_counts (account_id, day, ca_id, instance_id, cert_type, status, n)
    SELECT account_id, changed_at / 86400000, ca_id, instance_id, cert_type, status, COUNT(*)
    FROM certificates GROUP BY account_id, changed_at / 86400000, ca_id, instance_id, cert_type, status;

-- +goose Down
DROP TABLE cert_day_counts;
