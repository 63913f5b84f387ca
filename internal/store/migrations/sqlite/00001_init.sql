-- Initial schema for the SQLite backend. Times are INTEGER Unix microseconds (UTC) so that
-- keyset comparisons are exact integer comparisons. Every table carries team_id and every index
-- used by a query starts with it.

-- +goose Up
CREATE TABLE interviews (
    id                      TEXT    PRIMARY KEY,
    team_id                 TEXT    NOT NULL,
    campaign_id             TEXT    NOT NULL,
    status                  TEXT    NOT NULL CHECK (status IN ('in_progress', 'completed', 'abandoned')),
    participant_name        TEXT    NOT NULL DEFAULT '',
    participant_email       TEXT    NOT NULL DEFAULT '',
    participant_external_id TEXT    NOT NULL DEFAULT '',
    participant_metadata    TEXT    NOT NULL DEFAULT 'null',
    message_count           INTEGER NOT NULL DEFAULT 0,
    question_count          INTEGER NOT NULL DEFAULT 0,
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    ended_at                INTEGER
);
CREATE INDEX interviews_team_created ON interviews (team_id, created_at, id);
CREATE INDEX interviews_team_updated ON interviews (team_id, updated_at, id);
CREATE INDEX interviews_campaign_created ON interviews (team_id, campaign_id, created_at, id);
CREATE INDEX interviews_campaign_updated ON interviews (team_id, campaign_id, updated_at, id);

CREATE TABLE messages (
    id           TEXT    PRIMARY KEY,
    team_id      TEXT    NOT NULL,
    interview_id TEXT    NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    role         TEXT    NOT NULL CHECK (role IN ('interviewer', 'participant')),
    content      TEXT    NOT NULL,
    sequence     INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (interview_id, sequence)
);

CREATE TABLE findings (
    id          TEXT    PRIMARY KEY,
    team_id     TEXT    NOT NULL,
    campaign_id TEXT    NOT NULL,
    type        TEXT    NOT NULL CHECK (type IN ('theme', 'pain_point', 'opportunity', 'insight')),
    title       TEXT    NOT NULL,
    summary     TEXT    NOT NULL DEFAULT '',
    sentiment   TEXT    NOT NULL CHECK (sentiment IN ('positive', 'neutral', 'negative', 'mixed')),
    confidence  REAL    NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    frequency   INTEGER NOT NULL DEFAULT 0,
    source      TEXT    NOT NULL CHECK (source IN ('analysis', 'manual')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX findings_team_created ON findings (team_id, created_at, id);
CREATE INDEX findings_team_updated ON findings (team_id, updated_at, id);
CREATE INDEX findings_team_title ON findings (team_id, title, id);
CREATE INDEX findings_campaign_created ON findings (team_id, campaign_id, created_at, id);

CREATE TABLE finding_tags (
    finding_id TEXT NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    team_id    TEXT NOT NULL,
    tag        TEXT NOT NULL,
    PRIMARY KEY (finding_id, tag)
);
CREATE INDEX finding_tags_team_tag ON finding_tags (team_id, tag, finding_id);

CREATE TABLE finding_evidence (
    finding_id   TEXT    NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    team_id      TEXT    NOT NULL,
    interview_id TEXT    NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    message_id   TEXT    REFERENCES messages (id) ON DELETE CASCADE,
    quote        TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (finding_id, position)
);
-- These two make the cascades from interviews and messages index lookups.
CREATE INDEX finding_evidence_interview ON finding_evidence (interview_id);
CREATE INDEX finding_evidence_message ON finding_evidence (message_id);

CREATE TABLE analyses (
    id          TEXT    PRIMARY KEY,
    team_id     TEXT    NOT NULL,
    campaign_id TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    finding_ids TEXT    NOT NULL DEFAULT '[]',
    error       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
);
CREATE INDEX analyses_campaign ON analyses (team_id, campaign_id);

CREATE TABLE share_links (
    id          TEXT    PRIMARY KEY,
    team_id     TEXT    NOT NULL,
    campaign_id TEXT    NOT NULL,
    token_hash  BLOB    NOT NULL UNIQUE,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER,
    created_at  INTEGER NOT NULL
);
-- One live (unrevoked) link per campaign.
CREATE UNIQUE INDEX share_links_live ON share_links (team_id, campaign_id) WHERE revoked_at IS NULL;

CREATE TABLE idempotency_records (
    team_id      TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    request_hash BLOB    NOT NULL,
    status_code  INTEGER NOT NULL,
    body         BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (team_id, key)
);
CREATE INDEX idempotency_expiry ON idempotency_records (team_id, expires_at);

CREATE TABLE events (
    id            TEXT    PRIMARY KEY,
    team_id       TEXT    NOT NULL,
    type          TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    dispatched_at INTEGER
);
CREATE INDEX events_pending ON events (team_id, created_at, id) WHERE dispatched_at IS NULL;

CREATE TABLE deliveries (
    id            TEXT    PRIMARY KEY,
    team_id       TEXT    NOT NULL,
    webhook_id    TEXT    NOT NULL,
    event_id      TEXT    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    event_type    TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    next_retry_at INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX deliveries_webhook_created ON deliveries (team_id, webhook_id, created_at, id);
CREATE INDEX deliveries_due ON deliveries (team_id, next_retry_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE delivery_attempts (
    delivery_id      TEXT    NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt          INTEGER NOT NULL,
    team_id          TEXT    NOT NULL,
    status_code      INTEGER NOT NULL DEFAULT 0,
    duration_ms      INTEGER NOT NULL DEFAULT 0,
    error            TEXT    NOT NULL DEFAULT '',
    response_excerpt TEXT    NOT NULL DEFAULT '',
    at               INTEGER NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
