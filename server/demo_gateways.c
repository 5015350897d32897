/*
 * demo_gateways.c — simulated gateways for `make run`: demo.simulated_gateways
 * gateways that talk the real protocol to http://127.0.0.1:<port> with
 * the shared HTTP client and the first configured gateway key — register, then heartbeat
 * every DEMO_BEAT_MS with varied modes, environments and error rates. One
 * runs hot (error rate 0.08, so it shows as degraded) and one stops beating
 * after its first heartbeat, so it goes offline after the window.
 *
 * Their traffic follows a daily pattern (a function of UTC time, so the
 * history charts show curves), and kong-sidecar-xyz has an incident every
 * day from 09:00 to 10:30 UTC (error rate 12-18 %, degraded) with a restart
 * at 09:40. When a simulated gateway has no stored history yet (a new
 * database), the same functions seed its last 24 hours of per-minute rows.
 *
 * Deployments: at start a few published demo APIs are deployed to the prod,
 * staging and dev environments (deployment targets), so every simulated
 * gateway finds them in its config poll (after each heartbeat), applies them
 * and acknowledges the content hash. One gateway drifts now and then: it
 * reports a different hash for a synced deployment (as if edited by hand)
 * and leaves it drifted until someone presses Sync in the console.
 *
 * Threading: one simulator thread (worker.h): worker_stop lets
 * demo_stop wake it at once, and the client's cancel hook aborts a request
 * in flight when stopping.
 */
#define _GNU_SOURCE
#include "portico/demo.h"

#include <cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portico/config.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/deployments.h"
#include "portico/gateway_history.h"
#include "portico/httpclient.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/util.h"
#include "portico/worker.h"

#define DEMO_BEAT_MS 10000
#define DEMO_RETRY_MS 2000
#define DEMO_RESPONSE_MAX (1024 * 1024)
#define DEMO_KNOWN_MAX 16   /* deployments a simulated gateway remembers */
#define DEMO_DRIFT_EVERY 12 /* heartbeats between two drifts of the drifting gateway */
#define DEMO_TIMEOUT_MS 5000L

struct template
{
    const char *hostname, *mode, *environment, *caps;
    double error_rate;
    bool stops;    /* beats once, then goes silent */
    bool incident; /* degraded 09:00-10:30 UTC daily, restart at 09:40 */
    bool drifts;   /* now and then reports a hash it was not given */
};

static const struct template TEMPLATES[] = {
    {"stoa-gw-7f8b9c", "edge-mcp", "prod", "[\"rest\",\"mcp\",\"sse\",\"oidc\",\"rate_limiting\"]",
     0.01, false, false, true},
    {"kong-sidecar-xyz", "sidecar", "staging", "[\"rest\",\"ext_authz\"]", 0.02, false, true,
     false},
    {"envoy-proxy-eu1", "proxy", "prod", "[\"rest\",\"grpc\",\"rate_limiting\"]", 0.08, false,
     false, false},
    {"shadow-tap-01", "shadow", "dev", "[\"rest\",\"traffic_capture\"]", 0.0, false, false, false},
    {"stoa-connect-us", "connect", "prod", "[\"rest\",\"oidc\"]", 0.004, false, false, false},
    {"edge-lab-42", "mcp", "dev", "[\"mcp\",\"sse\"]", 0.0, true, false, false},
};
#define TEMPLATE_COUNT (sizeof TEMPLATES / sizeof TEMPLATES[0])

/* A deployment a simulated gateway has applied; `tampered` after it drifted
 * it on purpose (it then waits for a Sync before applying it again). */
struct applied {
    char id[CRYPTO_UUID_LEN + 1];
    bool tampered;
};

struct sim {
    char hostname[64];
    const struct template *t;
    char id[CRYPTO_UUID_LEN + 1];
    struct applied known[DEMO_KNOWN_MAX];
    int nknown;
    int beats;
    int64_t next_ms;
    int64_t started_ms;
    int64_t last_beat_ms;
    long long requests;
};

static struct worker demo = WORKER_INIT;
static struct sim *sims;
static long nsims;
static char base_url[64];
static char key_header[AUTH_KEY_MAX_LEN + 32];
static double degraded_rate;
static bool seed_history;

/* ---- the curves: functions of UTC time, shared by live beats and seeding -- */

#define DEMO_DAY_MS 86400000LL
#define INCIDENT_FROM_MIN (9 * 60)
#define INCIDENT_TO_MIN (10 * 60 + 30)
#define INCIDENT_RESTART_MIN (9 * 60 + 40)

/* A repeatable pseudo-random number in [0, 1) for (gateway, minute). */
static double noise(long idx, int64_t minute)
{
    uint64_t h =
        (uint64_t)minute * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(idx + 1) * 0xC2B2AE3D27D4EB4FULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return (double)(h % 10000) / 10000.0;
}

