-- A participant's interviews, for an erasure request ("everything about ada@example.com"):
-- the interview list filters by participant e-mail, with ASCII letters folded as addresses
-- compare across the project (SQLite's lower() folds ASCII only), and by external id, exactly.
-- Each index is the team's entries of one participant, in the list's keyset order, so the
-- lookup reads nothing else. Partial: interviews without either value are left out.

-- +goose Up
CREATE INDEX interviews_participant_email ON interviews (team_id, lower(participant_email), created_at, id)
    WHERE participant_email <> '';
CREATE INDEX interviews_participant_external_id ON interviews (team_id, participant_external_id, created_at, id)
    WHERE participant_external_id <> '';
