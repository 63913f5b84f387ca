-- The ids of erased interviews and campaigns, kept a day (as long as an idempotent answer):
-- an answer recorded after an erasure it raced, naming what was erased, is dropped rather
-- than kept for replay (see CompleteIdempotency). Expired idempotency records of every
-- caller are purged by their expiry.

-- +goose Up
CREATE TABLE erasures (
    id        TEXT NOT NULL PRIMARY KEY,
    erased_at INTEGER NOT NULL
);
CREATE INDEX erasures_erased_at ON erasures (erased_at);
CREATE INDEX idempotency_expires ON idempotency_records (expires_at);
