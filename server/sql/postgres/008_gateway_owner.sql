-- Gateways: tenant_id NULL = a shared gateway (the guide's "tenant_id": null,
-- no tenant restriction), and owner_key_hash, the digest of the gateway key
-- that registered it (the key owns the gateway; only the digest is stored).
-- Registrations without a tenant used to be stored as 'default': those
-- become shared.
ALTER TABLE gateways ALTER COLUMN tenant_id DROP NOT NULL;
ALTER TABLE gateways ALTER COLUMN tenant_id DROP DEFAULT;
UPDATE gateways SET tenant_id = NULL WHERE tenant_id = 'default';
ALTER TABLE gateways ADD COLUMN owner_key_hash TEXT;
