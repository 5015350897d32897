/*
 * gateway_history.c — each gateway's health over time (issue 19).
 *
 * Heartbeats (gateways.c calls gateway_history_heartbeat once per
 * heartbeat) are folded into an in-memory table of open one-minute buckets;
 * no database write happens on the heartbeat path. A writer thread wakes
 * every few seconds, takes the buckets whose minute has ended and writes
 * each as one row with an upsert that merges: on PostgreSQL several
 * replicas may receive heartbeats of the same gateway in the same minute,
 * and each writes its own part. The merge sums requests, restarts and
 * samples, keeps the highest error rate, and keeps the latest heartbeat's
 * error rate, counts and status (by last_at). Request deltas come from the
 * previous heartbeat *as stored in the database* (the heartbeat UPDATE's
 * prev_* columns), so the sum over replicas is exact: each heartbeat's delta
 * is counted by exactly one replica.
 *
 * The same thread folds minute rows older than 48 h into hourly rows (a
 * DELETE ... RETURNING of a window of minute rows and an upsert of hourly
 * rows in one transaction, so two replicas never fold the same row twice)
 * and prunes rows older than gateways.history_retention_days. Shutdown
 * writes every bucket still open (a partial minute merges with the rest of
 * that minute when the process comes back).
 *
 * Threading: `mu` guards the table and the retry queue; the writer thread
 * owns its database connection; handlers use db_thread().
 */
#define _GNU_SOURCE
#include "portico/gateway_history.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "portico/config.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/events.h"
#include "portico/gateways.h"
#include "portico/http.h"
#include "portico/json.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/rbac.h"
#include "portico/util.h"

/* ---- the pure core -------------------------------------------------------- */

int64_t gateway_history_floor(int64_t ms, int64_t step_ms)
{
    int64_t q = ms / step_ms;
    if (ms < 0 && q * step_ms != ms) q--;
    return q * step_ms;
}

void gateway_history_delta(const struct gateway_history_sample *s, int64_t max_gap_ms,
                           bool *has_delta, int64_t *delta, bool *restart)
{
    bool rs = (s->has_prev_uptime && s->uptime < s->prev_uptime) ||
              (s->has_requests && s->has_prev_requests && s->requests < s->prev_requests);
    bool recent = s->has_prev && s->at - s->prev_at <= max_gap_ms;
    *restart = rs;
    *has_delta = false;
    *delta = 0;
    if (!s->has_requests) return;
    if (rs) {
        /* The counter started again with the process: all of it is new,
         * provided the process started within the window. */
        if (s->uptime * 1000 <= max_gap_ms) {
            *has_delta = true;
            *delta = s->requests;
        }
    } else if (s->has_prev_requests && recent) {
        *has_delta = true;
        *delta = s->requests - s->prev_requests;
    }
}

void gateway_history_point_init(struct gateway_history_point *p, int64_t at, int step_s)
{
    memset(p, 0, sizeof *p);
    p->at = at;
    p->step_s = step_s;
    p->last_at = -1;
}

void gateway_history_point_add(struct gateway_history_point *p,
                               const struct gateway_history_sample *s, int64_t max_gap_ms)
{
    bool has_delta, restart;
    int64_t delta;
    gateway_history_delta(s, max_gap_ms, &has_delta, &delta, &restart);
    if (has_delta) {
        p->requests = p->has_requests ? p->requests + delta : delta;
        p->has_requests = true;
    }
    if (restart) p->restarts++;
    if (s->has_rate && (!p->has_rate_max || s->rate > p->rate_max)) {
        p->rate_max = s->rate;
        p->has_rate_max = true;
    }
    p->samples++;
    if (p->minutes == 0) p->minutes = 1;
    if (s->at >= p->last_at) {
        p->last_at = s->at;
        p->has_rate = s->has_rate;
        p->rate = s->rate;
        p->has_routes = s->has_routes;
        p->routes = s->routes;
        p->has_policies = s->has_policies;
        p->policies = s->policies;
        util_copy(p->status, sizeof p->status, s->status ? s->status : "online");
    }
}

void gateway_history_point_merge(struct gateway_history_point *into,
                                 const struct gateway_history_point *from)
{
    if (from->minutes == 0 && from->samples == 0) return;
    if (into->minutes == 0 && into->samples == 0) {
        int64_t at = into->at;
        int step = into->step_s;
        *into = *from;
        into->at = at;
        into->step_s = step;
        return;
    }
    into->minutes = into->step_s == 60 && from->step_s == 60 ? 1 : into->minutes + from->minutes;
    into->samples += from->samples;
    into->restarts += from->restarts;
    if (from->has_requests) {
        into->requests = into->has_requests ? into->requests + from->requests : from->requests;
        into->has_requests = true;
    }
    if (from->has_rate_max && (!into->has_rate_max || from->rate_max > into->rate_max)) {
        into->rate_max = from->rate_max;
        into->has_rate_max = true;
    }
    if (from->last_at >= into->last_at) {
        into->last_at = from->last_at;
        into->has_rate = from->has_rate;
        into->rate = from->rate;
        into->has_routes = from->has_routes;
        into->routes = from->routes;
        into->has_policies = from->has_policies;
        into->policies = from->policies;
        memcpy(into->status, from->status, sizeof into->status);
    }
}

