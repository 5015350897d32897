/*
 * gateway_monitor.c — the gateway status monitor. Every gateways.health_interval_ms
 * (0 = auto: a quarter of the offline window, at most 5 s, at least 200 ms)
 * it asks the database for the gateways whose status derived from stored
 * times differs from recorded_status, and records each transition through
 * gateways_record_transition — a conditional UPDATE, so with several
 * replicas on one PostgreSQL every transition is recorded and published once.
 * Handlers record transitions they cause (heartbeat, maintenance) at once;
 * this worker catches the ones time causes (a gateway going silent).
 *
 * Threading: one background thread; its database connection is the
 * thread's own (db_thread(), closed when the thread ends); worker.h lets
 * gateway_monitor_stop wake it at once.
 */
#define _GNU_SOURCE
#include "portico/gateway_monitor.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "portico/config.h"
#include "portico/db.h"
#include "portico/deployments.h"
#include "portico/gateways.h"
#include "portico/log.h"
#include "portico/util.h"
#include "portico/worker.h"

#define MONITOR_INTERVAL_MIN_MS 200
#define MONITOR_INTERVAL_AUTO_MAX_MS 5000

static struct worker monitor = WORKER_INIT;

/* Gateways whose derived status ($1 = now - window, $2 = degraded rate)
 * differs from the recorded one. */
static char sql_changed[1536];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

static void sql_build(void)
{
    snprintf(sql_changed, sizeof sql_changed,
             "SELECT id, tenant_id, name, maintenance, last_heartbeat_at, error_rate, "
             "recorded_status FROM gateways WHERE %s <> recorded_status",
             gateways_status_sql());
}

static long interval_ms(const struct config *c)
{
    long ms = c->gateways.health_interval_ms;
    if (ms == 0) {
        ms = c->gateways.offline_after_seconds * 1000 / 4;
        if (ms > MONITOR_INTERVAL_AUTO_MAX_MS) ms = MONITOR_INTERVAL_AUTO_MAX_MS;
    }
    return ms < MONITOR_INTERVAL_MIN_MS ? MONITOR_INTERVAL_MIN_MS : ms;
}

int gateway_monitor_run_once(void)
{
    if (!config_active()) return 0;
    struct db *db = db_thread();
    struct db_result *res = NULL;
    int64_t now = util_now_ms();
    int recorded = 0;
    pthread_once(&sql_once, sql_build);
    enum db_err e =
        db_query(db, sql_changed,
                 DB_ARGS(DBP_INT(now - config_active()->gateways.offline_after_seconds * 1000LL),
                         DBP_REAL(config_active()->gateways.degraded_error_rate)),
                 &res);
    if (e != DB_OK) {
        db_result_free(res);
        return -1;
    }
    for (size_t i = 0; i < db_rows(res); i++) {
        char reason[128];
        const char *status = gateways_status(config_active(), db_get_int(res, i, 3) != 0,
                                             db_is_null(res, i, 4) ? -1 : db_get_int(res, i, 4),
                                             !db_is_null(res, i, 5), db_get_double(res, i, 5), now,
                                             reason, sizeof reason);
        struct gateway_transition t = {db_get(res, i, 0),
                                       db_get(res, i, 1),
                                       db_get(res, i, 2),
                                       db_get(res, i, 6),
                                       status,
                                       reason,
                                       now};
        if (strcmp(t.from, t.to) == 0) continue;
        int rc = gateways_record_transition(db, config_active(), &t);
        if (rc > 0)
            recorded++;
        else if (rc < 0)
            log_warn("gateway monitor: recording a transition failed; retrying next pass");
    }
    db_result_free(res);
    /* API edits after sync show as drift without anyone reading. */
    if (deployments_reconcile(db) != 0) log_warn("health: re-hashing deployments failed");
    return recorded;
}

static void *worker_main(void *arg)
{
    (void)arg;
    long every = interval_ms(config_active());
    bool warned = false;
    do {
        int rc = gateway_monitor_run_once();
        if (rc < 0 && !warned)
            log_warn("gateway monitor: the database is unavailable; status checks wait");
        else if (rc >= 0 && warned)
            log_info("gateway monitor: status checks resumed");
        warned = rc < 0;
    } while (!worker_sleep(&monitor, every));
    db_thread_close();
    return NULL;
}

int gateway_monitor_start(void)
{
    if (worker_start(&monitor, "gateway monitor: worker", worker_main, NULL) != 0) return -1;
    log_info("gateway monitor: checking gateway status every %ld ms", interval_ms(config_active()));
    return 0;
}

void gateway_monitor_stop(void)
{
    worker_stop(&monitor);
}
