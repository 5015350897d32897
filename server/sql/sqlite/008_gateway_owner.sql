-- Gateways: tenant_id NULL = a shared gateway (the guide's "tenant_id": null,
-- no tenant restriction), and owner_key_hash, the digest of the gateway key
-- that registered it (the key owns the gateway; only the digest is stored).
-- Registrations without a tenant used to be stored as 'default': those
-- become shared. SQLite cannot drop NOT NULL in place; the column is
-- re-created (RENAME / ADD / copy / DROP keeps every other table's foreign
-- keys untouched), and the two indexes over it with it.
DROP INDEX gateways_tenant;
DROP INDEX gateways_health;
ALTER TABLE gateways RENAME COLUMN tenant_id TO tenant_id_before_008;
ALTER TABLE gateways ADD COLUMN tenant_id TEXT;
UPDATE gateways SET tenant_id = NULLIF(tenant_id_before_008, 'default');
ALTER TABLE gateways DROP COLUMN tenant_id_before_008;
ALTER TABLE gateways ADD COLUMN owner_key_hash TEXT;
CREATE INDEX gateways_tenant ON gateways (tenant_id, name);
CREATE INDEX gateways_health
    ON gateways (maintenance, last_heartbeat_at, error_rate, tenant_id, environment, type);
