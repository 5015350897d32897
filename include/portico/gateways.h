/*
 * gateways.h — the gateway registry: the gateway protocol
 * (/v1/internal/gateways/...: register, heartbeat, config), the console API
 * (/v1/gateways...), the status rules derived from stored times, and the
 * exactly-once transition recorder shared with the health worker.
 * Threading: stateless apart from a mutex that serialises SQLite heartbeat
 * writes in-process; database access through db_thread() (or the caller's
 * connection for gateways_record_transition).
 */
#ifndef PORTICO_GATEWAYS_H
#define PORTICO_GATEWAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portico/db.h"

struct config;
struct db;
struct req;

/* The derived statuses, in the order metrics and counts list them. */
enum gateway_status {
    GW_ONLINE,
    GW_OFFLINE,
    GW_DEGRADED,
    GW_MAINTENANCE,
    GW_STATUS_COUNT,
};
/* "online", "offline", "degraded", "maintenance" (static strings). */
const char *gateways_status_name(enum gateway_status s);

/* The status rule — one table in gateways.c that both this C function and
 * every SQL form of it (below) are generated from. Pure, unit-tested.
 * last_hb_ms < 0 means never. Returns "online", "offline", "degraded" or
 * "maintenance" (static strings) and writes a human sentence into reason
 * ("no heartbeat for 97 s"). */
const char *gateways_status(const struct config *cfg, bool maintenance, int64_t last_hb_ms,
                            bool has_error_rate, double error_rate, int64_t now_ms, char *reason,
                            size_t reason_len);
/* The same rule as an SQL CASE expression over the gateways table, with
 * $1 = now minus the offline window (ms) and $2 = gateways.degraded_error_rate
 * (generated once from the rule table; static storage). */
const char *gateways_status_sql(void);
/* Gateways by derived status at now, as index range counts: counts[] indexed
 * by enum gateway_status, *total = all of them. tenant NULL = every gateway;
 * otherwise that tenant's gateways and the shared ones (tenant_id NULL).
 * Returns a db_err (DB_OK = 0). */
int gateways_count_by_status(struct db *db, const struct config *cfg, const char *tenant,
                             int64_t now_ms, int64_t counts[GW_STATUS_COUNT], int64_t *total);
/* True when a heartbeat at last_hb_ms is within the offline window at now. */
bool gateways_live(const struct config *cfg, int64_t last_hb_ms, int64_t now_ms);
/* Normalises a mode (lowercase, '_' → '-', "edgemcp"/"mcp" → "edge-mcp")
 * into out (>= GATEWAY_MODE_MAX + 1 bytes); 0 when it is a known mode. */
int gateways_normalize_mode(const char *mode, char *out, size_t n);
/* The gateway type for a normalised mode ("stoa_edge_mcp", ...; "stoa" for
 * connect); NULL for an unknown mode. Static string. */
const char *gateways_type_for_mode(const char *mode);
/* "{hostname}-{mode without '-' and '_'}-{environment}", lowercased, into
 * out; false when it does not fit. */
bool gateways_derive_name(const char *hostname, const char *mode, const char *environment,
                          char *out, size_t n);

/* A status change to record once (even across replicas). */
struct gateway_transition {
    const char *id;
    const char *tenant_id;
    const char *name;
    const char *from; /* the recorded status it must still have */
    const char *to;
    const char *reason;
    int64_t at; /* the time the status was derived at (ms) */
};
/* Conditionally moves recorded_status from t->from to t->to (only while the
 * stored times still derive t->to), and only when this call changed the row
 * inserts the gateway_events row (one transaction) and publishes
 * gateway.status. Returns 1 when recorded, 0 when another writer (or a newer
 * heartbeat) got there first, or a negative db_err. */
int gateways_record_transition(struct db *db, const struct config *cfg,
                               const struct gateway_transition *t);

/* Whether gateway id (lowercase UUID) exists and r's caller may see it: the
 * one visibility rule of GET /v1/gateways/{id}, for its sub-resources. */
enum db_err gateways_visible(struct db *db, const struct req *r, const char *id, bool *found);
/* Logs a failed gateway protocol call (status >= 400) at warn level with its
 * reason, at most once per gateway name (or remote address when the name is
 * unknown) per GATEWAY_FAILURE_LOG_WINDOW_S; never the key. */
void gateways_log_failure(const struct req *r);

int gateways_handle_register(struct req *r);
int gateways_handle_heartbeat(struct req *r);
int gateways_handle_config(struct req *r);
int gateways_handle_deployment_report(struct req *r);
int gateways_handle_list(struct req *r);
int gateways_handle_get(struct req *r);
int gateways_handle_delete(struct req *r);
int gateways_handle_maintenance(struct req *r);

/* One heartbeat as the history sees it. The prev_* fields describe the
 * gateway's previous heartbeat as stored in the database (so deltas are
 * exact even when heartbeats alternate between replicas); has_* false =
 * unknown. */
struct gateway_history_sample {
    int64_t at; /* server receive time, ms */
    int64_t uptime;
    bool has_requests, has_rate, has_routes, has_policies;
    int64_t requests;
    double rate;
    int64_t routes, policies;
    bool has_prev, has_prev_uptime, has_prev_requests;
    int64_t prev_at, prev_uptime, prev_requests;
    const char *status; /* online | degraded | maintenance */
};

/* Called with every accepted heartbeat (after it is stored), so gateways.c
 * needs no knowledge of who listens: main sets gateway_history_heartbeat.
 * NULL (the default) = nobody. Set before the server starts. */
typedef void (*gateways_heartbeat_hook)(const char *id, const char *tenant_id,
                                        const struct gateway_history_sample *s);
void gateways_set_heartbeat_hook(gateways_heartbeat_hook hook);

#endif
