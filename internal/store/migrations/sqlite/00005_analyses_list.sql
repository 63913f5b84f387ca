-- ListAnalyses pages a team's analyses by (created_at, id), across the team or within one
-- campaign, as the interviews and findings indexes serve theirs. The campaign index replaces
-- analyses_campaign, a prefix of it, which served erasure's campaign_id lookups.

-- +goose Up
CREATE INDEX analyses_team_created ON analyses (team_id, created_at, id);
CREATE INDEX analyses_campaign_created ON analyses (team_id, campaign_id, created_at, id);
DROP INDEX analyses_campaign;
