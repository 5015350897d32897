-- Gateways: a lower-cased search column for the console's q filter (filled in
-- C with util_utf8_lower so both databases match the same rows), and
-- indexes for tenant-scoped listing and deployments (none on heartbeat columns:
-- every heartbeat would have to update it).
ALTER TABLE gateways ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
CREATE INDEX gateways_tenant ON gateways (tenant_id, name);
CREATE INDEX deployments_tenant ON deployments (tenant_id, created_at);
