/*
 * audit.c — the audit log. Request threads copy what they need from a
 * finished request into a fixed-size event and push it into a bounded ring
 * buffer; one writer thread takes up to AUDIT_BATCH_MAX events at a time and
 * inserts them in one transaction on its own connection. A failed write keeps
 * the events in the buffer and retries with a growing delay, so a database
 * outage fills the buffer, and only then are new events dropped (counted, and
 * logged at most every AUDIT_FULL_LOG_INTERVAL_MS). audit_stop() drains the
 * buffer before the database closes. The writer also purges events older
 * than audit.retention_days, once at start and then hourly.
 *
 * Unauthenticated 401s and 404s (no credential, a bad one, or anonymous)
 * cannot flood the log: per remote address and wall-clock minute the first
 * AUDIT_LIMITER_BURST are recorded as they are, and the rest are counted and
 * written as one summary record (the last of them, with repeat_count) once
 * the minute is over (the writer flushes finished minutes, audit_stop
 * flushes the rest).
 * Also: GET /v1/audit (filtered, paged) and GET /v1/audit/export.ndjson.
 *
 * Threading: `ring` (slots, head, count, flags, log times) is guarded by
 * `writer.mu`; producers only add at the tail and only the writer removes
 * from the head, so the writer reads the head events without the lock while
 * it writes them. Counters are atomics. `cfg` is set by audit_start before
 * the writer and the HTTP workers run, then read-only. `limiter` (the
 * per-address summaries) has its own lock, taken before writer.mu, never
 * while holding it.
 */
#define _GNU_SOURCE
#include "portico/audit.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "portico/config.h"
#include "portico/db.h"
#include "portico/http.h"
#include "portico/json.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/rbac.h"
#include "portico/tenant.h"
#include "portico/util.h"
#include "portico/worker.h"

/* One audit event, self-contained: nothing points back into the request. */
struct audit_event {
    int64_t at_ms;
    int status; /* 0 = not known (stored as NULL) */
    double duration_ms;
    char kind[8];
    char request_id[40];
    char method[16];
    char path[AUDIT_PATH_MAX];
    char query[AUDIT_QUERY_MAX];
    char principal[256];
    char auth_type[16];
    char role[24];
    char tenant_id[64];
    char remote_addr[64];
    char user_agent[AUDIT_USER_AGENT_MAX + 1];
    char action[32];
    int64_t repeat; /* requests this record stands for; 0 = 1 (stored as NULL) */
};

/* Unauthenticated 401/404 per remote address and minute. */
struct limiter_slot {
    char addr[64];
    int64_t minute;           /* at_ms / 60000 of the window; 0 = free slot */
    int recorded;             /* recorded one by one in this window */
    int64_t suppressed;       /* requests counted, not recorded */
    struct audit_event *last; /* the latest of them (owned) */
};

static struct {
    pthread_mutex_t lock;
    struct limiter_slot slots[AUDIT_LIMITER_ADDRS];
} limiter = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* writer.mu guards the ring; writer.cond: producers and audit_stop wake
 * the writer; writer.stop: audit_stop was called: drain, then exit. */
static struct worker writer = WORKER_INIT;

static struct {
    struct audit_event **slots;
    size_t depth, head, count;
    bool accepting; /* audit_record_* may push */
    int64_t drain_deadline_ms;
    int64_t full_logged_ms; /* last "buffer full" log line (monotonic ms) */
} ring;

static atomic_bool enabled;
static atomic_uint_fast64_t dropped_total;
static atomic_uint_fast64_t written_total;
static atomic_uint_fast64_t db_errors; /* the writer's and purge's database errors */

static const char SQL_INSERT[] =
    "INSERT INTO audit_events (kind, at, request_id, method, path, query, status, duration_ms,"
    " principal, auth_type, role, tenant_id, remote_addr, user_agent, action, repeat_count)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
static const char SQL_PURGE[] = "DELETE FROM audit_events WHERE at < $1";

static const char SQL_LIST_COLUMNS[] =
    "SELECT kind, at, request_id, method, path, query, status, duration_ms, principal,"
    " auth_type, role, remote_addr, tenant_id, user_agent, action, id, repeat_count"
    " FROM audit_events"
    " WHERE 1 = 1";
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM audit_events WHERE 1 = 1";
/* WHERE fragments: each '?' becomes the next $N (values are always bound). */
static const char SQL_F_TENANT[] = " AND tenant_id = ? AND (role IS NULL OR role <> ?)";
static const char SQL_F_KIND[] = " AND kind = ?";
/* A key's name alone ("apikey:ci") also matches its records, which add the
 * key id ("apikey:ci [<id>]"). */