static int minute_of_day(int64_t t)
{
    return (int)((t % DEMO_DAY_MS) / 60000);
}

/* Requests per minute: a daily wave peaking mid-afternoon (shifted per
 * gateway), with some noise. */
static double demo_rate(long idx, int64_t t)
{
    double hour = (double)(t % DEMO_DAY_MS) / 3600000.0 + (double)(idx % 5) * 1.5;
    double daily = 0.55 + 0.45 * sin(2.0 * M_PI * (hour - 8.0) / 24.0);
    double base = 240.0 + 120.0 * (double)(idx % 4);
    return base * daily * (0.9 + 0.2 * noise(idx, t / 60000));
}

static bool in_incident(const struct sim *s, int64_t t)
{
    int m = minute_of_day(t);
    return s->t->incident && m >= INCIDENT_FROM_MIN && m < INCIDENT_TO_MIN;
}

static double demo_error(const struct sim *s, long idx, int64_t t)
{
    double base = s->t->error_rate;
    if (in_incident(s, t)) return 0.12 + 0.06 * noise(idx + 7, t / 60000);
    double rate = base + (base > 0.005 ? (noise(idx + 3, t / 60000) - 0.5) * base * 0.4 : 0);
    if (base >= 0.08 && rate <= 0.06) rate = 0.08; /* stay visibly degraded */
    return rate < 0 ? 0 : rate;
}

/* Seeds the last 24 h of minute rows for a gateway without history. */
static void seed(struct sim *s, int64_t now)
{
    struct db *db = db_thread();
    if (!seed_history || !db || !gateway_history_empty(db, s->id)) return;
    long idx = (long)(s - sims);
    size_t n = 24 * 60 - 1;
    struct gateway_history_row *rows = calloc(n, sizeof *rows);
    if (!rows) return;
    int64_t first = gateway_history_floor(now, GATEWAY_HISTORY_MINUTE_MS) -
                    (int64_t)n * GATEWAY_HISTORY_MINUTE_MS;
    for (size_t i = 0; i < n; i++) {
        int64_t at = first + (int64_t)i * GATEWAY_HISTORY_MINUTE_MS;
        struct gateway_history_point *p = &rows[i].p;
        util_copy(rows[i].id, sizeof rows[i].id, s->id);
        gateway_history_point_init(p, at, 60);
        p->minutes = 1;
        p->samples = 6;
        p->last_at = at + 55000;
        p->has_requests = true;
        p->requests = (int64_t)demo_rate(idx, at);
        p->has_rate = p->has_rate_max = true;
        p->rate = demo_error(s, idx, at + 55000);
        p->rate_max = p->rate + 0.004 * noise(idx + 11, at / 60000);
        p->has_routes = p->has_policies = true;
        p->routes = 8 + idx % 20;
        p->policies = 2 + idx % 6;
        p->restarts = s->t->incident && minute_of_day(at) == INCIDENT_RESTART_MIN ? 1 : 0;
        util_copy(p->status, sizeof p->status, p->rate > degraded_rate ? "degraded" : "online");
    }
    if (gateway_history_write(db, rows, n) == 0)
        log_info("demo: seeded 24 h of history for %s", s->hostname);
    free(rows);
}

static bool should_stop(void)
{
    return worker_stopping(&demo);
}

static bool cancelled(void *ud)
{
    (void)ud;
    return should_stop();
}

/* POSTs json to path (GETs when json is NULL); returns the HTTP status (0 on
 * transport failure) and the body in *out (caller frees) when out is non-NULL. */
static long post(const char *path, const char *json, char **out)
{
    char url[256], err[256];
    snprintf(url, sizeof url, "%s%s", base_url, path);
    struct httpclient_request rq = {
        .url = url,
        .body = json,
        .headers = {json ? "Content-Type: application/json" : key_header, json ? key_header : NULL},
        .timeout_ms = DEMO_TIMEOUT_MS,
        .max_bytes = DEMO_RESPONSE_MAX,
        .cancelled = cancelled,
    };
    struct httpclient_response res;
    if (out) *out = NULL;
    if (httpclient_fetch(&rq, &res, err, sizeof err) != 0) return 0;
    if (out) *out = strbuf_take(&res.body);
    httpclient_response_cleanup(&res);
    return res.status;
}

