-- An interview an analysis whose findings were stored has read: erasing it must redact the
-- campaign's analysis findings (their titles and summaries may hold its words) and have them
-- written anew; erasing one no stored analysis read (never completed, or completed after the
-- findings were made) touches neither. Interviews completed before this column existed may
-- have been read, so they count as read.

-- +goose Up
ALTER TABLE interviews ADD COLUMN analysed BOOLEAN NOT NULL DEFAULT false;
UPDATE interviews SET analysed = true WHERE status = 'completed';
