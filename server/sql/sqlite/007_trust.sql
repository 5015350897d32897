-- Trust boundaries (issue 14).
-- 1. API key names are unique per tenant among keys that are not revoked.
--    Existing duplicates keep the oldest key's name; later ones get their
--    visible prefix appended ("ci (pk_ab12cd34)") so the index can be built.
UPDATE api_keys SET name = name || ' (' || prefix || ')'
WHERE revoked_at IS NULL AND EXISTS (
    SELECT 1 FROM api_keys o
    WHERE o.tenant_id = api_keys.tenant_id AND o.name = api_keys.name
      AND o.revoked_at IS NULL AND o.id <> api_keys.id
      AND (o.created_at < api_keys.created_at
           OR (o.created_at = api_keys.created_at AND o.id < api_keys.id)));
CREATE UNIQUE INDEX api_keys_tenant_name ON api_keys (tenant_id, name) WHERE revoked_at IS NULL;
-- 2. Sessions made from a keys-file key remember which key (an HMAC of its
--    hash under session.cookie_secret), so they end when the key leaves the
--    file or changes role or tenant.
ALTER TABLE sessions ADD COLUMN file_key_ref TEXT;
-- 3. Audit summaries: one record stands for repeat_count requests (NULL = 1).
ALTER TABLE audit_events ADD COLUMN repeat_count INTEGER;