static const char SQL_F_PRINCIPAL[] = " AND (principal = ? OR substr(principal, 1, ?) = ?)";
static const char SQL_F_METHOD[] = " AND method = ?";
static const char SQL_F_STATUS[] = " AND status >= ? AND status <= ?";
/* LIKE narrows; the substr comparison makes the prefix match exact and
 * case-sensitive on both databases (SQLite's LIKE ignores ASCII case). */
static const char SQL_F_PATH[] = " AND path LIKE ? ESCAPE '\\' AND substr(path, 1, ?) = ?";
static const char SQL_F_FROM[] = " AND at >= ?";
static const char SQL_F_TO[] = " AND at <= ?";
static const char SQL_F_AFTER[] = " AND (at < ? OR (at = ? AND id < ?))";
static const char SQL_ORDER_PAGE[] = " ORDER BY at DESC, id DESC LIMIT ? OFFSET ?";
static const char SQL_ORDER_LIMIT[] = " ORDER BY at DESC, id DESC LIMIT ?";

/* ---- small helpers ------------------------------------------------------ */

static int64_t mono_ms(void)
{
    return worker_now_ms();
}

/* Length of the UTF-8 sequence a lead byte starts, 0 when it cannot lead. */
static size_t utf8_seq_len(unsigned char c)
{
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf) return 2;
    if (c >= 0xe0 && c <= 0xef) return 3;
    if (c >= 0xf0 && c <= 0xf4) return 4;
    return 0;
}

/* Copies at most n-1 bytes of src into dst as valid UTF-8 without control
 * characters: invalid bytes and controls become '?', and a character that
 * does not fit whole is left out. The database rejects invalid UTF-8, and
 * one bad event must not block a batch. */
static void copy_clean(char *dst, size_t n, const char *src)
{
    size_t o = 0;
    if (n == 0) return;
    if (src) {
        const unsigned char *p = (const unsigned char *)src;
        while (*p) {
            size_t len = utf8_seq_len(*p);
            bool ok = len > 0;
            for (size_t i = 1; ok && i < len; i++)
                if (p[i] == '\0') ok = false;
            if (ok && len > 1) ok = util_utf8_valid((const char *)p, len);
            if (ok && len == 1 && (*p < 0x20 || *p == 0x7f)) ok = false;
            if (!ok) len = 1;
            if (o + len >= n) break;
            if (ok)
                memcpy(dst + o, p, len);
            else
                dst[o] = '?';
            o += len;
            p += len;
        }
    }
    dst[o] = '\0';
}

/* Percent-decodes a query parameter name ('+' is a space), lower-cases ASCII. */
static void decode_name(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n) {
            char hex[3] = {s[i + 1], s[i + 2], '\0'};
            char *end = NULL;
            long v = strtol(hex, &end, 16);
            if (end == hex + 2) {
                c = (unsigned char)v;
                i += 2;
            }
        } else if (c == '+') {
            c = ' ';
        }
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* Query parameter names whose values are secrets. */
static bool sensitive_name(const char *name)
{
    static const char *const exact[] = {
        "api_key",       "apikey",   "x-api-key",     "key",    "token",
        "access_token",  "id_token", "refresh_token", "code",   "code_verifier",
        "state",         "nonce",    "password",      "passwd", "secret",
        "client_secret", "session",  "authorization", "cookie",
    };
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(name, exact[i]) == 0) return true;
    /* Err on the side of hiding: anything that looks like a credential. */
    return strstr(name, "token") || strstr(name, "secret") || strstr(name, "password");
}

/* Writes `raw` (an undecoded query string, may be NULL) into out with the
 * values of sensitive parameters replaced by REDACTED; other parameters are
 * kept as sent. Truncated to outlen-1 bytes, always valid UTF-8. */
static void redact_query(const char *raw, char *out, size_t outlen)
{
    struct strbuf b;
    strbuf_init(&b, outlen * 2 + 64);
    const char *p = raw ? raw : "";
    bool first = true;
    while (*p && !b.failed && b.len < outlen) {
        const char *amp = strchr(p, '&');
        size_t seg = amp ? (size_t)(amp - p) : strlen(p);
        if (seg > 0) {
            const char *eq = memchr(p, '=', seg);
            size_t name_len = eq ? (size_t)(eq - p) : seg;
            char name[128];
            decode_name(p, name_len, name, sizeof name);
            if (!first) strbuf_puts(&b, "&");
            first = false;
            /* Each piece is cut to what can still fit, so one long value
             * cannot push out the rest or fail the buffer. */
            if (eq && sensitive_name(name)) {
                strbuf_append(&b, p, name_len < outlen - b.len ? name_len : outlen - b.len);
                strbuf_puts(&b, "=REDACTED");
            } else {
                strbuf_append(&b, p, seg < outlen - b.len ? seg : outlen - b.len);
            }
        }
        p += seg;
        if (*p == '&') p++;
    }
    copy_clean(out, outlen, b.failed ? "" : (b.data ? b.data : ""));
    strbuf_cleanup(&b);
}

