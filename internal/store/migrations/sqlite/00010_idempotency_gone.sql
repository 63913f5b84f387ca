-- An idempotent answer that was the campaign its request made or acted on, once that campaign
-- is deleted: the answer is erased with it (body emptied) but the record stays until it
-- expires, holding the campaign's id, so a retry of the create is told the campaign was
-- deleted instead of making it again. Such a record holds no personal data (campaigns hold
-- none); records of interviews go whole with them, as before.

-- +goose Up
ALTER TABLE idempotency_records ADD COLUMN gone TEXT NOT NULL DEFAULT '';
