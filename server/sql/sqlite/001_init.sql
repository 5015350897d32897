-- Portico schema v1 (SQLite). Times are milliseconds since the epoch,
-- booleans 0/1, JSON as TEXT. Keep in step with postgres/001_init.sql.

CREATE TABLE apis (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    version TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    tags_json TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'deprecated')),
    portal_visible INTEGER NOT NULL DEFAULT 1,
    audience TEXT NOT NULL DEFAULT 'public' CHECK (audience IN ('public', 'internal')),
    owner TEXT NOT NULL DEFAULT '',
    base_path TEXT NOT NULL DEFAULT '',
    servers_json TEXT NOT NULL DEFAULT '[]',
    openapi TEXT,
    openapi_format TEXT,
    search_text TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, name, version)
);
CREATE INDEX apis_portal ON apis (status, portal_visible, audience);
CREATE INDEX apis_name ON apis (name_lower, id);
CREATE INDEX apis_updated ON apis (updated_at);

CREATE TABLE api_tags (
    api_id TEXT NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (api_id, tag)
);
CREATE INDEX api_tags_tag ON api_tags (tag);

CREATE TABLE api_operations (
    api_id TEXT NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    operation_id TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    tags_json TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (api_id, seq)
);

CREATE TABLE gateways (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    hostname TEXT NOT NULL,
    type TEXT NOT NULL,
    mode TEXT NOT NULL,
    environment TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    capabilities_json TEXT NOT NULL DEFAULT '[]',
    admin_url TEXT NOT NULL DEFAULT '',
    tenant_id TEXT NOT NULL DEFAULT 'default',
    maintenance INTEGER NOT NULL DEFAULT 0,
    registered_at BIGINT NOT NULL,
    last_heartbeat_at BIGINT,
    uptime_seconds BIGINT,
    routes_count BIGINT,
    policies_count BIGINT,
    requests_total BIGINT,
    error_rate REAL,
    prev_heartbeat_at BIGINT,
    prev_uptime_seconds BIGINT,
    prev_routes_count BIGINT,
    prev_policies_count BIGINT,
    prev_requests_total BIGINT,
    prev_error_rate REAL,
    recorded_status TEXT NOT NULL DEFAULT 'online',
    updated_at BIGINT NOT NULL
);
CREATE INDEX gateways_status ON gateways (environment, type);

CREATE TABLE gateway_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    gateway_id TEXT NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    from_status TEXT,
    to_status TEXT NOT NULL,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX gateway_events_gateway ON gateway_events (gateway_id, at);

CREATE TABLE deployments (
    id TEXT PRIMARY KEY,
    api_id TEXT NOT NULL REFERENCES apis (id) ON DELETE CASCADE,
    gateway_id TEXT NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    tenant_id TEXT NOT NULL,
    desired_state TEXT NOT NULL DEFAULT 'deployed',
    sync_status TEXT NOT NULL DEFAULT 'pending'
        CHECK (sync_status IN ('pending', 'syncing', 'synced', 'drifted', 'error')),
    sync_attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (api_id, gateway_id)
);
CREATE INDEX deployments_gateway ON deployments (gateway_id);

CREATE TABLE policies (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    config_json TEXT NOT NULL DEFAULT '{}',
    gateway_id TEXT REFERENCES gateways (id) ON DELETE CASCADE,
    api_id TEXT REFERENCES apis (id) ON DELETE CASCADE,
    sync_status TEXT NOT NULL DEFAULT 'pending',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX policies_gateway ON policies (gateway_id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    auth_type TEXT NOT NULL,
    role TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    key_id TEXT,
    id_token TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE oidc_states (
    state_hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    request_id TEXT,
    method TEXT,
    path TEXT,
    query TEXT,
    status INTEGER,
    duration_ms REAL,
    principal TEXT,
    auth_type TEXT,
    role TEXT,
    tenant_id TEXT,
    remote_addr TEXT,
    user_agent TEXT,
    action TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_principal ON audit_events (principal, at);