static void do_register(struct sim *s, int64_t now)
{
    char json[512], *resp = NULL;
    snprintf(json, sizeof json,
             "{\"hostname\":\"%s\",\"mode\":\"%s\",\"version\":\"0.4.2\",\"environment\":\"%s\","
             "\"capabilities\":%s,\"admin_url\":\"http://10.0.1.%d:8080\"}",
             s->hostname, s->t->mode, s->t->environment, s->t->caps, (int)(s - sims) % 250 + 2);
    long st = post("/v1/internal/gateways/register", json, &resp);
    cJSON *j = (st == 201 && resp) ? cJSON_Parse(resp) : NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    if (cJSON_IsString(id) && crypto_is_uuid(id->valuestring)) {
        util_copy(s->id, sizeof s->id, id->valuestring);
        seed(s, now);
        s->started_ms = now;
        s->last_beat_ms = now;
        s->next_ms = now + 1000 + (int64_t)((s - sims) * 150 % 3000);
    } else {
        if (st != 0 || !should_stop())
            log_warn("demo: registering %s failed (HTTP %ld)", s->hostname, st);
        s->next_ms = now + DEMO_RETRY_MS * 5;
    }
    cJSON_Delete(j);
    free(resp);
}

static struct applied *known(struct sim *s, const char *id)
{
    for (int i = 0; i < s->nknown; i++)
        if (strcmp(s->known[i].id, id) == 0) return &s->known[i];
    if (s->nknown >= DEMO_KNOWN_MAX) return NULL;
    struct applied *a = &s->known[s->nknown++];
    util_copy(a->id, sizeof a->id, id);
    a->tampered = false;
    return a;
}

static void report(struct sim *s, const char *deployment_id, const char *hash)
{
    char json[256], path[192];
    snprintf(json, sizeof json, "{\"status\":\"synced\",\"applied_hash\":\"%s\"}", hash);
    snprintf(path, sizeof path, "/v1/internal/gateways/%s/deployments/%s/status", s->id,
             deployment_id);
    long st = post(path, json, NULL);
    if (st != 200 && !should_stop())
        log_warn("demo: %s could not report deployment %s (HTTP %ld)", s->hostname, deployment_id,
                 st);
}

/* Polls the config and applies what is pending, like a real gateway; a
 * deployment this gateway drifted on purpose waits for a Sync. */
static void do_config(struct sim *s)
{
    char path[128], *resp = NULL;
    snprintf(path, sizeof path, "/v1/internal/gateways/%s/config", s->id);
    long st = post(path, NULL, &resp);
    cJSON *j = (st == 200 && resp) ? cJSON_Parse(resp) : NULL;
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(j, "pending_deployments"))
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(d, "deployment_id");
        const cJSON *hash = cJSON_GetObjectItemCaseSensitive(d, "content_hash");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(d, "sync_status");
        if (!cJSON_IsString(id) || !cJSON_IsString(hash) || !cJSON_IsString(status)) continue;
        if (!crypto_is_uuid(id->valuestring) || strlen(hash->valuestring) > 100) continue;
        struct applied *a = known(s, id->valuestring);
        if (a && a->tampered && strcmp(status->valuestring, "syncing") != 0) continue;
        report(s, id->valuestring, hash->valuestring);
        if (a) a->tampered = false;
    }
    cJSON_Delete(j);
    free(resp);
}

/* The drifting gateway changes one applied deployment by hand, so to speak. */
static void drift_one(struct sim *s)
{
    if (s->nknown == 0) return;
    struct applied *a = &s->known[(s->beats / DEMO_DRIFT_EVERY) % s->nknown];
    if (a->tampered) return;
    unsigned char rnd[16];
    char hex[33], hash[48];
    crypto_random(rnd, sizeof rnd);
    for (size_t i = 0; i < sizeof rnd; i++) snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    snprintf(hash, sizeof hash, "sha256:%s", hex);
    a->tampered = true;
    report(s, a->id, hash);
    log_info("demo: %s drifted deployment %s (press Sync in the console)", s->hostname, a->id);
}

static void do_heartbeat(struct sim *s, int64_t now)
{
    char json[256], path[128];
    long idx = (long)(s - sims);
    /* The incident's restart: the process starts again, its counter too. */
    if (s->t->incident && minute_of_day(now) == INCIDENT_RESTART_MIN &&
        now - s->started_ms > 120000) {
        s->started_ms = now;
        s->requests = 0;
    }
    int64_t since = s->last_beat_ms > 0 ? now - s->last_beat_ms : DEMO_BEAT_MS;
    s->requests += (long long)(demo_rate(idx, now) * (double)since / 60000.0);
    s->last_beat_ms = now;
    double rate = demo_error(s, idx, now);
    snprintf(json, sizeof json,
             "{\"uptime_seconds\":%lld,\"routes_count\":%d,\"policies_count\":%d,"
             "\"requests_total\":%lld,\"error_rate\":%.4f}",
             (long long)((now - s->started_ms) / 1000), 8 + (int)(s - sims) % 20,
             2 + (int)(s - sims) % 6, s->requests, rate);
    snprintf(path, sizeof path, "/v1/internal/gateways/%s/heartbeat", s->id);
    long st = post(path, json, NULL);
    if (st == 404) {
        s->id[0] = '\0'; /* forgotten by an admin: register again */
        s->next_ms = now;
        return;
    }
    s->beats++;
    s->next_ms = now + DEMO_BEAT_MS;
    do_config(s);
    if (s->t->drifts && s->beats % DEMO_DRIFT_EVERY == DEMO_DRIFT_EVERY / 2) drift_one(s);
}