void gateway_history_series(const struct gateway_history_point *rows, size_t nrows, int64_t from,
                            int step_s, size_t npoints, struct gateway_history_point *out)
{
    int64_t step_ms = (int64_t)step_s * 1000;
    for (size_t i = 0; i < npoints; i++)
        gateway_history_point_init(&out[i], from + (int64_t)i * step_ms, step_s);
    for (size_t i = 0; i < nrows; i++) {
        if (rows[i].at < from) continue;
        int64_t k = (rows[i].at - from) / step_ms;
        if (k < 0 || (size_t)k >= npoints) continue;
        gateway_history_point_merge(&out[k], &rows[i]);
    }
}

bool gateway_history_rate_per_min(const struct gateway_history_point *p, double *out)
{
    if (p->minutes <= 0 || !p->has_requests) return false;
    *out = (double)p->requests / (double)p->minutes;
    return true;
}

/* ---- the in-memory table -------------------------------------------------- */

#define IDLE_FORGET_MS (10 * GATEWAY_HISTORY_MINUTE_MS)

struct entry {
    char id[GATEWAY_HISTORY_ID_MAX + 1];
    bool used, open;
    struct gateway_history_point cur;
    /* The last heartbeat seen here: the fallback when the database has no
     * previous values (right after a re-registration, i.e. a restart). */
    bool has_last;
    int64_t last_at, last_uptime, last_requests;
    bool last_has_requests;
};

struct gateway_history_table {
    struct entry *slots;
    size_t cap, used;
    int64_t max_gap_ms;
    /* Buckets closed out of order (a late heartbeat for an older minute). */
    struct gateway_history_row *late;
    size_t nlate, caplate;
};

struct gateway_history_table *gateway_history_table_new(int64_t max_gap_ms)
{
    struct gateway_history_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->cap = 256;
    t->slots = calloc(t->cap, sizeof *t->slots);
    if (!t->slots) {
        free(t);
        return NULL;
    }
    t->max_gap_ms = max_gap_ms;
    return t;
}

void gateway_history_table_free(struct gateway_history_table *t)
{
    if (!t) return;
    free(t->slots);
    free(t->late);
    free(t);
}

static size_t hash_id(const char *id)
{
    size_t h = 1469598103934665603ULL;
    for (; *id; id++) h = (h ^ (unsigned char)*id) * 1099511628211ULL;
    return h;
}

static struct entry *find_slot(struct entry *slots, size_t cap, const char *id)
{
    size_t i = hash_id(id) & (cap - 1);
    while (slots[i].used && strcmp(slots[i].id, id) != 0) i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int grow(struct gateway_history_table *t)
{
    size_t cap = t->cap * 2;
    struct entry *slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].used) *find_slot(slots, cap, t->slots[i].id) = t->slots[i];
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

static int push_late(struct gateway_history_table *t, const char *id,
                     const struct gateway_history_point *p)
{
    if (t->nlate == t->caplate) {
        size_t cap = t->caplate ? t->caplate * 2 : 16;
        struct gateway_history_row *n = realloc(t->late, cap * sizeof *n);
        if (!n) return -1;
        t->late = n;
        t->caplate = cap;
    }
    util_copy(t->late[t->nlate].id, sizeof t->late[t->nlate].id, id);
    t->late[t->nlate++].p = *p;
    return 0;
}

int gateway_history_table_add(struct gateway_history_table *t, const char *id,
                              const struct gateway_history_sample *s,
                              struct gateway_history_point *current)
{
    if (strlen(id) > GATEWAY_HISTORY_ID_MAX) return -1;
    if ((t->used + 1) * 4 > t->cap * 3 && grow(t) != 0) return -1;
    struct entry *e = find_slot(t->slots, t->cap, id);
    if (!e->used) {
        memset(e, 0, sizeof *e);
        util_copy(e->id, sizeof e->id, id);
        e->used = true;
        t->used++;
    }
    struct gateway_history_sample x = *s;
    if (!x.has_prev_uptime && !x.has_prev_requests && e->has_last) {
        x.has_prev = true;
        x.prev_at = e->last_at;
        x.has_prev_uptime = true;
        x.prev_uptime = e->last_uptime;
        x.has_prev_requests = e->last_has_requests;
        x.prev_requests = e->last_requests;
    }
    int64_t minute = gateway_history_floor(s->at, GATEWAY_HISTORY_MINUTE_MS);
    int rc = 0;
    if (e->open && minute < e->cur.at) {
        /* A heartbeat that lost a race with a newer one: its own row, merged
         * by the upsert. */
        struct gateway_history_point p;
        gateway_history_point_init(&p, minute, 60);
        gateway_history_point_add(&p, &x, t->max_gap_ms);
        rc = push_late(t, id, &p);
    } else {
        if (e->open && minute > e->cur.at) {
            rc = push_late(t, id, &e->cur);
            e->open = false;
        }
        if (!e->open) {
            gateway_history_point_init(&e->cur, minute, 60);
            e->open = true;
        }
        gateway_history_point_add(&e->cur, &x, t->max_gap_ms);
    }
    if (!e->has_last || s->at >= e->last_at) {
        e->has_last = true;
        e->last_at = s->at;
        e->last_uptime = s->uptime;
        e->last_has_requests = s->has_requests;
        e->last_requests = s->requests;
    }
    if (current && e->open) *current = e->cur;
    return rc;
}

