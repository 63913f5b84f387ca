-- Webhook delivery: events name their subject (delivery order is kept per subject) and the
-- campaign and interview they carry data of (erased with them); deliveries copy the subject and
-- mark test sends; webhook_health is each endpoint's failure streak, updated in the attempt's
-- transaction. Empty strings, not NULLs, stand for "none", as in the other text columns.

-- +goose Up
ALTER TABLE events ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN campaign_id TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN interview_id TEXT NOT NULL DEFAULT '';
-- Erasure finds a campaign's and an interview's events.
CREATE INDEX events_campaign ON events (team_id, campaign_id);
CREATE INDEX events_interview ON events (team_id, interview_id);
-- The dispatcher claims undispatched events of every team, oldest first; pruning walks the old
-- dispatched ones.
CREATE INDEX events_undispatched ON events (created_at, id) WHERE dispatched_at IS NULL;
CREATE INDEX events_dispatched ON events (created_at) WHERE dispatched_at IS NOT NULL;

ALTER TABLE deliveries ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
-- A delivery waits while an older one of its subject to its endpoint is pending.
CREATE INDEX deliveries_subject_pending ON deliveries (team_id, webhook_id, subject, created_at, id)
    WHERE status = 'pending';
-- Pending deliveries whose job may be lost, all teams, by last change; finished ones to prune.
CREATE INDEX deliveries_stranded ON deliveries (updated_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_finished ON deliveries (created_at) WHERE status <> 'pending';

CREATE TABLE webhook_health (
    team_id              TEXT NOT NULL,
    webhook_id           TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failing_since        INTEGER,
    last_delivery_at     INTEGER,
    last_success_at      INTEGER,
    updated_at           INTEGER NOT NULL,
    PRIMARY KEY (team_id, webhook_id)
) WITHOUT ROWID;
-- The dispatcher rolls changed health up into Webhook status, all teams.
CREATE INDEX webhook_health_updated ON webhook_health (updated_at, team_id, webhook_id);