/* Parses a status filter: "404" (one code) or "4xx" (a class) into an
 * inclusive range. 0 on success, -1 when malformed. */
static int parse_status_filter(const char *s, int *lo, int *hi)
{
    if (!s || strlen(s) != 3) return -1;
    if (s[0] < '1' || s[0] > '5') return -1;
    if ((s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X')) {
        *lo = (s[0] - '0') * 100;
        *hi = *lo + 99;
        return 0;
    }
    long long v;
    if (util_parse_int(s, 100, 599, &v) != 0) return -1;
    *lo = *hi = (int)v;
    return 0;
}

/* ---- the ring buffer ---------------------------------------------------- */

/* Allocates an empty ring of `depth` slots; 0 on success. Main thread,
 * before any producer runs. */
static int ring_setup(size_t depth)
{
    struct audit_event **slots = calloc(depth, sizeof *slots);
    if (!slots) return -1;
    pthread_mutex_lock(&writer.mu);
    ring.slots = slots;
    ring.depth = depth;
    ring.head = ring.count = 0;
    ring.accepting = true;
    ring.full_logged_ms = -AUDIT_FULL_LOG_INTERVAL_MS;
    pthread_mutex_unlock(&writer.mu);
    return 0;
}

/* Frees whatever is left in the ring and the ring itself. */
static void ring_teardown(void)
{
    pthread_mutex_lock(&writer.mu);
    for (size_t i = 0; i < ring.count; i++) free(ring.slots[(ring.head + i) % ring.depth]);
    free(ring.slots);
    ring.slots = NULL;
    ring.depth = ring.head = ring.count = 0;
    ring.accepting = false;
    pthread_mutex_unlock(&writer.mu);
}

/* Takes ownership of ev: queues it, or frees and counts it as dropped. */
static void ring_push(struct audit_event *ev)
{
    bool queued = false, log_it = false;
    pthread_mutex_lock(&writer.mu);
    if (ev && ring.accepting && ring.count < ring.depth) {
        ring.slots[(ring.head + ring.count) % ring.depth] = ev;
        ring.count++;
        queued = true;
        pthread_cond_signal(&writer.cond);
    } else if (ring.accepting) {
        int64_t now = mono_ms();
        if (now - ring.full_logged_ms >= AUDIT_FULL_LOG_INTERVAL_MS) {
            ring.full_logged_ms = now;
            log_it = true;
        }
    }
    pthread_mutex_unlock(&writer.mu);
    if (queued) return;
    free(ev);
    uint64_t total = atomic_fetch_add(&dropped_total, 1) + 1;
    if (log_it)
        log_warn("audit buffer full; dropping events (%llu dropped so far; audit.buffer_depth "
                 "is %ld)",
                 (unsigned long long)total,
                 config_active() ? config_active()->audit.buffer_depth : 0L);
}

/* Removes the first n events (the writer handled them) and frees them. */
static void ring_consume(size_t n)
{
    pthread_mutex_lock(&writer.mu);
    if (n > ring.count) n = ring.count;
    for (size_t i = 0; i < n; i++) {
        size_t at = (ring.head + i) % ring.depth;
        free(ring.slots[at]);
        ring.slots[at] = NULL;
    }
    ring.head = ring.depth ? (ring.head + n) % ring.depth : 0;
    ring.count -= n;
    pthread_mutex_unlock(&writer.mu);
}

/* ---- recording ---------------------------------------------------------- */

/* A new event filled from what every kind shares, or NULL on OOM. The
 * caller owns it (ring_push takes it). */
static struct audit_event *event_from(const struct req *r, const char *kind)
{
    struct audit_event *ev = calloc(1, sizeof *ev);
    if (!ev) return NULL;
    const struct principal *p = &r->principal;
    ev->at_ms = util_now_ms();
    ev->status = r->status;
    if (r->start_us > 0) {
        int64_t us = util_mono_us() - r->start_us;
        ev->duration_ms = us > 0 ? (double)us / 1000.0 : 0.0;
    }
    copy_clean(ev->kind, sizeof ev->kind, kind);
    copy_clean(ev->request_id, sizeof ev->request_id, r->request_id);
    copy_clean(ev->method, sizeof ev->method, r->method);
    copy_clean(ev->path, sizeof ev->path, r->path);
    redact_query(r->query, ev->query, sizeof ev->query);
    copy_clean(ev->auth_type, sizeof ev->auth_type, principal_type_name(p->type));
    if (p->type != AUTH_NONE) {
        char who[sizeof ev->principal];
        principal_audit_name(p, who, sizeof who);
        copy_clean(ev->principal, sizeof ev->principal, who);
        copy_clean(ev->tenant_id, sizeof ev->tenant_id, p->tenant_id);
        if (p->role != ROLE_NONE) copy_clean(ev->role, sizeof ev->role, rbac_role_name(p->role));
    }
    if (r->ri) copy_clean(ev->remote_addr, sizeof ev->remote_addr, http_remote_addr(r));
    if (r->conn) copy_clean(ev->user_agent, sizeof ev->user_agent, http_header(r, "User-Agent"));
    return ev;
}

/* ---- summaries of unauthenticated 401/404 -------------------------------- */

/* Queues the summary of a finished window and frees the slot (limiter.lock
 * held). */
static void limiter_emit(struct limiter_slot *s)
{
    if (s->last && s->suppressed > 0) {
        s->last->repeat = s->suppressed;
        ring_push(s->last);
    } else {
        free(s->last);
    }
    memset(s, 0, sizeof *s);
}

/* Writes the summaries of windows that are over (all of them when force). */
static void limiter_flush(bool force)
{
    int64_t minute = util_now_ms() / 60000;
    pthread_mutex_lock(&limiter.lock);
    for (size_t i = 0; i < AUDIT_LIMITER_ADDRS; i++) {
        struct limiter_slot *s = &limiter.slots[i];
        if (s->minute && (force || s->minute != minute)) limiter_emit(s);
    }
    pthread_mutex_unlock(&limiter.lock);
}

/* Takes ev when it is an unauthenticated 401/404 that the window of its
 * address already has a record for (counted into the summary); false when
 * ev must be recorded as usual. */
static bool limiter_absorb(const struct req *r, struct audit_event *ev)
{
    enum auth_type t = r->principal.type;
    if (!ev || (t != AUTH_NONE && t != AUTH_ANONYMOUS) || (ev->status != 401 && ev->status != 404))
        return false;
    int64_t minute = ev->at_ms / 60000;
    bool absorbed = false;
    pthread_mutex_lock(&limiter.lock);
    struct limiter_slot *slot = NULL, *free_slot = NULL;
    for (size_t i = 0; i < AUDIT_LIMITER_ADDRS && !slot; i++) {
        struct limiter_slot *s = &limiter.slots[i];
        if (s->minute && strcmp(s->addr, ev->remote_addr) == 0)
            slot = s;
        else if (!s->minute && !free_slot)
            free_slot = s;
    }
    if (slot && slot->minute != minute) {
        limiter_emit(slot); /* a new minute: the old window's summary goes out */
        free_slot = slot;
        slot = NULL;
    }
    if (slot && slot->recorded < AUDIT_LIMITER_BURST) {
        slot->recorded++;
    } else if (slot) {
        free(slot->last);
        slot->last = ev;
        slot->suppressed++;
        absorbed = true;
    } else if (free_slot) {
        /* The first in this window is recorded as it is. */
        util_copy(free_slot->addr, sizeof free_slot->addr, ev->remote_addr);
        free_slot->minute = minute;
        free_slot->recorded = 1;
    }
    pthread_mutex_unlock(&limiter.lock);
    return absorbed;
}

void audit_record_request(const struct req *r)
{
    if (!atomic_load(&enabled) || !r) return;
    struct audit_event *ev = event_from(r, "request");
    if (limiter_absorb(r, ev)) return;
    ring_push(ev);
}

void audit_record_auth(const struct req *r, const char *action, const char *subject)
{
    if (!atomic_load(&enabled) || !r) return;
    struct audit_event *ev = event_from(r, "auth");
    if (ev) {
        copy_clean(ev->action, sizeof ev->action, action);
        if (subject) copy_clean(ev->principal, sizeof ev->principal, subject);
    }
    ring_push(ev);
}

uint64_t audit_db_errors_total(void)
{
    return atomic_load(&db_errors);
}

uint64_t audit_dropped_total(void)
{
    return atomic_load(&dropped_total);
}

uint64_t audit_written_total(void)
{
    return atomic_load(&written_total);
}

uint64_t audit_pending(void)
{
    pthread_mutex_lock(&writer.mu);
    uint64_t n = ring.count;
    pthread_mutex_unlock(&writer.mu);
    return n;
}

/* ---- the writer --------------------------------------------------------- */

static const char *empty_null(const char *s)
{
    return s && s[0] ? s : NULL;
}

static enum db_err insert_one(struct db *db, const struct audit_event *ev)
{
    return db_exec(
        db, SQL_INSERT,
        DB_ARGS(DBP_TEXT(ev->kind), DBP_INT(ev->at_ms), DBP_TEXT(empty_null(ev->request_id)),
                DBP_TEXT(empty_null(ev->method)), DBP_TEXT(empty_null(ev->path)),
                DBP_TEXT(empty_null(ev->query)), ev->status > 0 ? DBP_INT(ev->status) : DBP_NULL,
                DBP_REAL(ev->duration_ms), DBP_TEXT(ev->principal), DBP_TEXT(ev->auth_type),
                DBP_TEXT(empty_null(ev->role)), DBP_TEXT(empty_null(ev->tenant_id)),
                DBP_TEXT(empty_null(ev->remote_addr)), DBP_TEXT(empty_null(ev->user_agent)),
                DBP_TEXT(empty_null(ev->action)), ev->repeat > 1 ? DBP_INT(ev->repeat) : DBP_NULL),
        NULL);
}

static bool transient(enum db_err e)
{
    return e == DB_ERR_UNAVAILABLE || e == DB_ERR_BUSY;
}

/* Writes batch[0..n) in one transaction. *done is how many events at the
 * front were handled (written, or dropped as unwritable). Returns DB_OK, or
 * the transient error that stopped it (the rest stays queued). */
static enum db_err write_batch(struct db *db, struct audit_event *const *batch, size_t n,
                               size_t *done)
{
    *done = 0;
    enum db_err e = db_begin(db);
    size_t i = 0;
    if (e == DB_OK) {
        for (i = 0; i < n && e == DB_OK; i++) e = insert_one(db, batch[i]);
        if (e == DB_OK) e = db_commit(db);
    }
    if (e == DB_OK) {
        atomic_fetch_add(&written_total, n);
        *done = n;
        return DB_OK;
    }
    db_rollback(db);
    if (transient(e)) return e;
    /* A permanent error (one event the database refuses): write them one by
     * one so only the bad event is lost, never the whole batch. */
    for (i = 0; i < n; i++) {
        e = insert_one(db, batch[i]);
        if (transient(e)) break;
        if (e == DB_OK) {
            atomic_fetch_add(&written_total, 1);
        } else {
            atomic_fetch_add(&dropped_total, 1);
            log_error("audit: dropping an event the database refuses (%s): %s", db_err_name(e),
                      db_errmsg(db));
        }
    }
    *done = i;
    return i == n ? DB_OK : e;
}

static void purge_old(struct db *db)
{
    long affected = 0;
    int64_t cutoff = util_now_ms() - (int64_t)config_active()->audit.retention_days * 86400000LL;
    enum db_err e = db_exec(db, SQL_PURGE, DB_ARGS(DBP_INT(cutoff)), &affected);
    if (e != DB_OK) {
        atomic_fetch_add(&db_errors, 1);
        log_warn("audit: retention purge failed (%s); will retry", db_err_name(e));
        return;
    }
    if (affected > 0)
        log_info("audit: purged %ld events older than %ld days", affected,
                 config_active()->audit.retention_days);
}

static void *writer_main(void *arg)
{
    (void)arg;
    struct db *db = NULL;
    struct audit_event *batch[AUDIT_BATCH_MAX];
    int64_t backoff = AUDIT_BACKOFF_MIN_MS;
    int64_t retry_at = 0; /* monotonic ms: no write before this */
    int64_t failing_logged = -AUDIT_FULL_LOG_INTERVAL_MS;
    bool purging = config_active()->audit.retention_days > 0;
    int64_t next_purge = mono_ms(); /* once at start, then hourly */

    for (;;) {
        limiter_flush(false);
        pthread_mutex_lock(&writer.mu);
        for (;;) {
            int64_t now = mono_ms();
            if (writer.stop) break;
            if (purging && now >= next_purge) break;
            if (ring.count > 0 && now >= retry_at) break;
            int64_t until = now + AUDIT_LIMITER_FLUSH_MS;
            if (ring.count > 0 && retry_at < until) until = retry_at;
            if (purging && next_purge < until) until = next_purge;
            worker_wait_until(&writer, until);
        }
        bool stopping = writer.stop;
        int64_t deadline = ring.drain_deadline_ms;
        size_t n = ring.count < AUDIT_BATCH_MAX ? ring.count : AUDIT_BATCH_MAX;
        for (size_t i = 0; i < n; i++) batch[i] = ring.slots[(ring.head + i) % ring.depth];
        pthread_mutex_unlock(&writer.mu);

        if (stopping && n == 0) break;
        if (stopping && mono_ms() >= deadline) {
            uint64_t left = audit_pending();
            ring_consume((size_t)left);
            atomic_fetch_add(&dropped_total, left);
            log_error("audit: the database did not take %llu events before shutdown; they are "
                      "dropped",
                      (unsigned long long)left);
            break;
        }
        if (stopping && mono_ms() < retry_at) {
            /* Shutting down: wait out the backoff, but never past the deadline. */
            struct timespec ts = {0, 0};
            int64_t pause = retry_at - mono_ms();
            if (pause > deadline - mono_ms()) pause = deadline - mono_ms();
            if (pause > 0) {
                ts.tv_sec = (time_t)(pause / 1000);
                ts.tv_nsec = (long)(pause % 1000) * 1000000L;
                nanosleep(&ts, NULL);
            }
            continue;
        }

        enum db_err e = DB_OK;
        if (!db && db_open(&db) != DB_OK) {
            db = NULL;
            e = DB_ERR_UNAVAILABLE;
        }
        if (e == DB_OK && purging && !stopping && mono_ms() >= next_purge) {
            purge_old(db);
            next_purge = mono_ms() + AUDIT_PURGE_INTERVAL_MS;
        }
        if (e == DB_OK && n > 0) {
            size_t done = 0;
            e = write_batch(db, batch, n, &done);
            ring_consume(done);
        }
        if (e == DB_OK) {
            backoff = AUDIT_BACKOFF_MIN_MS;
            retry_at = 0;
            continue;
        }
        atomic_fetch_add(&db_errors, 1);
        if (mono_ms() - failing_logged >= AUDIT_FULL_LOG_INTERVAL_MS) {
            failing_logged = mono_ms();
            log_warn("audit: cannot write events (%s); %llu waiting, retrying", db_err_name(e),
                     (unsigned long long)audit_pending());
        }
        if (e == DB_ERR_UNAVAILABLE && db) {
            db_close(db); /* reconnect on the next attempt */
            db = NULL;
        }
        if (purging && mono_ms() >= next_purge) next_purge = mono_ms() + 60000;
        retry_at = mono_ms() + backoff;
        backoff = backoff * 2 > AUDIT_BACKOFF_MAX_MS ? AUDIT_BACKOFF_MAX_MS : backoff * 2;
    }
    db_close(db);
    return NULL;
}

int audit_start(void)
{
    if (!config_active()->audit.enabled) {
        log_info("audit: disabled (audit.enabled is false)");
        return 0;
    }
    worker_prepare(&writer);
    if (ring_setup((size_t)config_active()->audit.buffer_depth) != 0) {
        log_error("audit: cannot allocate the buffer (%ld events)",
                  config_active()->audit.buffer_depth);
        return -1;
    }
    if (worker_start(&writer, "audit: writer", writer_main, NULL) != 0) {
        ring_teardown();
        return -1;
    }
    atomic_store(&enabled, true);
    return 0;
}

void audit_stop(void)
{
    if (!writer.running) return;
    atomic_store(&enabled, false);
    limiter_flush(true);
    pthread_mutex_lock(&writer.mu);
    ring.accepting = false;
    ring.drain_deadline_ms = mono_ms() + AUDIT_DRAIN_TIMEOUT_MS;
    uint64_t pending = ring.count;
    pthread_mutex_unlock(&writer.mu);
    if (pending > 0) log_info("audit: writing %llu buffered events", (unsigned long long)pending);
    worker_stop(&writer); /* the writer drains, then exits */
    ring_teardown();
}

/* ---- GET /v1/audit and the export --------------------------------------- */

struct audit_filter {
    char kind[16];
    char principal[AUDIT_FILTER_MAX];
    char method[16];
    char path[AUDIT_FILTER_MAX];
    bool has_status, has_from, has_to;
    int status_lo, status_hi;
    int64_t from_ms, to_ms;
};

/* Reads one optional query parameter; -1 after sending 400. 0 when absent
 * (out = ""), 1 when present. */
static int filter_param(struct req *r, const char *name, char *out, size_t n, const char *what)
{
    int len = http_query_param(r, name, 0, out, n);
    if (len == -1) {
        out[0] = '\0';
        return 0;
    }
    if (len < 0 || !util_utf8_valid(out, (size_t)len) || util_has_control(out, false)) {
        http_send_error(r, 400, "invalid_parameter", "%s: %s", name, what);
        return -1;
    }
    return len > 0 ? 1 : 0;
}

/* Parses the filters of both endpoints; 0, or the status it sent. */
static int parse_filters(struct req *r, struct audit_filter *f)
{
    char buf[64];
    int rc;
    memset(f, 0, sizeof *f);
    if ((rc = filter_param(r, "kind", f->kind, sizeof f->kind, "must be request or auth")) < 0)
        return r->status;
    if (rc > 0 && strcmp(f->kind, "request") != 0 && strcmp(f->kind, "auth") != 0)
        return http_send_error(r, 400, "invalid_parameter", "kind: must be request or auth");
    if (filter_param(r, "principal", f->principal, sizeof f->principal,
                     "must be at most 255 bytes of text") < 0)
        return r->status;
    if (filter_param(r, "method", f->method, sizeof f->method,
                     "must be an HTTP method such as GET") < 0)
        return r->status;
    for (char *p = f->method; *p; p++) {
        if (*p >= 'a' && *p <= 'z') *p = (char)(*p - 'a' + 'A');
        if (*p < 'A' || *p > 'Z')
            return http_send_error(r, 400, "invalid_parameter",
                                   "method: must be an HTTP method such as GET");
    }
    if ((rc = filter_param(r, "status", buf, sizeof buf,
                           "must be a code like 404 or a class like 4xx")) < 0)
        return r->status;
    if (rc > 0) {
        if (parse_status_filter(buf, &f->status_lo, &f->status_hi) != 0)
            return http_send_error(r, 400, "invalid_parameter",
                                   "status: must be a code like 404 or a class like 4xx");
        f->has_status = true;
    }
    if (filter_param(r, "path", f->path, sizeof f->path, "must be at most 255 bytes of text") < 0)
        return r->status;
    if (f->path[0] && f->path[0] != '/')
        return http_send_error(r, 400, "invalid_parameter", "path: must start with /");
    static const char *const times[] = {"from", "to"};
    for (int i = 0; i < 2; i++) {
        if ((rc = filter_param(r, times[i], buf, sizeof buf,
                               "must be an RFC 3339 time like 2026-11-22T08:00:00Z")) < 0)
            return r->status;
        if (rc == 0) continue;
        int64_t ms;
        if (util_time_parse(buf, &ms) != 0)
            return http_send_error(r, 400, "invalid_parameter",
                                   "%s: must be an RFC 3339 time like 2026-11-22T08:00:00Z",
                                   times[i]);
        if (i == 0) {
            f->has_from = true;
            f->from_ms = ms;
        } else {
            f->has_to = true;
            f->to_ms = ms;
        }
    }
    if (f->has_from && f->has_to && f->to_ms < f->from_ms)
        return http_send_error(r, 400, "invalid_parameter", "to: must not be before from");
    return 0;
}

/* A query under construction (db_where) and the strings its values point into. */
struct where {
    struct db_where q;
    char *owned[2];
};

#define WHERE_ADD(w, frag, ...) DB_WHERE_ADD(&(w)->q, (frag), __VA_ARGS__)

static void where_cleanup(struct where *w)
{
    db_where_cleanup(&w->q);
    free(w->owned[0]);
    free(w->owned[1]);
}

/* Builds base + the caller's filters (and the tenant scope). */
static int where_build(struct where *w, const char *base, const struct req *r,
                       const struct audit_filter *f)
{
    memset(w, 0, sizeof *w);
    db_where_init(&w->q, base);
    /* A tenant-scoped reader sees its tenant's records and never a
     * cross-tenant admin's activity, even one recorded under its tenant. */
    if (!tenant_all(&r->principal))
        WHERE_ADD(w, SQL_F_TENANT, DBP_TEXT(r->principal.tenant_id),
                  DBP_TEXT(rbac_role_name(ROLE_CPI_ADMIN)));
    if (f->kind[0]) WHERE_ADD(w, SQL_F_KIND, DBP_TEXT(f->kind));
    if (f->principal[0]) {
        struct strbuf pre;
        strbuf_init(&pre, sizeof f->principal + 4);
        strbuf_printf(&pre, "%s [", f->principal);
        w->owned[1] = strbuf_take(&pre);
        if (!w->owned[1]) return -1;
        WHERE_ADD(w, SQL_F_PRINCIPAL, DBP_TEXT(f->principal),
                  DBP_INT(util_utf8_len(w->owned[1], strlen(w->owned[1]))), DBP_TEXT(w->owned[1]));
    }
    if (f->method[0]) WHERE_ADD(w, SQL_F_METHOD, DBP_TEXT(f->method));
    if (f->has_status) WHERE_ADD(w, SQL_F_STATUS, DBP_INT(f->status_lo), DBP_INT(f->status_hi));
    if (f->path[0]) {
        w->owned[0] = db_like_pattern("", f->path, strlen(f->path), "%");
        if (!w->owned[0]) return -1;
        WHERE_ADD(w, SQL_F_PATH, DBP_TEXT(w->owned[0]),
                  DBP_INT(util_utf8_len(f->path, strlen(f->path))), DBP_TEXT(f->path));
    }
    if (f->has_from) WHERE_ADD(w, SQL_F_FROM, DBP_INT(f->from_ms));
    if (f->has_to) WHERE_ADD(w, SQL_F_TO, DBP_INT(f->to_ms));
    return db_where_failed(&w->q) ? -1 : 0;
}

static void add_text(cJSON *o, const char *key, const struct db_result *res, size_t row, int col)
{
    json_add_str_or_null(o, key, db_get(res, row, col));
}

/* One event as JSON (columns as in SQL_LIST_COLUMNS). Caller frees with
 * cJSON_Delete; NULL on OOM. */
static cJSON *event_json(const struct db_result *res, size_t i)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    const char *kind = db_get(res, i, 0);
    add_text(o, "kind", res, i, 0);
    json_add_time(o, "at", db_get_int(res, i, 1));
    add_text(o, "request_id", res, i, 2);
    add_text(o, "method", res, i, 3);
    add_text(o, "path", res, i, 4);
    add_text(o, "query", res, i, 5);
    if (db_is_null(res, i, 6))
        cJSON_AddNullToObject(o, "status");
    else
        cJSON_AddNumberToObject(o, "status", (double)db_get_int(res, i, 6));
    cJSON_AddNumberToObject(o, "duration_ms", db_get_double(res, i, 7));
    add_text(o, "principal", res, i, 8);
    add_text(o, "auth_type", res, i, 9);
    add_text(o, "role", res, i, 10);
    add_text(o, "remote_addr", res, i, 11);
    add_text(o, "tenant_id", res, i, 12);
    add_text(o, "user_agent", res, i, 13);
    if (kind && strcmp(kind, "auth") == 0) add_text(o, "action", res, i, 14);
    cJSON_AddNumberToObject(o, "count",
                            db_is_null(res, i, 16) ? 1 : (double)db_get_int(res, i, 16));
    return o;
}