static void *demo_main(void *arg)
{
    (void)arg;
    while (!should_stop()) {
        int64_t now = util_now_ms(), next = now + DEMO_BEAT_MS;
        for (long i = 0; i < nsims && !should_stop(); i++) {
            struct sim *s = &sims[i];
            if (s->t->stops && s->beats >= 1) continue; /* gone quiet: goes offline */
            if (s->next_ms <= now) {
                if (!s->id[0])
                    do_register(s, now);
                else
                    do_heartbeat(s, now);
                now = util_now_ms();
            }
            if (s->next_ms < next) next = s->next_ms;
        }
        int64_t wait = next - util_now_ms();
        if (wait > 0) worker_sleep(&demo, wait);
    }
    db_thread_close();
    return NULL;
}

/* Published demo APIs deployed to the simulated environments (targets are
 * unique per API and environment, so a restart adds nothing). */
static const char SQL_DEMO_APIS[] =
    "SELECT id FROM apis WHERE status = 'published' AND portal_visible = 1 "
    "AND audience = 'public' ORDER BY name_lower, id LIMIT 6";
static const char *const DEMO_TARGET_ENVS[] = {"prod", "prod", "prod", "staging", "staging", "dev"};

static void add_demo_targets(void)
{
    struct db *db = db_thread();
    struct db_result *res = NULL;
    if (db_query(db, SQL_DEMO_APIS, NULL, 0, &res) != DB_OK) {
        log_warn("demo: cannot read the catalog; no demo deployments");
        db_result_free(res);
        return;
    }
    for (size_t i = 0; i < db_rows(res) && i < sizeof DEMO_TARGET_ENVS / sizeof *DEMO_TARGET_ENVS;
         i++) {
        enum db_err e = deployments_add_target(db, db_get(res, i, 0), DEMO_TARGET_ENVS[i], "demo");
        if (e != DB_OK && e != DB_ERR_CONSTRAINT)
            log_warn("demo: cannot deploy a demo API (%s)", db_err_name(e));
    }
    db_result_free(res);
}

int demo_start_gateways(const struct config *cfg, int port)
{
    if (demo.running || cfg->demo.simulated_gateways <= 0) return 0;
    /* The first configured gateway key. */
    char *keys = util_strdup(cfg->gateways.api_keys);
    char *save = NULL, *first = NULL;
    for (char *tok = keys ? strtok_r(keys, ",", &save) : NULL; tok;
         tok = strtok_r(NULL, ",", &save)) {
        util_trim(tok);
        if (*tok) {
            first = tok;
            break;
        }
    }
    if (!first || strlen(first) > AUTH_KEY_MAX_LEN) {
        log_warn("demo: no gateway key is configured (gateways.api_keys); no simulated gateways");
        free(keys);
        return 0;
    }
    snprintf(key_header, sizeof key_header, "X-Gateway-Key: %s", first);
    degraded_rate = cfg->gateways.degraded_error_rate;
    seed_history = cfg->gateways.history_retention_days > 0;
    free(keys);
    add_demo_targets();
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d", port);
    nsims = cfg->demo.simulated_gateways;
    sims = calloc((size_t)nsims, sizeof *sims);
    if (!sims) return -1;
    for (long i = 0; i < nsims; i++) {
        sims[i].t = &TEMPLATES[(size_t)i % TEMPLATE_COUNT];
        if (i < (long)TEMPLATE_COUNT)
            util_copy(sims[i].hostname, sizeof sims[i].hostname, sims[i].t->hostname);
        else
            snprintf(sims[i].hostname, sizeof sims[i].hostname, "%s-%ld", sims[i].t->hostname,
                     i / (long)TEMPLATE_COUNT);
    }
    httpclient_global_init();
    if (worker_start(&demo, "demo: gateways", demo_main, NULL) != 0) {
        free(sims);
        sims = NULL;
        return -1;
    }
    log_info("demo: %ld simulated gateways heartbeating to %s", nsims, base_url);
    return 0;
}

void demo_stop(void)
{
    if (!demo.running) return;
    worker_stop(&demo);
    free(sims);
    sims = NULL;
}