long gateway_history_table_take(struct gateway_history_table *t, int64_t now, bool all,
                                struct gateway_history_row **out)
{
    size_t n = t->nlate;
    for (size_t i = 0; i < t->cap; i++) {
        const struct entry *e = &t->slots[i];
        if (e->used && e->open && (all || e->cur.at + GATEWAY_HISTORY_MINUTE_MS <= now)) n++;
    }
    *out = NULL;
    if (n == 0) goto forget;
    struct gateway_history_row *rows = malloc(n * sizeof *rows);
    if (!rows) return -1;
    size_t k = 0;
    for (size_t i = 0; i < t->nlate; i++) rows[k++] = t->late[i];
    t->nlate = 0;
    for (size_t i = 0; i < t->cap; i++) {
        struct entry *e = &t->slots[i];
        if (e->used && e->open && (all || e->cur.at + GATEWAY_HISTORY_MINUTE_MS <= now)) {
            util_copy(rows[k].id, sizeof rows[k].id, e->id);
            rows[k++].p = e->cur;
            e->open = false;
        }
    }
    *out = rows;
forget:;
    /* Forget idle gateways: rebuild without them (rare; amortised). */
    size_t idle = 0;
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i].used && !t->slots[i].open && now - t->slots[i].last_at > IDLE_FORGET_MS)
            idle++;
    if (idle > 0) {
        struct entry *slots = calloc(t->cap, sizeof *slots);
        if (slots) {
            size_t used = 0;
            for (size_t i = 0; i < t->cap; i++) {
                const struct entry *e = &t->slots[i];
                if (!e->used || (!e->open && now - e->last_at > IDLE_FORGET_MS)) continue;
                *find_slot(slots, t->cap, e->id) = *e;
                used++;
            }
            free(t->slots);
            t->slots = slots;
            t->used = used;
        }
    }
    return (long)n;
}

bool gateway_history_table_current(struct gateway_history_table *t, const char *id,
                                   struct gateway_history_point *out)
{
    if (strlen(id) > GATEWAY_HISTORY_ID_MAX) return false;
    const struct entry *e = find_slot(t->slots, t->cap, id);
    if (!e->used || !e->open) return false;
    *out = e->cur;
    return true;
}

/* ---- storage -------------------------------------------------------------- */

#define ROW_COLS                                                                                   \
    "step_s, bucket_at, minutes, samples, last_at, requests, restarts, error_rate, "               \
    "error_rate_max, routes_count, policies_count, status"

/* "Last" columns follow the row with the later last_at. */
#define LAST(col)                                                                                  \
    col " = CASE WHEN excluded.last_at >= gateway_history.last_at THEN excluded." col              \
        " ELSE gateway_history." col " END"

static const char SQL_UPSERT[] =
    "INSERT INTO gateway_history (gateway_id, " ROW_COLS ") "
    "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 "
    "WHERE EXISTS (SELECT 1 FROM gateways WHERE id = $1) "
    "ON CONFLICT (gateway_id, step_s, bucket_at) DO UPDATE SET "
    "minutes = CASE WHEN excluded.step_s = 60 THEN 1 "
    "ELSE gateway_history.minutes + excluded.minutes END, "
    "samples = gateway_history.samples + excluded.samples, "
    "requests = COALESCE(gateway_history.requests + excluded.requests, gateway_history.requests, "
    "excluded.requests), "
    "restarts = gateway_history.restarts + excluded.restarts, "
    "error_rate_max = CASE WHEN gateway_history.error_rate_max IS NULL OR "
    "excluded.error_rate_max > gateway_history.error_rate_max THEN excluded.error_rate_max "
    "ELSE gateway_history.error_rate_max END, " LAST("error_rate") ", " LAST(
        "routes_count") ", " LAST("policies_count") ", " LAST("status") ", " LAST("last_at");

static enum db_err upsert(struct db *db, const char *id, const struct gateway_history_point *p)
{
    return db_exec(db, SQL_UPSERT,
                   DB_ARGS(DBP_TEXT(id), DBP_INT(p->step_s), DBP_INT(p->at), DBP_INT(p->minutes),
                           DBP_INT(p->samples), DBP_INT(p->last_at),
                           p->has_requests ? DBP_INT(p->requests) : DBP_NULL, DBP_INT(p->restarts),
                           p->has_rate ? DBP_REAL(p->rate) : DBP_NULL,
                           p->has_rate_max ? DBP_REAL(p->rate_max) : DBP_NULL,
                           p->has_routes ? DBP_INT(p->routes) : DBP_NULL,
                           p->has_policies ? DBP_INT(p->policies) : DBP_NULL, DBP_TEXT(p->status)),
                   NULL);
}

/* Writes rows in transactions of GATEWAY_HISTORY_WRITE_BATCH. Rows of a
 * gateway forgotten meanwhile are skipped by the upsert's EXISTS. */
int gateway_history_write(struct db *db, const struct gateway_history_row *rows, size_t n)
{
    for (size_t start = 0; start < n; start += GATEWAY_HISTORY_WRITE_BATCH) {
        size_t end =
            start + GATEWAY_HISTORY_WRITE_BATCH < n ? start + GATEWAY_HISTORY_WRITE_BATCH : n;
        enum db_err e = db_begin(db);
        for (size_t i = start; i < end && e == DB_OK; i++) e = upsert(db, rows[i].id, &rows[i].p);
        if (e == DB_OK) e = db_commit(db);
        if (e != DB_OK) {
            db_rollback(db);
            return -(int)e;
        }
    }
    return 0;
}

