/*
 * events.c — gateway events over Server-Sent Events.
 *
 * Publishing appends the formatted event ("event: <type>\ndata: <json>\n\n")
 * to a ring of the last EVENTS_RING events and wakes every stream; each
 * stream remembers the sequence number it has sent up to and copies what is
 * new (only events of its tenant unless the caller is a cross-tenant admin).
 * A stream that lags more than the ring loses the oldest events (and is told
 * with a comment). A ": keepalive" comment goes out every EVENTS_KEEPALIVE_S;
 * a failed write (client gone) ends the stream. At most
 * gateways.max_event_streams streams are open, and at most
 * gateways.max_event_streams_per_principal per caller (so one key cannot
 * starve the console); beyond either 503 before the stream starts, naming
 * the cap, so streams cannot take every request thread.
 *
 * A stream re-checks the credential it was opened with at least every
 * EVENTS_RECHECK_S seconds, and at once when this process revokes a key or
 * ends a session (events_credentials_changed); when the credential no
 * longer stands (revoked, signed out, expired, read access lost) the stream
 * ends before anything more is sent.
 *
 * Across replicas (backends with DB_CAP_NOTIFY): every event is also sent
 * with NOTIFY on channel EVENTS_CHANNEL as "<instance>\t<type>\t<tenant>\t<json>";
 * a listener thread with its own connection LISTENs (reconnecting when the
 * database restarts) and delivers other instances' events locally. Each
 * process tags its payloads with a random instance id and skips its own, so
 * local events are delivered once and at once.
 *
 * Threading: `hub` (worker.h) — hub.mu protects the ring, `next_seq` and the
 * stop flag; hub.cond (monotonic clock) wakes streams and the listener
 * thread. The stream count is atomic so publishers can check it without
 * the lock.
 */
#define _GNU_SOURCE
#include "portico/events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portico/config.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/http.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/rbac.h"
#include "portico/tenant.h"
#include "portico/util.h"
#include "portico/worker.h"

#define EVENTS_BATCH_MAX (1024 * 1024) /* bytes one stream copies per wake-up */

struct event {
    char *text;                       /* formatted SSE event; NULL = empty slot */
    char tenant[AUTH_TENANT_MAX + 1]; /* "" = every tenant */
};

/* hub.mu guards the ring, next_seq and hub.stop (shutting down: streams
 * end, the listener thread, hub's worker, ends); hub.cond wakes streams. */
static struct worker hub = WORKER_INIT;
static struct event ring[EVENTS_RING];
static uint64_t next_seq; /* sequence number of the next event */
static atomic_int open_streams;
static char instance[17];
static atomic_uint_fast64_t cred_epoch;         /* bumped when a credential may have ended */
static bool (*credential_check)(struct req *r); /* set by main before the server starts */

/* Open streams per caller (hub.mu). Slots with count 0 are free. */
struct stream_owner {
    char id[EVENTS_OWNER_ID_MAX];
    int count;
};
static struct stream_owner owners[EVENTS_OWNERS_MAX];

/* Appends an event to the ring and wakes the streams. */
static void deliver_local(const char *type, const char *tenant, const char *json)
{
    struct strbuf b;
    strbuf_init(&b, strlen(type) + strlen(json) + 32);
    strbuf_printf(&b, "event: %s\ndata: %s\n\n", type, json);
    char *text = strbuf_take(&b);
    if (!text) return;
    pthread_mutex_lock(&hub.mu);
    if (hub.stop) {
        pthread_mutex_unlock(&hub.mu);
        free(text);
        return;
    }
    struct event *ev = &ring[next_seq % EVENTS_RING];
    free(ev->text);
    ev->text = text;
    util_copy(ev->tenant, sizeof ev->tenant, tenant ? tenant : "");
    next_seq++;
    pthread_cond_broadcast(&hub.cond);
    pthread_mutex_unlock(&hub.mu);
}

bool events_wanted(void)
{
    return atomic_load(&open_streams) > 0 || (db_caps() & DB_CAP_NOTIFY);
}

int events_open_streams(void)
{
    return atomic_load(&open_streams);
}

void events_publish_tenant(const char *type, const char *tenant_id, const char *json_data)
{
    if (!type || !json_data) return;
    if (db_caps() & DB_CAP_NOTIFY) {
        struct strbuf b;
        strbuf_init(&b, EVENTS_NOTIFY_MAX);
        strbuf_printf(&b, "%s\t%s\t%s\t%s", instance, type, tenant_id ? tenant_id : "", json_data);
        char *payload = strbuf_take(&b);
        if (!payload) {
            log_warn("events: %s is too large for NOTIFY; delivered on this replica only", type);
        } else {
            enum db_err e = db_notify(db_thread(), EVENTS_CHANNEL, payload);
            if (e != DB_OK)
                log_warn("events: NOTIFY failed (%s); delivered on this replica only",
                         db_err_name(e));
        }
        free(payload);
    }
    deliver_local(type, tenant_id, json_data);
}

