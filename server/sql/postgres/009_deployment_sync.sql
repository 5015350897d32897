-- 009: deployments that really sync and detect drift (issue 18). Keep in step
-- with sqlite/009_deployment_sync.sql.
-- expected_hash: the content hash of the API version the gateway must apply
-- (recomputed when apis.updated_at moves past api_updated_at); applied_hash:
-- what the gateway last reported; environment: set when the deployment came
-- from an environment target (deployment_targets).
ALTER TABLE deployments ADD COLUMN expected_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE deployments ADD COLUMN applied_hash TEXT;
ALTER TABLE deployments ADD COLUMN api_updated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deployments ADD COLUMN environment TEXT;
ALTER TABLE deployments ADD COLUMN last_reported_at BIGINT;
ALTER TABLE deployments ADD COLUMN synced_at BIGINT;
CREATE INDEX deployments_api ON deployments (api_id);
CREATE INDEX deployments_status ON deployments (sync_status);

-- Every status change of a deployment, newest read first.
CREATE TABLE deployment_events (
    id BIGSERIAL PRIMARY KEY,
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    from_status TEXT,
    to_status TEXT NOT NULL,
    expected_hash TEXT,
    applied_hash TEXT,
    message TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX deployment_events_deployment ON deployment_events (deployment_id, at);

-- "Deploy this API to every gateway of environment E": gateways of E that
-- register later get their deployment at their first config poll.
CREATE TABLE deployment_targets (
    id TEXT PRIMARY KEY,
    api_id TEXT NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    environment TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (api_id, environment)
);
CREATE INDEX deployment_targets_environment ON deployment_targets (environment);