/* Reads a row of ROW_COLS starting at column c0. */
static void point_from_row(const struct db_result *res, size_t i, int c0,
                           struct gateway_history_point *p)
{
    gateway_history_point_init(p, db_get_int(res, i, c0 + 1), (int)db_get_int(res, i, c0));
    p->minutes = (int)db_get_int(res, i, c0 + 2);
    p->samples = (int)db_get_int(res, i, c0 + 3);
    p->last_at = db_get_int(res, i, c0 + 4);
    if ((p->has_requests = !db_is_null(res, i, c0 + 5))) p->requests = db_get_int(res, i, c0 + 5);
    p->restarts = (int)db_get_int(res, i, c0 + 6);
    if ((p->has_rate = !db_is_null(res, i, c0 + 7))) p->rate = db_get_double(res, i, c0 + 7);
    if ((p->has_rate_max = !db_is_null(res, i, c0 + 8)))
        p->rate_max = db_get_double(res, i, c0 + 8);
    if ((p->has_routes = !db_is_null(res, i, c0 + 9))) p->routes = db_get_int(res, i, c0 + 9);
    if ((p->has_policies = !db_is_null(res, i, c0 + 10))) p->policies = db_get_int(res, i, c0 + 10);
    const char *st = db_get(res, i, c0 + 11);
    util_copy(p->status, sizeof p->status, st ? st : "online");
}

static int cmp_row(const void *a, const void *b)
{
    const struct gateway_history_row *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c) return c;
    return x->p.at < y->p.at ? -1 : x->p.at > y->p.at;
}

static const char SQL_OLDEST_MINUTE[] =
    "SELECT MIN(bucket_at) FROM gateway_history WHERE step_s = 60";
static const char SQL_TAKE_MINUTES[] =
    "DELETE FROM gateway_history WHERE step_s = 60 AND bucket_at >= $1 AND bucket_at < $2 "
    "RETURNING gateway_id, " ROW_COLS;
static const char SQL_PRUNE[] = "DELETE FROM gateway_history WHERE step_s = $1 AND bucket_at < $2";

/* Folds the minute rows of [from, to) into hourly rows; returns rows folded. */
static long fold_window(struct db *db, int64_t from, int64_t to)
{
    struct db_result *res = NULL;
    struct gateway_history_row *rows = NULL;
    long folded = -1;
    enum db_err e = db_begin(db);
    if (e != DB_OK) return -1;
    e = db_query(db, SQL_TAKE_MINUTES, DB_ARGS(DBP_INT(from), DBP_INT(to)), &res);
    size_t n = e == DB_OK ? db_rows(res) : 0;
    if (e == DB_OK && n > 0) {
        rows = malloc(n * sizeof *rows);
        if (!rows) e = DB_ERR_INTERNAL;
    }
    size_t k = 0;
    if (e == DB_OK && n > 0) {
        struct gateway_history_row *tmp = malloc(n * sizeof *tmp);
        if (!tmp) {
            e = DB_ERR_INTERNAL;
        } else {
            for (size_t i = 0; i < n; i++) {
                util_copy(tmp[i].id, sizeof tmp[i].id, db_get(res, i, 0));
                point_from_row(res, i, 1, &tmp[i].p);
            }
            qsort(tmp, n, sizeof *tmp, cmp_row);
            for (size_t i = 0; i < n; i++) {
                int64_t hour = gateway_history_floor(tmp[i].p.at, GATEWAY_HISTORY_HOUR_MS);
                if (k == 0 || strcmp(rows[k - 1].id, tmp[i].id) != 0 || rows[k - 1].p.at != hour) {
                    util_copy(rows[k].id, sizeof rows[k].id, tmp[i].id);
                    gateway_history_point_init(&rows[k].p, hour, 3600);
                    k++;
                }
                tmp[i].p.step_s = 3600; /* so minutes add up */
                gateway_history_point_merge(&rows[k - 1].p, &tmp[i].p);
            }
            free(tmp);
        }
    }
    for (size_t i = 0; i < k && e == DB_OK; i++) e = upsert(db, rows[i].id, &rows[i].p);
    if (e == DB_OK) e = db_commit(db);
    if (e == DB_OK)
        folded = (long)n;
    else
        db_rollback(db);
    db_result_free(res);
    free(rows);
    return folded;
}

static const struct config *hcfg;

long gateway_history_maintain(struct db *db, int64_t now)
{
    if (!hcfg || hcfg->gateways.history_retention_days <= 0) return 0;
    int64_t cutoff = gateway_history_floor(
        now - GATEWAY_HISTORY_KEEP_MINUTES_H * GATEWAY_HISTORY_HOUR_MS, GATEWAY_HISTORY_HOUR_MS);
    int64_t keep = now - (int64_t)hcfg->gateways.history_retention_days * 86400000LL;
    long total = 0;
    for (int pass = 0; pass < GATEWAY_HISTORY_FOLD_WINDOWS; pass++) {
        struct db_result *res = NULL;
        enum db_err e = db_query(db, SQL_OLDEST_MINUTE, DB_NOARGS, &res);
        bool any = e == DB_OK && db_rows(res) == 1 && !db_is_null(res, 0, 0);
        int64_t oldest = any ? db_get_int(res, 0, 0) : 0;
        db_result_free(res);
        if (e != DB_OK) return -1;
        if (!any || oldest >= cutoff) break;
        int64_t to = oldest + GATEWAY_HISTORY_FOLD_WINDOW_MS;
        if (to > cutoff) to = cutoff;
        long n = fold_window(db, oldest, to);
        if (n < 0) return -1;
        total += n;
    }
    long pruned_min = 0, pruned_hour = 0;
    if (db_exec(db, SQL_PRUNE, DB_ARGS(DBP_INT(60), DBP_INT(keep)), &pruned_min) != DB_OK ||
        db_exec(db, SQL_PRUNE, DB_ARGS(DBP_INT(3600), DBP_INT(keep)), &pruned_hour) != DB_OK)
        return -1;
    if (total > 0 || pruned_min + pruned_hour > 0)
        log_info("history: folded %ld minute rows into hours, pruned %ld rows", total,
                 pruned_min + pruned_hour);
    return total;
}

