-- Initial schema for the PostgreSQL backend. Identifiers and titles use the "C" collation so
-- ordering (and so keyset pagination) matches the SQLite backend byte for byte. Every table carries team_id and every index
-- used by a query starts with it.

-- +goose Up
CREATE TABLE interviews (
    id                      TEXT COLLATE "C"    PRIMARY KEY,
    team_id                 TEXT COLLATE "C"    NOT NULL,
    campaign_id             TEXT COLLATE "C"    NOT NULL,
    status                  TEXT    NOT NULL CHECK (status IN ('in_progress', 'completed', 'abandoned')),
    participant_name        TEXT    NOT NULL DEFAULT '',
    participant_email       TEXT    NOT NULL DEFAULT '',
    participant_external_id TEXT COLLATE "C"    NOT NULL DEFAULT '',
    participant_metadata    JSONB    NOT NULL DEFAULT 'null'::jsonb,
    message_count           INTEGER NOT NULL DEFAULT 0,
    question_count          INTEGER NOT NULL DEFAULT 0,
    created_at              TIMESTAMPTZ NOT NULL,
    updated_at              TIMESTAMPTZ NOT NULL,
    ended_at                TIMESTAMPTZ
);
CREATE INDEX interviews_team_created ON interviews (team_id, created_at, id);
CREATE INDEX interviews_team_updated ON interviews (team_id, updated_at, id);
CREATE INDEX interviews_campaign_created ON interviews (team_id, campaign_id, created_at, id);
CREATE INDEX interviews_campaign_updated ON interviews (team_id, campaign_id, updated_at, id);

CREATE TABLE messages (
    id           TEXT COLLATE "C"    PRIMARY KEY,
    team_id      TEXT COLLATE "C"    NOT NULL,
    interview_id TEXT COLLATE "C"    NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    role         TEXT    NOT NULL CHECK (role IN ('interviewer', 'participant')),
    content      TEXT    NOT NULL,
    sequence     BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (interview_id, sequence)
);

CREATE TABLE findings (
    id          TEXT COLLATE "C"    PRIMARY KEY,
    team_id     TEXT COLLATE "C"    NOT NULL,
    campaign_id TEXT COLLATE "C"    NOT NULL,
    type        TEXT    NOT NULL CHECK (type IN ('theme', 'pain_point', 'opportunity', 'insight')),
    title       TEXT COLLATE "C"    NOT NULL,
    summary     TEXT    NOT NULL DEFAULT '',
    sentiment   TEXT    NOT NULL CHECK (sentiment IN ('positive', 'neutral', 'negative', 'mixed')),
    confidence  DOUBLE PRECISION    NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    frequency   INTEGER NOT NULL DEFAULT 0,
    source      TEXT    NOT NULL CHECK (source IN ('analysis', 'manual')),
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX findings_team_created ON findings (team_id, created_at, id);
CREATE INDEX findings_team_updated ON findings (team_id, updated_at, id);
CREATE INDEX findings_team_title ON findings (team_id, title, id);
CREATE INDEX findings_campaign_created ON findings (team_id, campaign_id, created_at, id);

CREATE TABLE finding_tags (
    finding_id TEXT COLLATE "C" NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    team_id    TEXT COLLATE "C" NOT NULL,
    tag        TEXT NOT NULL,
    PRIMARY KEY (finding_id, tag)
);
CREATE INDEX finding_tags_team_tag ON finding_tags (team_id, tag, finding_id);

CREATE TABLE finding_evidence (
    finding_id   TEXT COLLATE "C"    NOT NULL REFERENCES findings (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    team_id      TEXT COLLATE "C"    NOT NULL,
    interview_id TEXT COLLATE "C"    NOT NULL REFERENCES interviews (id) ON DELETE CASCADE,
    message_id   TEXT COLLATE "C"    REFERENCES messages (id) ON DELETE CASCADE,
    quote        TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (finding_id, position)
);
-- These two make the cascades from interviews and messages index lookups.
CREATE INDEX finding_evidence_interview ON finding_evidence (interview_id);
CREATE INDEX finding_evidence_message ON finding_evidence (message_id);

CREATE TABLE analyses (
    id          TEXT COLLATE "C"    PRIMARY KEY,
    team_id     TEXT COLLATE "C"    NOT NULL,
    campaign_id TEXT COLLATE "C"    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    finding_ids TEXT    NOT NULL DEFAULT '[]',
    error       TEXT    NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    started_at  TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);
CREATE INDEX analyses_campaign ON analyses (team_id, campaign_id);

CREATE TABLE share_links (
    id          TEXT COLLATE "C"    PRIMARY KEY,
    team_id     TEXT COLLATE "C"    NOT NULL,
    campaign_id TEXT COLLATE "C"    NOT NULL,
    token_hash  BYTEA    NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);
-- One live (unrevoked) link per campaign.
CREATE UNIQUE INDEX share_links_live ON share_links (team_id, campaign_id) WHERE revoked_at IS NULL;

CREATE TABLE idempotency_records (
    team_id      TEXT COLLATE "C"    NOT NULL,
    key          TEXT COLLATE "C"    NOT NULL,
    request_hash BYTEA    NOT NULL,
    status_code  INTEGER NOT NULL,
    body         BYTEA    NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (team_id, key)
);
CREATE INDEX idempotency_expiry ON idempotency_records (team_id, expires_at);

CREATE TABLE events (
    id            TEXT COLLATE "C"    PRIMARY KEY,
    team_id       TEXT COLLATE "C"    NOT NULL,
    type          TEXT    NOT NULL,
    payload       JSON    NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    dispatched_at TIMESTAMPTZ
);
CREATE INDEX events_pending ON events (team_id, created_at, id) WHERE dispatched_at IS NULL;

CREATE TABLE deliveries (
    id            TEXT COLLATE "C"    PRIMARY KEY,
    team_id       TEXT COLLATE "C"    NOT NULL,
    webhook_id    TEXT COLLATE "C"    NOT NULL,
    event_id      TEXT COLLATE "C"    NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    event_type    TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    next_retry_at TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX deliveries_webhook_created ON deliveries (team_id, webhook_id, created_at, id);
CREATE INDEX deliveries_due ON deliveries (team_id, next_retry_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON deliveries (event_id);

CREATE TABLE delivery_attempts (
    delivery_id      TEXT COLLATE "C"    NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt          INTEGER NOT NULL,
    team_id          TEXT COLLATE "C"    NOT NULL,
    status_code      INTEGER NOT NULL DEFAULT 0,
    duration_ms      BIGINT NOT NULL DEFAULT 0,
    error            TEXT    NOT NULL DEFAULT '',
    response_excerpt TEXT    NOT NULL DEFAULT '',
    at               TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
