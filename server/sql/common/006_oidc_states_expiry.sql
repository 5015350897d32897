-- OIDC: expired single-use states are purged on every callback; index the expiry.
CREATE INDEX oidc_states_expires ON oidc_states (expires_at);