static const char SQL_ANY[] = "SELECT 1 FROM gateway_history WHERE gateway_id = $1 LIMIT 1";

bool gateway_history_empty(struct db *db, const char *id)
{
    struct db_result *res = NULL;
    enum db_err e = db_query(db, SQL_ANY, DB_ARGS(DBP_TEXT(id)), &res);
    bool empty = e == DB_OK && db_rows(res) == 0;
    db_result_free(res);
    return empty;
}

/* ---- the module: table, writer thread, heartbeat hook --------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static pthread_t writer;
static bool running, stop_requested;
static struct gateway_history_table *table;
/* Rows taken but not yet written (the database was unavailable). */
static struct gateway_history_row *retry;
static size_t nretry;

static bool enabled(void)
{
    return hcfg && hcfg->gateways.history_retention_days > 0;
}

static void add_point_json(cJSON *o, const struct gateway_history_point *p)
{
    double per_min;
    json_add_time(o, "at", p->at);
    if (gateway_history_rate_per_min(p, &per_min))
        cJSON_AddNumberToObject(o, "requests_per_min", per_min);
    else
        cJSON_AddNullToObject(o, "requests_per_min");
    bool gap = p->minutes == 0 && p->samples == 0;
    if (!gap && p->has_rate)
        cJSON_AddNumberToObject(o, "error_rate", p->rate);
    else
        cJSON_AddNullToObject(o, "error_rate");
    if (!gap && p->has_rate_max)
        cJSON_AddNumberToObject(o, "error_rate_max", p->rate_max);
    else
        cJSON_AddNullToObject(o, "error_rate_max");
    if (gap) {
        cJSON_AddNullToObject(o, "status");
        cJSON_AddNullToObject(o, "restarts");
        cJSON_AddNullToObject(o, "routes_count");
        cJSON_AddNullToObject(o, "policies_count");
        return;
    }
    cJSON_AddStringToObject(o, "status", p->status);
    cJSON_AddNumberToObject(o, "restarts", p->restarts);
    if (p->has_routes)
        cJSON_AddNumberToObject(o, "routes_count", (double)p->routes);
    else
        cJSON_AddNullToObject(o, "routes_count");
    if (p->has_policies)
        cJSON_AddNumberToObject(o, "policies_count", (double)p->policies);
    else
        cJSON_AddNullToObject(o, "policies_count");
}

void gateway_history_heartbeat(const char *id, const char *tenant_id,
                               const struct gateway_history_sample *s)
{
    if (!enabled()) return;
    struct gateway_history_point cur;
    memset(&cur, 0, sizeof cur);
    bool have = false;
    pthread_mutex_lock(&mu);
    if (table && gateway_history_table_add(table, id, s, &cur) == 0) have = true;
    pthread_mutex_unlock(&mu);
    if (!have || events_open_streams() == 0) return;
    /* The live point: this replica's part of the current minute, for this
     * replica's streams only (no NOTIFY round trip on the heartbeat path;
     * other replicas hold their own part). */
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "id", id);
    json_add_str_or_null(ev, "tenant_id", tenant_id);
    cJSON_AddNumberToObject(ev, "step_seconds", 60);
    add_point_json(cJSON_AddObjectToObject(ev, "point"), &cur);
    char *text = json_print(ev);
    cJSON_Delete(ev);
    if (text) events_publish_local("gateway.history", tenant_id, text);
    free(text);
}

/* Takes what is due and writes it with db; rows that cannot be written wait
 * for the next pass (at most GATEWAY_HISTORY_RETRY_MAX). */
static long flush_with(struct db *db, bool all)
{
    struct gateway_history_row *rows = NULL;
    pthread_mutex_lock(&mu);
    long n = table ? gateway_history_table_take(table, util_now_ms(), all, &rows) : 0;
    struct gateway_history_row *old = retry;
    size_t nold = nretry;
    retry = NULL;
    nretry = 0;
    pthread_mutex_unlock(&mu);
    if (n < 0) n = 0;
    size_t total = (size_t)n + nold;
    if (total == 0) {
        free(rows);
        return 0;
    }
    struct gateway_history_row *batch = rows;
    if (nold > 0) {
        batch = realloc(old, total * sizeof *batch);
        if (!batch) {
            free(rows);
            free(old);
            log_warn("history: out of memory; %zu rows lost", total);
            return -1;
        }
        if (n > 0) memcpy(batch + nold, rows, (size_t)n * sizeof *rows);
        free(rows);
    }
    int rc = gateway_history_write(db, batch, total);
    if (rc == 0) {
        free(batch);
        return (long)total;
    }
    pthread_mutex_lock(&mu);
    if (total > GATEWAY_HISTORY_RETRY_MAX) {
        log_warn("history: the database is unavailable; dropping %zu rows",
                 total - GATEWAY_HISTORY_RETRY_MAX);
        memmove(batch, batch + (total - GATEWAY_HISTORY_RETRY_MAX),
                GATEWAY_HISTORY_RETRY_MAX * sizeof *batch);
        total = GATEWAY_HISTORY_RETRY_MAX;
    }
    if (retry) { /* a concurrent flush failed too: keep the newer only */
        free(batch);
    } else {
        retry = batch;
        nretry = total;
    }
    pthread_mutex_unlock(&mu);
    return -1;
}

