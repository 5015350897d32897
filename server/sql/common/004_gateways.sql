-- Gateways: a lower-cased search column for the console's q filter (filled in
-- C with util_utf8_lower so both databases match the same rows), and
-- indexes for tenant-scoped listing and deployments.
ALTER TABLE gateways ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
CREATE INDEX gateways_tenant ON gateways (tenant_id, name);
CREATE INDEX deployments_tenant ON deployments (tenant_id, created_at);
-- The status counts and status filters of GET /v1/gateways are range scans
-- of this covering index (also for the environment and type filters)
-- instead of scans of the wide rows. Heartbeats
-- update it (last_heartbeat_at, error_rate): one more small B-tree write.
CREATE INDEX gateways_health
    ON gateways (maintenance, last_heartbeat_at, error_rate, tenant_id, environment, type);
