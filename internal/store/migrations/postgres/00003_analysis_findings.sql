-- Analysis findings keep their identity across re-runs: analysis_key is the analyzer's stable
-- key of the theme (NULL on manual findings), unique per campaign, so a re-analysis updates
-- the finding it made before. And one analysis at a time per campaign: at most one queued or
-- running row, so two replicas racing to queue one cannot both win.

-- +goose Up
ALTER TABLE findings ADD COLUMN analysis_key TEXT COLLATE "C";
CREATE UNIQUE INDEX findings_analysis_key ON findings (team_id, campaign_id, analysis_key)
    WHERE analysis_key IS NOT NULL;
CREATE UNIQUE INDEX analyses_active ON analyses (team_id, campaign_id)
    WHERE status IN ('queued', 'running');