void events_publish_local(const char *type, const char *tenant_id, const char *json_data)
{
    if (type && json_data) deliver_local(type, tenant_id, json_data);
}

void events_publish(const char *type, const char *json_data)
{
    events_publish_tenant(type, NULL, json_data);
}

/* ---- listener (other replicas' events) ------------------------------------ */

static void on_notify(const char *channel, const char *payload, void *ud)
{
    (void)ud;
    if (!channel || strcmp(channel, EVENTS_CHANNEL) != 0 || !payload) return;
    const char *t1 = strchr(payload, '\t');
    const char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    const char *t3 = t2 ? strchr(t2 + 1, '\t') : NULL;
    if (!t3) return;
    if ((size_t)(t1 - payload) == strlen(instance) &&
        strncmp(payload, instance, strlen(instance)) == 0)
        return; /* ours: already delivered locally */
    char type[64], tenant[AUTH_TENANT_MAX + 1];
    size_t tl = (size_t)(t2 - t1 - 1), nl = (size_t)(t3 - t2 - 1);
    if (tl == 0 || tl >= sizeof type || nl >= sizeof tenant) return;
    memcpy(type, t1 + 1, tl);
    type[tl] = '\0';
    memcpy(tenant, t2 + 1, nl);
    tenant[nl] = '\0';
    deliver_local(type, nl ? tenant : NULL, t3 + 1);
}

static void *listener_main(void *arg)
{
    (void)arg;
    struct db *db = NULL;
    bool warned = false;
    while (!worker_stopping(&hub)) {
        if (!db) {
            if (db_open(&db) != DB_OK || db_listen(db, EVENTS_CHANNEL) != DB_OK) {
                db_close(db);
                db = NULL;
                if (!warned) log_warn("events: cannot LISTEN; other replicas' events wait");
                warned = true;
                if (worker_sleep(&hub, 1000)) break;
                continue;
            }
            if (warned) log_info("events: listening for other replicas' events again");
            warned = false;
        }
        if (db_wait_notify(db, 250, on_notify, NULL) != DB_OK) {
            log_warn("events: lost the LISTEN connection; reconnecting");
            db_close(db);
            db = NULL;
        }
    }
    db_close(db);
    return NULL;
}

int events_start(void)
{
    worker_prepare(&hub);
    unsigned char raw[8];
    if (crypto_random(raw, sizeof raw) != 0) return -1;
    crypto_hex(raw, sizeof raw, instance);
    pthread_mutex_lock(&hub.mu);
    hub.stop = false;
    pthread_mutex_unlock(&hub.mu);
    if (db_caps() & DB_CAP_NOTIFY)
        return worker_start(&hub, "events: listener", listener_main, NULL);
    return 0;
}

void events_stop(void)
{
    worker_request_stop(&hub); /* streams end, nothing more is delivered */
    pthread_mutex_lock(&hub.mu);
    for (size_t i = 0; i < EVENTS_RING; i++) {
        free(ring[i].text);
        ring[i].text = NULL;
    }
    pthread_mutex_unlock(&hub.mu);
    worker_stop(&hub);
}

/* ---- the stream ----------------------------------------------------------- */

void events_use_credential_check(bool (*still_valid)(struct req *r))
{
    credential_check = still_valid;
}

void events_credentials_changed(void)
{
    atomic_fetch_add(&cred_epoch, 1);
    worker_prepare(&hub);
    worker_wake(&hub);
}

/* Who a stream belongs to, for the per-caller cap: the audit principal (an
 * API key's id included) with the auth type and tenant; anonymous callers
 * by remote address. */
static void owner_id(const struct req *r, char *out, size_t n)
{
    char who[300];
    const struct principal *p = &r->principal;
    if (p->type == AUTH_ANONYMOUS)
        snprintf(who, sizeof who, "anonymous@%s", http_remote_addr(r));
    else
        principal_audit_name(p, who, sizeof who);
    snprintf(out, n, "%d|%s|%s", (int)p->type, p->tenant_id, who);
}

/* Counts a stream for id (hub.mu held); false when id is at its cap. */
static bool owner_take(const char *id, long cap)
{
    struct stream_owner *free_slot = NULL;
    for (size_t i = 0; i < EVENTS_OWNERS_MAX; i++) {
        struct stream_owner *o = &owners[i];
        if (o->count == 0) {
            if (!free_slot) free_slot = o;
            continue;
        }
        if (strcmp(o->id, id) != 0) continue;
        if (o->count >= cap) return false;
        o->count++;
        return true;
    }
    if (!free_slot || cap < 1) return false;
    util_copy(free_slot->id, sizeof free_slot->id, id);
    free_slot->count = 1;
    return true;
}

static void owner_release(const char *id)
{
    pthread_mutex_lock(&hub.mu);
    for (size_t i = 0; i < EVENTS_OWNERS_MAX; i++)
        if (owners[i].count > 0 && strcmp(owners[i].id, id) == 0) {
            owners[i].count--;
            break;
        }
    pthread_mutex_unlock(&hub.mu);
}

