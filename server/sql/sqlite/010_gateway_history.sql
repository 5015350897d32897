-- Gateway history (issue 19): one row per gateway per minute, aggregated in
-- memory from heartbeats and written by the history flusher; minute rows
-- older than 48 h are folded into hourly rows (step_s = 3600) and rows older
-- than gateways.history_retention_days are pruned. Rows from several
-- replicas for the same minute are merged by an upsert (see
-- server/gateway_history.c). requests is the sum of requests_total deltas
-- (NULL = unknown, never 0 for "no data"); error_rate, routes_count,
-- policies_count and status are the values of the latest heartbeat
-- (last_at) in the bucket; minutes counts the minutes with data.
CREATE TABLE gateway_history (
    gateway_id TEXT NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    step_s INTEGER NOT NULL,
    bucket_at BIGINT NOT NULL,
    minutes INTEGER NOT NULL,
    samples INTEGER NOT NULL,
    last_at BIGINT NOT NULL,
    requests BIGINT,
    restarts INTEGER NOT NULL,
    error_rate REAL,
    error_rate_max REAL,
    routes_count BIGINT,
    policies_count BIGINT,
    status TEXT NOT NULL,
    PRIMARY KEY (gateway_id, step_s, bucket_at)
) WITHOUT ROWID;
-- The downsampler and the pruner walk rows by age across gateways.
CREATE INDEX gateway_history_age ON gateway_history (step_s, bucket_at);