long gateway_history_flush(bool all)
{
    if (!enabled()) return 0;
    return flush_with(db_thread(), all);
}

static void *writer_main(void *arg)
{
    (void)arg;
    bool warned = false;
    int64_t next_maint = 0;
    pthread_mutex_lock(&mu);
    while (!stop_requested) {
        pthread_mutex_unlock(&mu);
        struct db *db = db_thread();
        long rc = flush_with(db, false);
        int64_t now = util_now_ms();
        if (rc >= 0 && now >= next_maint) {
            if (gateway_history_maintain(db, now) < 0) rc = -1;
            next_maint = now + GATEWAY_HISTORY_MAINTAIN_MS;
        }
        if (rc < 0 && !warned) log_warn("history: writing failed; retrying");
        warned = rc < 0;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += GATEWAY_HISTORY_FLUSH_MS / 1000;
        pthread_mutex_lock(&mu);
        while (!stop_requested)
            if (pthread_cond_timedwait(&cond, &mu, &until) != 0) break;
    }
    pthread_mutex_unlock(&mu);
    flush_with(db_thread(), true);
    db_thread_close();
    return NULL;
}

int gateway_history_start(const struct config *config)
{
    hcfg = config;
    if (!enabled()) {
        log_info("history: off (gateways.history_retention_days = 0)");
        return 0;
    }
    table = gateway_history_table_new((int64_t)hcfg->gateways.offline_after_seconds * 1000);
    if (!table) return -1;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cond, &attr);
    pthread_condattr_destroy(&attr);
    stop_requested = false;
    if (pthread_create(&writer, NULL, writer_main, NULL) != 0) {
        log_error("history: cannot start the writer thread");
        return -1;
    }
    running = true;
    return 0;
}

void gateway_history_stop(void)
{
    if (!running) return;
    pthread_mutex_lock(&mu);
    stop_requested = true;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
    pthread_join(writer, NULL);
    running = false;
    pthread_mutex_lock(&mu);
    gateway_history_table_free(table);
    table = NULL;
    free(retry);
    retry = NULL;
    nretry = 0;
    pthread_mutex_unlock(&mu);
}

/* ---- GET /v1/gateways/{id}/history ---------------------------------------- */

static const char SQL_RANGE[] = "SELECT " ROW_COLS " FROM gateway_history "
                                "WHERE gateway_id = $1 AND step_s IN (60, 3600) AND "
                                "bucket_at >= $2 AND bucket_at < $3 ORDER BY bucket_at";

static const int AUTO_STEPS[] = {60,   120,  300,   600,   900,   1800,
                                 3600, 7200, 10800, 21600, 43200, 86400};

static int bad_param(struct req *r, const char *what)
{
    return http_send_error(r, 400, "invalid_parameter", "%s", what);
}

/* Parses an optional RFC 3339 query parameter; 1 absent, 0 ok, or the 400. */
static int time_param(struct req *r, const char *name, int64_t *out)
{
    char buf[64];
    int len = http_query_param(r, name, 0, buf, sizeof buf);
    if (len == -1) return 1;
    if (len < 0 || util_time_parse(buf, out) != 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s: must be an RFC 3339 time", name);
        bad_param(r, msg);
        return -1;
    }
    return 0;
}