static bool visible(const struct event *ev, bool all, const char *tenant)
{
    return all || ev->tenant[0] == '\0' || strcmp(ev->tenant, tenant) == 0;
}

int events_handle_stream(struct req *r)
{
    worker_prepare(&hub);
    bool all = tenant_all(&r->principal);
    const struct config *c = config_active();
    long max = c ? c->gateways.max_event_streams : 0;
    long per = c ? c->gateways.max_event_streams_per_principal : 0;
    uint64_t seq;
    char owner[EVENTS_OWNER_ID_MAX];
    owner_id(r, owner, sizeof owner);
    pthread_mutex_lock(&hub.mu);
    if (hub.stop) {
        pthread_mutex_unlock(&hub.mu);
        return http_send_error(r, 503, "shutting_down", "the server is shutting down");
    }
    if (atomic_load(&open_streams) >= max) {
        pthread_mutex_unlock(&hub.mu);
        return http_send_error(r, 503, "too_many_streams",
                               "too many open event streams (gateways.max_event_streams = %ld); "
                               "poll instead",
                               max);
    }
    if (!owner_take(owner, per)) {
        pthread_mutex_unlock(&hub.mu);
        return http_send_error(r, 503, "too_many_streams",
                               "too many open event streams for this caller "
                               "(gateways.max_event_streams_per_principal = %ld); poll instead",
                               per);
    }
    atomic_fetch_add(&open_streams, 1);
    seq = next_seq;
    pthread_mutex_unlock(&hub.mu);
    uint64_t epoch = atomic_load(&cred_epoch);
    int64_t next_recheck = worker_now_ms() + (int64_t)EVENTS_RECHECK_S * 1000;

    int64_t keepalive_ms = (int64_t)EVENTS_KEEPALIVE_S * 1000;
    static const char hello[] = "retry: 3000\n: connected\n\n";
    static const char keepalive[] = ": keepalive\n\n";
    if (http_stream_start(r, 200, "text/event-stream") != 0 ||
        http_write(r, hello, sizeof hello - 1) != 0)
        goto done;
    int64_t next_keepalive = worker_now_ms() + keepalive_ms;
    for (;;) {
        struct strbuf batch;
        strbuf_init(&batch, EVENTS_BATCH_MAX);
        int64_t wake = next_recheck < next_keepalive ? next_recheck : next_keepalive;
        pthread_mutex_lock(&hub.mu);
        while (!hub.stop && seq == next_seq && atomic_load(&cred_epoch) == epoch)
            if (!worker_wait_until(&hub, wake)) break;
        if (hub.stop) {
            pthread_mutex_unlock(&hub.mu);
            strbuf_cleanup(&batch);
            break;
        }
        /* Nothing goes out before the credential is re-checked when it is
         * due or may have ended (checked unlocked: it may hit the database). */
        if (atomic_load(&cred_epoch) != epoch || worker_now_ms() >= next_recheck) {
            pthread_mutex_unlock(&hub.mu);
            epoch = atomic_load(&cred_epoch);
            next_recheck = worker_now_ms() + (int64_t)EVENTS_RECHECK_S * 1000;
            if (credential_check && !credential_check(r)) {
                strbuf_cleanup(&batch);
                log_info("event stream of %s ended: its credential no longer stands",
                         r->principal.subject);
                break;
            }
            pthread_mutex_lock(&hub.mu);
            if (hub.stop) {
                pthread_mutex_unlock(&hub.mu);
                strbuf_cleanup(&batch);
                break;
            }
        }
        if (next_seq - seq > EVENTS_RING) {
            strbuf_printf(&batch, ": missed %llu events\n\n",
                          (unsigned long long)(next_seq - seq - EVENTS_RING));
            seq = next_seq - EVENTS_RING;
        }
        for (; seq < next_seq && !batch.failed; seq++) {
            const struct event *ev = &ring[seq % EVENTS_RING];
            if (ev->text && visible(ev, all, r->principal.tenant_id)) strbuf_puts(&batch, ev->text);
        }
        seq = next_seq; /* a batch over the cap drops the rest rather than stall */
        pthread_mutex_unlock(&hub.mu);

        bool due = worker_now_ms() >= next_keepalive;
        int wrc = 0;
        if (batch.len > 0)
            wrc = http_write(r, batch.data, batch.len);
        else if (due)
            wrc = http_write(r, keepalive, sizeof keepalive - 1);
        bool wrote = batch.len > 0 || due;
        strbuf_cleanup(&batch);
        if (wrc != 0) break; /* the client is gone */
        if (wrote) next_keepalive = worker_now_ms() + keepalive_ms;
    }
done:
    atomic_fetch_sub(&open_streams, 1);
    owner_release(owner);
    return r->status ? r->status : 200;
}
