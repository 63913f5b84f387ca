-- The ids each recorded idempotent answer names (the UUIDs in its body: interviews, messages,
-- campaigns), so that erasing an interview or a campaign finds the answers to erase by index
-- instead of reading every caller's answers of the day. Answers recorded before this table
-- existed have no names (named = 0) and are still found by reading their bodies until they
-- expire, a day later. A record's names go with it.

-- +goose Up
ALTER TABLE idempotency_records ADD COLUMN named INTEGER NOT NULL DEFAULT 0;
CREATE INDEX idempotency_unnamed ON idempotency_records (named) WHERE named = 0;
CREATE TABLE idempotency_names (
    team_id TEXT COLLATE "C" NOT NULL,
    key     TEXT COLLATE "C" NOT NULL,
    name    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (team_id, key, name),
    FOREIGN KEY (team_id, key) REFERENCES idempotency_records (team_id, key) ON DELETE CASCADE
);
CREATE INDEX idempotency_names_name ON idempotency_names (name);
