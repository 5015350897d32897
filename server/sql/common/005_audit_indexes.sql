-- Audit log: tenant-scoped listing (tenant-admins see only their tenant's
-- events, newest first) and the status/path filters of GET /v1/audit.
CREATE INDEX audit_events_tenant ON audit_events (tenant_id, at);
CREATE INDEX audit_events_path ON audit_events (path, at);