int gateway_history_handle_get(struct req *r)
{
    struct db *db = db_thread();
    struct db_result *res = NULL;
    struct gateway_history_point *rows = NULL, *points = NULL;
    char id[CRYPTO_UUID_LEN + 1];
    int rc;
    bool found = false;
    if (r->nparams < 1 || !crypto_is_uuid(r->params[0]))
        return http_send_error(r, 404, "not_found", "no such gateway");
    for (int i = 0; i <= CRYPTO_UUID_LEN; i++) {
        char c = r->params[0][i];
        id[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    int64_t now = util_now_ms(), from = 0, to = now;
    int pf = time_param(r, "from", &from);
    if (pf < 0) return r->status;
    int pt = time_param(r, "to", &to);
    if (pt < 0) return r->status;
    if (pt == 1) to = now;
    if (pf == 1) /* the last 24 h as 1,440 minutes, the current one last */
        from = to - 24 * GATEWAY_HISTORY_HOUR_MS + GATEWAY_HISTORY_MINUTE_MS;
    if (from >= to) return bad_param(r, "from: must be before to");
    long long step = 0;
    char sbuf[32];
    int slen = http_query_param(r, "step", 0, sbuf, sizeof sbuf);
    if (slen != -1) {
        if (slen < 0 || util_parse_int(sbuf, 60, 86400, &step) != 0 || step % 60 != 0)
            return bad_param(r, "step: must be a whole number of minutes in seconds, 60..86400");
    } else {
        for (size_t i = 0; i < sizeof AUTO_STEPS / sizeof AUTO_STEPS[0]; i++) {
            step = AUTO_STEPS[i];
            int64_t ms = step * 1000;
            if ((gateway_history_floor(to + ms - 1, ms) - gateway_history_floor(from, ms)) / ms <=
                GATEWAY_HISTORY_POINTS_MAX)
                break;
        }
    }
    /* Older than 48 h there are only hourly rows. */
    int64_t hourly_before =
        now - GATEWAY_HISTORY_KEEP_MINUTES_H * GATEWAY_HISTORY_HOUR_MS + GATEWAY_HISTORY_HOUR_MS;
    if (from < hourly_before && step < 3600) step = 3600;
    int64_t step_ms = step * 1000;
    int64_t a = gateway_history_floor(from, step_ms);
    int64_t b = gateway_history_floor(to + step_ms - 1, step_ms);
    int64_t npoints = (b - a) / step_ms;
    if (npoints > GATEWAY_HISTORY_POINTS_MAX) {
        char msg[128];
        snprintf(msg, sizeof msg, "step: %lld points; at most %d per answer (widen step)",
                 (long long)npoints, GATEWAY_HISTORY_POINTS_MAX);
        return bad_param(r, msg);
    }
    enum db_err e = gateways_visible(db, r, id, &found);
    if (e == DB_OK && found)
        e = db_query(db, SQL_RANGE, DB_ARGS(DBP_TEXT(id), DBP_INT(a), DBP_INT(b)), &res);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (!found) {
        rc = http_send_error(r, 404, "not_found", "no such gateway");
        goto out;
    }
    size_t n = db_rows(res);
    rows = calloc(n + 1, sizeof *rows);
    points = calloc((size_t)npoints + 1, sizeof *points);
    if (!rows || !points) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) point_from_row(res, i, 0, &rows[i]);
    /* This replica's open minute is not stored yet. */
    if (enabled()) {
        pthread_mutex_lock(&mu);
        if (table && gateway_history_table_current(table, id, &rows[n]) && rows[n].at >= a &&
            rows[n].at < b)
            n++;
        pthread_mutex_unlock(&mu);
    }
    gateway_history_series(rows, n, a, (int)step, (size_t)npoints, points);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "step_seconds", (double)step);
    json_add_time(o, "from", a);
    json_add_time(o, "to", b);
    cJSON_AddNumberToObject(o, "degraded_error_rate",
                            config_active()->gateways.degraded_error_rate);
    cJSON *arr = cJSON_AddArrayToObject(o, "points");
    for (int64_t i = 0; i < npoints; i++) {
        cJSON *p = cJSON_CreateObject();
        add_point_json(p, &points[i]);
        cJSON_AddItemToArray(arr, p);
    }
    rc = http_send_json_take(r, 200, o);
out:
    db_result_free(res);
    free(rows);
    free(points);
    return rc;
}

/* ---- GET /v1/gateways/history: the fleet over 24 h ------------------------ */

static const char *const STATUSES[] = {"online", "degraded", "offline", "maintenance"};
enum { S_ONLINE, S_DEGRADED, S_OFFLINE, S_MAINT, S_COUNT };

static int status_index(const char *s)
{
    for (int i = 0; i < S_COUNT; i++)
        if (s && strcmp(s, STATUSES[i]) == 0) return i;
    return S_ONLINE;
}

/* Minutes per status per hour slot, by gateway; $1 = window start. */
static const char SQL_FLEET[] =
    "SELECT g.id, g.registered_at, h.bucket_at / 3600000, h.status, COUNT(h.bucket_at), "
    "MIN(h.bucket_at) FROM gateways g LEFT JOIN gateway_history h ON h.gateway_id = g.id "
    "AND h.step_s = 60 AND h.bucket_at >= $1 GROUP BY g.id, g.registered_at, "
    "h.bucket_at / 3600000, h.status ORDER BY g.id";
static const char SQL_FLEET_TENANT[] =
    "SELECT g.id, g.registered_at, h.bucket_at / 3600000, h.status, COUNT(h.bucket_at), "
    "MIN(h.bucket_at) FROM gateways g LEFT JOIN gateway_history h ON h.gateway_id = g.id "
    "AND h.step_s = 60 AND h.bucket_at >= $1 WHERE (g.tenant_id = $2 OR g.tenant_id IS NULL) "
    "GROUP BY g.id, g.registered_at, h.bucket_at / 3600000, h.status ORDER BY g.id";

#define FLEET_SLOTS 24

struct fleet_gw {
    const char *id;
    int64_t first; /* first minute we count from */
    int64_t minutes[FLEET_SLOTS][S_COUNT];
};

/* Adds minutes without a heartbeat (from first to now) as offline. */
static void fleet_offline(struct fleet_gw *g, int64_t from, int64_t now)
{
    for (int s = 0; s < FLEET_SLOTS; s++) {
        int64_t start = from + s * GATEWAY_HISTORY_HOUR_MS, end = start + GATEWAY_HISTORY_HOUR_MS;
        if (start < g->first) start = gateway_history_floor(g->first, GATEWAY_HISTORY_MINUTE_MS);
        if (end > now) end = gateway_history_floor(now, GATEWAY_HISTORY_MINUTE_MS);
        int64_t expected = end > start ? (end - start) / GATEWAY_HISTORY_MINUTE_MS : 0;
        int64_t seen = 0;
        for (int k = 0; k < S_COUNT; k++) seen += g->minutes[s][k];
        if (expected > seen) g->minutes[s][S_OFFLINE] += expected - seen;
    }
}

/* ids= (comma-separated): which gateways' strips to return. */
static bool wanted(const char *ids, const char *id)
{
    size_t n = strlen(id);
    for (const char *p = ids; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == n && strncasecmp(p, id, n) == 0) return true;
        p = c ? c + 1 : NULL;
    }
    return false;
}

