-- What erasing an interview looks for among its campaign's finding events, recorded as data
-- when each event is written (AddEvent reads its payload, a finding as REST shows it, once), so
-- an erasure reads index entries instead of matching patterns against the JSON of every
-- finding event of the campaign inside its write transaction:
--   event_quotes: the interviews a finding event's evidence quotes; erasing one of them
--     deletes the event. A finding event's quotes go with it.
--   events.analysis_words: the event shows an analysis finding as an analysis wrote it
--     (not as an erasure redacted it: that title and no tags), whose title, summary and tags
--     are made of participants' words; erasing an interview an analysis read deletes it.
-- Finding events written before this migration are read here, once, as AddEvent reads a new
-- one, so an erasure after the upgrade finds them as it finds later ones. The title is
-- store.RedactedTitle as it was when this migration was written. The JSON operators give NULL
-- for a payload of another shape; json_array_length and json_array_elements are only given
-- arrays.

-- +goose Up
ALTER TABLE events ADD COLUMN analysis_words BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX events_analysis_words ON events (team_id, campaign_id) WHERE analysis_words;
CREATE TABLE event_quotes (
    team_id      TEXT COLLATE "C" NOT NULL,
    interview_id TEXT COLLATE "C" NOT NULL,
    event_id     TEXT COLLATE "C" NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, interview_id, event_id)
);
-- Deleting an event (erasure, retention) finds its quotes by this.
CREATE INDEX event_quotes_event ON event_quotes (event_id);

UPDATE events SET analysis_words = true
WHERE type IN ('finding.created', 'finding.updated') AND payload->>'source' = 'analysis'
    AND NOT (payload->>'title' IS NOT DISTINCT FROM 'Being analysed again after an interview was erased'
        AND CASE WHEN json_typeof(payload->'tags') = 'array' THEN json_array_length(payload->'tags') = 0 ELSE false END);
INSERT INTO event_quotes (team_id, interview_id, event_id)
SELECT DISTINCT e.team_id, q->>'interview_id', e.id
FROM events e
CROSS JOIN LATERAL json_array_elements(CASE WHEN json_typeof(e.payload->'evidence') = 'array' THEN e.payload->'evidence' END) q
WHERE e.type IN ('finding.created', 'finding.updated')
    AND json_typeof(q->'interview_id') = 'string' AND q->>'interview_id' <> '';
