/*
 * metrics.c — Prometheus metrics (text exposition format 0.0.4) at
 * GET /metrics: requests by route, method and status class; a latency
 * histogram by route; gateways by derived status (one COUNT query per
 * scrape); heartbeats; open event streams; audit written/dropped/pending;
 * database errors; build info. Optional bearer token (metrics.token).
 *
 * Label values come from fixed sets (route names from the route table plus
 * "assets" and "unmatched"; a fixed list of methods; five status classes),
 * so the number of series is bounded whatever clients send.
 *
 * Threading: every counter is a relaxed atomic in a static array indexed by
 * route-table position, so any worker thread records without a lock; a
 * scrape reads them without stopping writers (a histogram may be a request
 * ahead of its count for an instant, which Prometheus tolerates).
 */
#define _GNU_SOURCE
#include "portico/metrics.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portico/audit.h"
#include "portico/config.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/events.h"
#include "portico/gateways.h"
#include "portico/http.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/util.h"

#ifndef PORTICO_VERSION
#define PORTICO_VERSION "0.0.0-dev"
#endif

#define METRICS_SLOT_ASSETS METRICS_ROUTES_MAX
#define METRICS_SLOT_UNMATCHED (METRICS_ROUTES_MAX + 1)
#define METRICS_SLOTS (METRICS_ROUTES_MAX + 2)
#define METRICS_CLASSES 5
#define METRICS_OUT_MAX (4 * 1024 * 1024)