int audit_handle_list(struct req *r)
{
    struct audit_filter f;
    struct where w, wc;
    struct db_result *res = NULL, *cnt = NULL;
    cJSON *root = NULL;
    long page, page_size;
    int rc;
    memset(&w, 0, sizeof w);
    memset(&wc, 0, sizeof wc);
    if ((rc = parse_filters(r, &f)) != 0) return rc;
    if (http_paging(r, &page, &page_size) != 0) return r->status;

    if (where_build(&wc, SQL_COUNT, r, &f) != 0 || where_build(&w, SQL_LIST_COLUMNS, r, &f) != 0) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    WHERE_ADD(&w, SQL_ORDER_PAGE, DBP_INT(page_size), DBP_INT((int64_t)(page - 1) * page_size));
    if (db_where_failed(&w.q) || db_where_failed(&wc.q)) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    struct db *db = db_thread();
    enum db_err e = db_where_query(db, &wc.q, &cnt);
    if (e == DB_OK) e = db_where_query(db, &w.q, &res);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    root = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(root, "items");
    for (size_t i = 0; i < db_rows(res); i++) cJSON_AddItemToArray(items, event_json(res, i));
    json_add_paging(root, db_get_int(cnt, 0, 0), page, page_size);
    rc = http_send_json_take(r, 200, root);
out:
    where_cleanup(&w);
    where_cleanup(&wc);
    db_result_free(res);
    db_result_free(cnt);
    return rc;
}

