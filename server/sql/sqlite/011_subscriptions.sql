-- Developer self-service (issue 15): an API's subscription mode and plans,
-- applications owned by a signed-in subject, and subscriptions of an
-- application to an API with a key stored only as SHA-256.
-- Times are milliseconds since the epoch. Keep sqlite/ and postgres/ in step.
ALTER TABLE apis ADD COLUMN subscription_mode TEXT NOT NULL DEFAULT 'approval'
    CHECK (subscription_mode IN ('auto', 'approval', 'closed'));
ALTER TABLE apis ADD COLUMN plans_json TEXT NOT NULL DEFAULT '[]';

CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    owner_subject TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (owner_subject, tenant_id, name)
);

CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    application_id TEXT NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    api_id TEXT NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    plan TEXT NOT NULL,
    requests_per_minute BIGINT,
    status TEXT NOT NULL
        CHECK (status IN ('pending', 'active', 'rejected', 'revoked', 'cancelled')),
    reason TEXT NOT NULL DEFAULT '',
    key_prefix TEXT UNIQUE,
    key_hash TEXT UNIQUE,
    key_created_at BIGINT,
    requested_by TEXT NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    approved_at BIGINT,
    decided_at BIGINT,
    cancelled_at BIGINT
);
-- One subscription per application and API that is not cancelled.
CREATE UNIQUE INDEX subscriptions_live ON subscriptions (application_id, api_id)
    WHERE status <> 'cancelled';
-- Covers the gateway config query (active keyed subscriptions of some APIs).
CREATE INDEX subscriptions_api ON subscriptions (api_id, status, id, plan, requests_per_minute, key_hash);
CREATE INDEX subscriptions_application ON subscriptions (application_id, created_at);
-- A counter bumped (in the same transaction) by every subscription change:
-- with the deployments of a gateway it makes that gateway's
-- subscriptions_etag, so an unchanged poll reads two small rows, not the list.
CREATE TABLE subscription_revision (
    id INTEGER PRIMARY KEY,
    revision BIGINT NOT NULL
);
INSERT INTO subscription_revision (id, revision) VALUES (1, 0);