int gateway_history_handle_fleet(struct req *r)
{
    struct db *db = db_thread();
    struct db_result *res = NULL;
    struct fleet_gw *gws = NULL;
    char ids[GATEWAY_HISTORY_FLEET_IDS_MAX * (CRYPTO_UUID_LEN + 1) + 1];
    int rc;
    int len = http_query_param(r, "ids", 0, ids, sizeof ids);
    if (len == -1) ids[0] = '\0';
    if (len < -1) return bad_param(r, "ids: at most 100 comma-separated gateway ids");
    for (const char *p = ids; *p;) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        char one[CRYPTO_UUID_LEN + 2];
        if (l != CRYPTO_UUID_LEN) return bad_param(r, "ids: each must be a gateway id (UUID)");
        memcpy(one, p, l);
        one[l] = '\0';
        if (!crypto_is_uuid(one)) return bad_param(r, "ids: each must be a gateway id (UUID)");
        if (c && c[1] == '\0') return bad_param(r, "ids: each must be a gateway id (UUID)");
        p = c ? c + 1 : p + l;
    }
    int64_t now = util_now_ms();
    int64_t from = gateway_history_floor(now, GATEWAY_HISTORY_HOUR_MS) -
                   (FLEET_SLOTS - 1) * GATEWAY_HISTORY_HOUR_MS;
    bool all = (rbac_role_perms(r->principal.role) & PERM_ALL_TENANTS) != 0;
    enum db_err e = all ? db_query(db, SQL_FLEET, DB_ARGS(DBP_INT(from)), &res)
                        : db_query(db, SQL_FLEET_TENANT,
                                   DB_ARGS(DBP_INT(from), DBP_TEXT(r->principal.tenant_id)), &res);
    if (e != DB_OK) return http_send_db_error(r, e);
    size_t n = db_rows(res), ng = 0;
    gws = calloc(n + 1, sizeof *gws);
    if (!gws) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *id = db_get(res, i, 0);
        if (ng == 0 || strcmp(gws[ng - 1].id, id) != 0) {
            gws[ng].id = id;
            gws[ng].first = db_get_int(res, i, 1);
            ng++;
        }
        struct fleet_gw *g = &gws[ng - 1];
        if (db_is_null(res, i, 2)) continue;
        int64_t slot = db_get_int(res, i, 2) - from / GATEWAY_HISTORY_HOUR_MS;
        if (slot < 0 || slot >= FLEET_SLOTS) continue;
        g->minutes[slot][status_index(db_get(res, i, 3))] += db_get_int(res, i, 4);
        int64_t first = db_get_int(res, i, 5);
        if (first < g->first) g->first = first; /* re-registered: count from its first row */
    }
    int64_t sum[S_COUNT] = {0};
    cJSON *o = cJSON_CreateObject();
    json_add_time(o, "from", from);
    json_add_time(o, "to", now);
    cJSON_AddNumberToObject(o, "step_seconds", 3600);
    cJSON *arr = cJSON_AddArrayToObject(o, "gateways");
    for (size_t i = 0; i < ng; i++) {
        struct fleet_gw *g = &gws[i];
        fleet_offline(g, from, now);
        for (int s = 0; s < FLEET_SLOTS; s++)
            for (int k = 0; k < S_COUNT; k++) sum[k] += g->minutes[s][k];
        if (!wanted(ids, g->id)) continue;
        cJSON *gj = cJSON_CreateObject();
        cJSON_AddStringToObject(gj, "id", g->id);
        cJSON *slots = cJSON_AddArrayToObject(gj, "slots");
        for (int s = 0; s < FLEET_SLOTS; s++) {
            cJSON *sj = cJSON_CreateObject();
            json_add_time(sj, "at", from + s * GATEWAY_HISTORY_HOUR_MS);
            /* The status with the most minutes; ties go to the worse one. */
            static const int order[S_COUNT] = {S_OFFLINE, S_DEGRADED, S_MAINT, S_ONLINE};
            int best = -1;
            for (int k = 0; k < S_COUNT; k++)
                if (g->minutes[s][order[k]] > 0 &&
                    (best < 0 || g->minutes[s][order[k]] > g->minutes[s][best]))
                    best = order[k];
            if (best < 0)
                cJSON_AddNullToObject(sj, "status");
            else
                cJSON_AddStringToObject(sj, "status", STATUSES[best]);
            for (int k = 0; k < S_COUNT; k++)
                cJSON_AddNumberToObject(sj, STATUSES[k], (double)g->minutes[s][k]);
            cJSON_AddItemToArray(slots, sj);
        }
        cJSON_AddItemToArray(arr, gj);
    }
    int64_t total = 0;
    for (int k = 0; k < S_COUNT; k++) total += sum[k];
    cJSON *summary = cJSON_AddObjectToObject(o, "summary");
    cJSON_AddNumberToObject(summary, "gateways", (double)ng);
    cJSON_AddNumberToObject(summary, "gateway_minutes", (double)total);
    cJSON *share = cJSON_AddObjectToObject(summary, "share");
    for (int k = 0; k < S_COUNT; k++) {
        if (total > 0)
            cJSON_AddNumberToObject(share, STATUSES[k], (double)sum[k] / (double)total);
        else
            cJSON_AddNullToObject(share, STATUSES[k]);
    }
    rc = http_send_json_take(r, 200, o);
out:
    db_result_free(res);
    free(gws);
    return rc;
}
