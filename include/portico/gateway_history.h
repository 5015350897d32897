/*
 * gateway_history.h — each gateway's health over time (issue 19): per
 * gateway per minute, from heartbeats, the request rate (sum of
 * requests_total deltas), restarts, the last and the highest error rate,
 * routes and policies counts and the status at the end of the minute.
 *
 * Heartbeats are folded into an in-memory table (one open bucket per
 * gateway); a background thread writes each finished minute as one row
 * (an upsert that merges rows of the same minute from several replicas),
 * folds minute rows older than 48 h into hourly rows and prunes rows older
 * than gateways.history_retention_days. The aggregation core (deltas,
 * restarts, merging, series with gaps) is pure and takes its clock as
 * arguments, so unit tests drive it with a fixed clock.
 *
 * Threading: the table is guarded by one mutex (held for microseconds per
 * heartbeat); the writer thread owns its database connection. Handlers use
 * db_thread().
 */
#ifndef PORTICO_GATEWAY_HISTORY_H
#define PORTICO_GATEWAY_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portico/gateways.h"

struct config;
struct db;
struct req;

#define GATEWAY_HISTORY_MINUTE_MS 60000LL
#define GATEWAY_HISTORY_HOUR_MS 3600000LL
#define GATEWAY_HISTORY_ID_MAX 36

/* struct gateway_history_sample (one heartbeat as the history sees it) is
 * in gateways.h: gateways.c fills it and hands it to the heartbeat hook. */

/* One bucket (a stored row, or a point of an answer). minutes = 0 means no
 * data. "Last" values belong to the latest heartbeat (last_at). */
struct gateway_history_point {
    int64_t at; /* bucket start, ms */
    int step_s; /* 60 or 3600 (rows); the answer's step (points) */
    int minutes, samples;
    int64_t last_at;
    bool has_requests, has_rate, has_rate_max, has_routes, has_policies;
    int64_t requests; /* sum of deltas in the bucket */
    int restarts;
    double rate, rate_max;
    int64_t routes, policies;
    char status[16];
};

/* A point for a gateway (rows waiting to be written). */
struct gateway_history_row {
    char id[GATEWAY_HISTORY_ID_MAX + 1];
    struct gateway_history_point p;
};

/* ---- the pure core -------------------------------------------------------- */

int64_t gateway_history_floor(int64_t ms, int64_t step_ms);
/* The request delta a heartbeat contributes and whether it shows a restart
 * (requests_total or uptime_seconds went backwards). No delta when either
 * value is unknown or the previous heartbeat is older than max_gap_ms (the
 * gateway was offline in between); after a restart the delta is the new
 * counter when the process started within max_gap_ms. */
void gateway_history_delta(const struct gateway_history_sample *s, int64_t max_gap_ms,
                           bool *has_delta, int64_t *delta, bool *restart);
void gateway_history_point_init(struct gateway_history_point *p, int64_t at, int step_s);
/* Folds one heartbeat into p. */
void gateway_history_point_add(struct gateway_history_point *p,
                               const struct gateway_history_sample *s, int64_t max_gap_ms);
/* Merges another bucket of the same time into `into`: sums (requests,
 * restarts, samples), max (error_rate_max), the latest heartbeat's values;
 * minutes add for hourly rows and stay one for a minute. The upsert in SQL
 * does the same. */
void gateway_history_point_merge(struct gateway_history_point *into,
                                 const struct gateway_history_point *from);
/* Fills out[0..npoints) with the buckets [from + i*step_s*1000, ...): rows
 * (sorted or not, any step) whose start falls in a bucket are merged into
 * it; a bucket without rows keeps minutes = 0 (a gap). */
void gateway_history_series(const struct gateway_history_point *rows, size_t nrows, int64_t from,
                            int step_s, size_t npoints, struct gateway_history_point *out);
/* requests per minute of a point; false for a gap or unknown requests. */
bool gateway_history_rate_per_min(const struct gateway_history_point *p, double *out);

/* The in-memory table of open buckets. */
struct gateway_history_table;
/* Caller frees with gateway_history_table_free; NULL on OOM. */
struct gateway_history_table *gateway_history_table_new(int64_t max_gap_ms);
void gateway_history_table_free(struct gateway_history_table *t);
/* Folds a heartbeat of gateway id; fills *current (when non-NULL) with the
 * gateway's open minute after it. 0, or -1 on OOM (the sample is lost). */
int gateway_history_table_add(struct gateway_history_table *t, const char *id,
                              const struct gateway_history_sample *s,
                              struct gateway_history_point *current);
/* Takes every finished bucket (its minute ended at or before now; with
 * all, every bucket) into *out (caller frees with free()); returns the
 * count (0 with *out NULL when none, -1 on OOM). Forgets gateways idle for
 * ten minutes. */
long gateway_history_table_take(struct gateway_history_table *t, int64_t now, bool all,
                                struct gateway_history_row **out);
/* The open minute of gateway id, if any. */
bool gateway_history_table_current(struct gateway_history_table *t, const char *id,
                                   struct gateway_history_point *out);

/* ---- the module ----------------------------------------------------------- */

int gateway_history_start(const struct config *cfg);
/* Stops the writer and writes every bucket still in memory (shutdown). */
void gateway_history_stop(void);
/* The heartbeat hook (gateways.c): folds the sample in, and publishes the
 * gateway's current minute as a gateway.history event. Cheap; never fails
 * the heartbeat. */
void gateway_history_heartbeat(const char *id, const char *tenant_id,
                               const struct gateway_history_sample *s);
/* Writes rows (upsert-merge) in one transaction on db. */
int gateway_history_write(struct db *db, const struct gateway_history_row *rows, size_t n);
/* Writes everything finished (or, with all, everything) now; for tests and
 * shutdown. Returns rows written or -1. */
long gateway_history_flush(bool all);
/* Folds minute rows older than 48 h (before now) into hourly rows and
 * prunes rows older than the retention. Returns rows folded or -1. */
long gateway_history_maintain(struct db *db, int64_t now);
/* True when gateway id has no stored history (the demo seeds it then). */
bool gateway_history_empty(struct db *db, const char *id);

int gateway_history_handle_get(struct req *r);
int gateway_history_handle_fleet(struct req *r);

#endif
