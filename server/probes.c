/*
 * probes.c — GET /healthz (the process answers) and GET /readyz (the
 * database answers, the OIDC provider was discovered, not draining).
 * Threading: a positive readiness result is cached for READY_RECHECK_S under
 * a mutex so probes cannot hammer the database; a negative one is never
 * cached: every probe re-checks (one at a time, under the mutex), so /readyz
 * turns ready the moment its causes are gone.
 */
#include "portico/probes.h"

#include <pthread.h>
#include <string.h>

#include "portico/db.h"
#include "portico/http.h"
#include "portico/limits.h"
#include "portico/oidc.h"
#include "portico/util.h"

static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t ready_checked_ms = -1;
static char ready_text[256];
static bool ready_ok;

int probes_handle_healthz(struct req *r)
{
    return http_send(r, 200, "text/plain; charset=utf-8", "ok\n", 3, NULL);
}

int probes_handle_readyz(struct req *r)
{
    int64_t now = util_now_ms();
    char text[256];
    bool ok;
    pthread_mutex_lock(&ready_lock);
    if (!ready_ok || ready_checked_ms < 0 || now - ready_checked_ms >= READY_RECHECK_S * 1000 ||
        http_draining()) {
        struct strbuf b;
        strbuf_init(&b, sizeof text);
        if (db_ping(db_thread()) != DB_OK) {
            /* A dead connection is dropped so the next check reconnects. */
            strbuf_puts(&b, "NOT READY: database unreachable\n");
        }
        if (oidc_enabled() && !oidc_ready())
            strbuf_puts(&b, "NOT READY: OIDC provider unreachable\n");
        if (http_draining()) strbuf_puts(&b, "NOT READY: draining\n");
        ready_ok = b.len == 0;
        util_copy(ready_text, sizeof ready_text, ready_ok ? "ready\n" : (b.data ? b.data : ""));
        strbuf_cleanup(&b);
        ready_checked_ms = now;
    }
    ok = ready_ok;
    util_copy(text, sizeof text, ready_text);
    pthread_mutex_unlock(&ready_lock);
    return http_send(r, ok ? 200 : 503, "text/plain; charset=utf-8", text, strlen(text), NULL);
}