/* Fetches the next page of the export (after at/id when have_last). */
static enum db_err export_page(struct db *db, const struct req *r, const struct audit_filter *f,
                               bool have_last, int64_t last_at, int64_t last_id,
                               struct db_result **out)
{
    struct where w;
    enum db_err e = DB_ERR_INTERNAL;
    if (where_build(&w, SQL_LIST_COLUMNS, r, f) != 0) goto out;
    if (have_last) WHERE_ADD(&w, SQL_F_AFTER, DBP_INT(last_at), DBP_INT(last_at), DBP_INT(last_id));
    WHERE_ADD(&w, SQL_ORDER_LIMIT, DBP_INT(AUDIT_EXPORT_PAGE));
    e = db_where_query(db, &w.q, out);
out:
    where_cleanup(&w);
    return e;
}

int audit_handle_export(struct req *r)
{
    struct audit_filter f;
    struct db_result *res = NULL;
    int rc;
    if ((rc = parse_filters(r, &f)) != 0) return rc;
    struct db *db = db_thread();
    /* The first page before the headers, so a database error is still a 503. */
    enum db_err e = export_page(db, r, &f, false, 0, 0, &res);
    if (e != DB_OK) return http_send_db_error(r, e);
    if (http_stream_start(r, 200, "application/x-ndjson") != 0) goto out;
    size_t lines = 0;
    for (;;) {
        size_t rows = db_rows(res);
        for (size_t i = 0; i < rows; i++) {
            cJSON *o = event_json(res, i);
            char *text = o ? json_print(o) : NULL;
            cJSON_Delete(o);
            if (!text) {
                log_error("audit export: out of memory after %zu lines", lines);
                goto out;
            }
            size_t len = strlen(text);
            text[len] = '\n'; /* replaces the NUL; written with its length */
            int w = http_write(r, text, len + 1);
            free(text);
            if (w != 0) goto out; /* the client went away */
            lines++;
        }
        if (rows < AUDIT_EXPORT_PAGE) break;
        int64_t last_at = db_get_int(res, rows - 1, 1);
        int64_t last_id = db_get_int(res, rows - 1, 15);
        db_result_free(res);
        res = NULL;
        e = export_page(db, r, &f, true, last_at, last_id, &res);
        if (e != DB_OK) {
            log_error("audit export: database error after %zu lines (%s)", lines, db_err_name(e));
            break;
        }
    }
out:
    db_result_free(res);
    return 200;
}
