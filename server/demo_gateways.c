/*
 * demo_gateways.c — simulated gateways for `make run`: demo.simulated_gateways
 * gateways that talk the real protocol to http://127.0.0.1:<port> with
 * libcurl and the first configured gateway key — register, then heartbeat
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
 * Threading: one simulator thread. `mu`/`cond` (monotonic clock) let
 * demo_stop wake it at once, and a curl progress callback aborts a request
 * in flight when stopping.
 */
#define _GNU_SOURCE
#include "portico/demo.h"

#include <cJSON.h>
#include <curl/curl.h>
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
#include "portico/gateway_history.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/util.h"

#define DEMO_BEAT_MS 10000
#define DEMO_RETRY_MS 2000
#define DEMO_RESPONSE_MAX 65536

struct template
{
    const char *hostname, *mode, *environment, *caps;
    double error_rate;
    bool stops;    /* beats once, then goes silent */
    bool incident; /* degraded 09:00-10:30 UTC daily, restart at 09:40 */
};

static const struct template TEMPLATES[] = {
    {"stoa-gw-7f8b9c", "edge-mcp", "prod", "[\"rest\",\"mcp\",\"sse\",\"oidc\",\"rate_limiting\"]",
     0.01, false, false},
    {"kong-sidecar-xyz", "sidecar", "staging", "[\"rest\",\"ext_authz\"]", 0.02, false, true},
    {"envoy-proxy-eu1", "proxy", "prod", "[\"rest\",\"grpc\",\"rate_limiting\"]", 0.08, false,
     false},
    {"shadow-tap-01", "shadow", "dev", "[\"rest\",\"traffic_capture\"]", 0.0, false, false},
    {"stoa-connect-us", "connect", "prod", "[\"rest\",\"oidc\"]", 0.004, false, false},
    {"edge-lab-42", "mcp", "dev", "[\"mcp\",\"sse\"]", 0.0, true, false},
};
#define TEMPLATE_COUNT (sizeof TEMPLATES / sizeof TEMPLATES[0])

struct sim {
    char hostname[64];
    const struct template *t;
    char id[CRYPTO_UUID_LEN + 1];
    int beats;
    int64_t next_ms;
    int64_t started_ms;
    int64_t last_beat_ms;
    long long requests;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond;
static pthread_t thread;
static bool running, stopping;
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
    pthread_mutex_lock(&mu);
    bool s = stopping;
    pthread_mutex_unlock(&mu);
    return s;
}

static int progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)ud, (void)dt, (void)dn, (void)ut, (void)un;
    return should_stop() ? 1 : 0;
}

static size_t collect(char *data, size_t size, size_t n, void *ud)
{
    struct strbuf *b = ud;
    strbuf_append(b, data, size * n);
    return b->failed ? 0 : size * n;
}

/* POSTs json to path; returns the HTTP status (0 on transport failure) and
 * the body in *out (caller frees) when out is non-NULL. */
static long post(CURL *curl, const char *path, const char *json, char **out)
{
    char url[256];
    struct strbuf body;
    struct curl_slist *h = NULL;
    long status = 0;
    strbuf_init(&body, DEMO_RESPONSE_MAX);
    snprintf(url, sizeof url, "%s%s", base_url, path);
    h = curl_slist_append(h, "Content-Type: application/json");
    h = curl_slist_append(h, key_header);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    if (curl_easy_perform(curl) == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    if (out) *out = strbuf_take(&body);
    strbuf_cleanup(&body);
    return status;
}

static void do_register(CURL *curl, struct sim *s, int64_t now)
{
    char json[512], *resp = NULL;
    snprintf(json, sizeof json,
             "{\"hostname\":\"%s\",\"mode\":\"%s\",\"version\":\"0.4.2\",\"environment\":\"%s\","
             "\"capabilities\":%s,\"admin_url\":\"http://10.0.1.%d:8080\"}",
             s->hostname, s->t->mode, s->t->environment, s->t->caps, (int)(s - sims) % 250 + 2);
    long st = post(curl, "/v1/internal/gateways/register", json, &resp);
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

static void do_heartbeat(CURL *curl, struct sim *s, int64_t now)
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
    long st = post(curl, path, json, NULL);
    if (st == 404) {
        s->id[0] = '\0'; /* forgotten by an admin: register again */
        s->next_ms = now;
        return;
    }
    s->beats++;
    s->next_ms = now + DEMO_BEAT_MS;
}

static void *demo_main(void *arg)
{
    (void)arg;
    CURL *curl = curl_easy_init();
    if (!curl) {
        log_warn("demo: libcurl is not usable; no simulated gateways");
        return NULL;
    }
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress);
    while (!should_stop()) {
        int64_t now = util_now_ms(), next = now + DEMO_BEAT_MS;
        for (long i = 0; i < nsims && !should_stop(); i++) {
            struct sim *s = &sims[i];
            if (s->t->stops && s->beats >= 1) continue; /* gone quiet: goes offline */
            if (s->next_ms <= now) {
                if (!s->id[0])
                    do_register(curl, s, now);
                else
                    do_heartbeat(curl, s, now);
                now = util_now_ms();
            }
            if (s->next_ms < next) next = s->next_ms;
        }
        int64_t wait = next - util_now_ms();
        if (wait <= 0) continue;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += wait / 1000;
        until.tv_nsec += (long)(wait % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&mu);
        while (!stopping)
            if (pthread_cond_timedwait(&cond, &mu, &until) != 0) break;
        pthread_mutex_unlock(&mu);
    }
    curl_easy_cleanup(curl);
    db_thread_close();
    return NULL;
}

int demo_start_gateways(const struct config *cfg, int port)
{
    if (running || cfg->demo.simulated_gateways <= 0) return 0;
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
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cond, &attr);
    pthread_condattr_destroy(&attr);
    stopping = false;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (pthread_create(&thread, NULL, demo_main, NULL) != 0) {
        free(sims);
        sims = NULL;
        return -1;
    }
    running = true;
    log_info("demo: %ld simulated gateways heartbeating to %s", nsims, base_url);
    return 0;
}

void demo_stop(void)
{
    if (!running) return;
    pthread_mutex_lock(&mu);
    stopping = true;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
    pthread_join(thread, NULL);
    running = false;
    free(sims);
    sims = NULL;
}
