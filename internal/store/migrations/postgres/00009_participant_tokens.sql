-- An interview's participant token: the browser that started it reads and answers that one
-- interview with it, and nothing else. Only its SHA-256 is kept, on the interview's row, so it
-- goes with the interview when that is erased. Interviews started before have none (NULL),
-- and no token reaches them. It is looked up by the interview's id, never by the hash: no index.

-- +goose Up
ALTER TABLE interviews ADD COLUMN participant_token_hash BYTEA;
