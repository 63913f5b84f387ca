-- Exact interview counts without COUNT(*): one row per (team, campaign, status) plus one per
-- (team, status) with campaign_id '' for team-wide totals, so any total_count of the interview
-- list is one row read (status given) or the sum of three (status not given). The store changes
-- them in the same transaction as the interviews they count; this migration backfills them.
-- Also the index the idle sweep walks: in_progress interviews by last activity, all teams.

-- +goose Up
CREATE TABLE interview_counts (
    team_id     TEXT COLLATE "C" NOT NULL,
    campaign_id TEXT COLLATE "C" NOT NULL, -- '' is the team-wide row
    status      TEXT             NOT NULL,
    n           BIGINT           NOT NULL,
    PRIMARY KEY (team_id, campaign_id, status)
);

INSERT INTO interview_counts (team_id, campaign_id, status, n)
SELECT team_id, campaign_id, status, COUNT(*) FROM interviews GROUP BY team_id, campaign_id, status;
INSERT INTO interview_counts (team_id, campaign_id, status, n)
SELECT team_id, '', status, COUNT(*) FROM interviews GROUP BY team_id, status;

-- Partial: only in_progress rows are ever swept, and the sweep's literal status = 'in_progress'
-- matches this WHERE, so the planner can use it.
CREATE INDEX interviews_idle ON interviews (updated_at) WHERE status = 'in_progress';