static const double BUCKETS[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define METRICS_BUCKETS (sizeof BUCKETS / sizeof BUCKETS[0])

static const char *const METHODS[] = {"GET",    "HEAD",  "POST",    "PUT",
                                      "DELETE", "PATCH", "OPTIONS", "OTHER"};
#define METRICS_METHODS (sizeof METHODS / sizeof METHODS[0])

struct route_stats {
    atomic_uint_fast64_t requests[METRICS_METHODS][METRICS_CLASSES];
    atomic_uint_fast64_t
        buckets[METRICS_BUCKETS + 1]; /* per bucket (not cumulative); last = +Inf */
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum_us;
};

static struct route_stats stats[METRICS_SLOTS];
/* The route table the slots index (metrics_use_routes, before any request). */
static const struct route *route_table;
static size_t route_count;
static atomic_uint_fast64_t heartbeats_total;
static atomic_uint_fast64_t db_errors_total;

/* ---- recording ---------------------------------------------------------- */

static size_t method_index(const char *m)
{
    for (size_t i = 0; m && i + 1 < METRICS_METHODS; i++)
        if (strcmp(m, METHODS[i]) == 0) return i;
    return METRICS_METHODS - 1;
}

/* The slot of a finished request: its route's position in the table, else
 * "assets" (GET/HEAD outside /v1) or "unmatched". */
static size_t slot_of(const struct req *r)
{
    const struct route *t = route_table;
    size_t count = route_count;
    if (r->route && t && r->route >= t && r->route < t + count) {
        size_t i = (size_t)(r->route - t);
        return i < METRICS_ROUTES_MAX ? i : METRICS_SLOT_UNMATCHED;
    }
    bool api = strncmp(r->path, "/v1", 3) == 0 && (r->path[3] == '\0' || r->path[3] == '/');
    bool get = r->method && (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0);
    return !api && get && r->status != 405 ? METRICS_SLOT_ASSETS : METRICS_SLOT_UNMATCHED;
}

static const char *slot_name(size_t slot)
{
    if (slot == METRICS_SLOT_ASSETS) return "assets";
    if (slot == METRICS_SLOT_UNMATCHED) return "unmatched";
    return slot < route_count ? route_table[slot].name : "unmatched";
}

/* Index of the first bucket whose bound holds `seconds` (METRICS_BUCKETS = +Inf). */
static size_t bucket_index(double seconds)
{
    size_t b = 0;
    while (b < METRICS_BUCKETS && seconds > BUCKETS[b]) b++;
    return b;
}

static void observe(size_t slot, const char *method, int status, int64_t duration_us)
{
    struct route_stats *s = &stats[slot];
    int cls = status / 100;
    if (cls < 1 || cls > METRICS_CLASSES) cls = 5;
    if (duration_us < 0) duration_us = 0;
    atomic_fetch_add_explicit(&s->requests[method_index(method)][cls - 1], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->buckets[bucket_index((double)duration_us / 1e6)], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, (uint64_t)duration_us, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
}

void metrics_use_routes(const struct route *table, size_t count)
{
    route_table = table;
    route_count = count;
}

void metrics_observe(const struct req *r)
{
    if (!r) return;
    int64_t us = r->start_us > 0 ? util_mono_us() - r->start_us : 0;
    observe(slot_of(r), r->method, r->status, us);
}

void metrics_heartbeat(void)
{
    atomic_fetch_add_explicit(&heartbeats_total, 1, memory_order_relaxed);
}

void metrics_db_error(void)
{
    atomic_fetch_add_explicit(&db_errors_total, 1, memory_order_relaxed);
}

/* ---- rendering ---------------------------------------------------------- */

/* Appends a label value with \, " and newline escaped. */
static void put_label_value(struct strbuf *b, const char *v)
{
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\')
            strbuf_puts(b, "\\\\");
        else if (*p == '"')
            strbuf_puts(b, "\\\"");
        else if (*p == '\n')
            strbuf_puts(b, "\\n");
        else
            strbuf_append(b, p, 1);
    }
}

static void put_header(struct strbuf *b, const char *name, const char *type, const char *help)
{
    strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void put_sample(struct strbuf *b, const char *name, uint64_t v)
{
    strbuf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* Renders one route's histogram series: cumulative _bucket lines for every
 * bound and +Inf, then _sum (seconds) and _count. `per_bucket` holds
 * METRICS_BUCKETS + 1 non-cumulative counts. */
static void render_histogram(struct strbuf *b, const char *name, const char *route,
                             const uint64_t *per_bucket, uint64_t sum_us)
{
    uint64_t cum = 0;
    for (size_t i = 0; i <= METRICS_BUCKETS; i++) {
        cum += per_bucket[i];
        strbuf_printf(b, "%s_bucket{route=\"", name);
        put_label_value(b, route);
        if (i < METRICS_BUCKETS)
            strbuf_printf(b, "\",le=\"%g\"} %llu\n", BUCKETS[i], (unsigned long long)cum);
        else
            strbuf_printf(b, "\",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    }
    strbuf_printf(b, "%s_sum{route=\"", name);
    put_label_value(b, route);
    strbuf_printf(b, "\"} %llu.%06llu\n", (unsigned long long)(sum_us / 1000000),
                  (unsigned long long)(sum_us % 1000000));
    strbuf_printf(b, "%s_count{route=\"", name);
    put_label_value(b, route);
    strbuf_printf(b, "\"} %llu\n", (unsigned long long)cum);
}

static void render_requests(struct strbuf *b)
{
    put_header(b, "portico_http_requests_total", "counter",
               "HTTP requests finished, by route, method and status class.");
    for (size_t s = 0; s < METRICS_SLOTS; s++) {
        for (size_t m = 0; m < METRICS_METHODS; m++) {
            for (int c = 0; c < METRICS_CLASSES; c++) {
                uint64_t v = atomic_load_explicit(&stats[s].requests[m][c], memory_order_relaxed);
                if (v == 0) continue;
                strbuf_puts(b, "portico_http_requests_total{route=\"");
                put_label_value(b, slot_name(s));
                strbuf_printf(b, "\",method=\"%s\",status_class=\"%dxx\"} %llu\n", METHODS[m],
                              c + 1, (unsigned long long)v);
            }
        }
    }
    put_header(b, "portico_http_request_duration_seconds", "histogram",
               "Time from the start of a request to the end of its response, by route.");
    for (size_t s = 0; s < METRICS_SLOTS; s++) {
        if (atomic_load_explicit(&stats[s].count, memory_order_relaxed) == 0) continue;
        uint64_t per[METRICS_BUCKETS + 1];
        for (size_t i = 0; i <= METRICS_BUCKETS; i++)
            per[i] = atomic_load_explicit(&stats[s].buckets[i], memory_order_relaxed);
        render_histogram(b, "portico_http_request_duration_seconds", slot_name(s), per,
                         atomic_load_explicit(&stats[s].sum_us, memory_order_relaxed));
    }
}

/* Gateways by derived status (the rule and its counts live in gateways.c);
 * false when the database did not answer. */
static bool render_gateways(struct strbuf *b, const struct config *cfg)
{
    int64_t counts[GW_STATUS_COUNT], total = 0;
    enum db_err e = (enum db_err)gateways_count_by_status(db_thread(), cfg, NULL, util_now_ms(),
                                                          counts, &total);
    if (e != DB_OK) {
        metrics_db_error();
        log_warn("metrics: cannot count gateways (%s)", db_err_name(e));
        return false;
    }
    put_header(b, "portico_gateways", "gauge",
               "Registered gateways by status (derived from stored heartbeat times at scrape).");
    for (int k = 0; k < GW_STATUS_COUNT; k++)
        strbuf_printf(b, "portico_gateways{status=\"%s\"} %llu\n",
                      gateways_status_name((enum gateway_status)k), (unsigned long long)counts[k]);
    return true;
}

/* The whole exposition. Caller frees with free(); NULL on OOM. */
static char *render_all(const struct config *cfg)
{
    struct strbuf b;
    strbuf_init(&b, METRICS_OUT_MAX);
    put_header(&b, "portico_up", "gauge", "1 while Portico serves.");
    put_sample(&b, "portico_up", 1);
    put_header(&b, "portico_build_info", "gauge", "Build information; the value is always 1.");
    strbuf_puts(&b, "portico_build_info{version=\"");
    put_label_value(&b, PORTICO_VERSION);
    strbuf_puts(&b, "\"} 1\n");
    render_requests(&b);
    if (cfg) render_gateways(&b, cfg);
    put_header(&b, "portico_heartbeats_total", "counter", "Gateway heartbeats received.");
    put_sample(&b, "portico_heartbeats_total", atomic_load(&heartbeats_total));
    put_header(&b, "portico_event_streams_open", "gauge", "Open /v1/gateways/events streams.");
    int streams = events_open_streams();
    put_sample(&b, "portico_event_streams_open", (uint64_t)(streams > 0 ? streams : 0));
    put_header(&b, "portico_audit_events_written_total", "counter",
               "Audit events written to the database.");
    put_sample(&b, "portico_audit_events_written_total", audit_written_total());
    put_header(&b, "portico_audit_events_dropped_total", "counter",
               "Audit events lost: buffer full, unwritable, or not written before shutdown.");
    put_sample(&b, "portico_audit_events_dropped_total", audit_dropped_total());
    put_header(&b, "portico_audit_events_pending", "gauge",
               "Audit events waiting in the buffer for the writer.");
    put_sample(&b, "portico_audit_events_pending", audit_pending());
    put_header(&b, "portico_db_errors_total", "counter",
               "Database errors (unavailable, busy, internal) seen by requests and workers.");
    put_sample(&b, "portico_db_errors_total",
               atomic_load(&db_errors_total) + audit_db_errors_total());
    return strbuf_take(&b);
}

int metrics_handle_get(struct req *r)
{
    const struct config *cfg = config_active();
    if (cfg && cfg->metrics.token && cfg->metrics.token[0]) {
        const char *authz = http_header(r, "Authorization");
        if (!authz)
            return http_send_unauthorized(
                r, false, "metrics.token is set: send Authorization: Bearer <token>");
        if (strncasecmp(authz, "Bearer ", 7) != 0 ||
            !crypto_secret_eq(authz + 7, cfg->metrics.token))
            return http_send_unauthorized(r, true, "the metrics token is wrong");
    }
    char *text = render_all(cfg);
    if (!text) return http_send_error(r, 500, "internal", "out of memory");
    int rc =
        http_send(r, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text), NULL);
    free(text);
    return rc;
}
