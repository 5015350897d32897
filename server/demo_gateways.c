/*
 * demo_gateways.c — simulated gateways for `make run`: demo.simulated_gateways
 * gateways that talk the real protocol to http://127.0.0.1:<port> with
 * libcurl and the first configured gateway key — register, then heartbeat
 * every DEMO_BEAT_MS with varied modes, environments and error rates. One
 * runs hot (error rate 0.08, so it shows as degraded) and one stops beating
 * after its first heartbeat, so it goes offline after the window.
 *
 * Threading: one simulator thread. `mu`/`cond` (monotonic clock) let
 * demo_stop wake it at once, and a curl progress callback aborts a request
 * in flight when stopping.
 */
#define _GNU_SOURCE
#include "portico/demo.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "portico/config.h"
#include "portico/crypto.h"
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
    bool stops; /* beats once, then goes silent */
};

static const struct template TEMPLATES[] = {
    {"stoa-gw-7f8b9c", "edge-mcp", "prod", "[\"rest\",\"mcp\",\"sse\",\"oidc\",\"rate_limiting\"]",
     0.01, false},
    {"kong-sidecar-xyz", "sidecar", "staging", "[\"rest\",\"ext_authz\"]", 0.02, false},
    {"envoy-proxy-eu1", "proxy", "prod", "[\"rest\",\"grpc\",\"rate_limiting\"]", 0.08, false},
    {"shadow-tap-01", "shadow", "dev", "[\"rest\",\"traffic_capture\"]", 0.0, false},
    {"stoa-connect-us", "connect", "prod", "[\"rest\",\"oidc\"]", 0.004, false},
    {"edge-lab-42", "mcp", "dev", "[\"mcp\",\"sse\"]", 0.0, true},
};
#define TEMPLATE_COUNT (sizeof TEMPLATES / sizeof TEMPLATES[0])

struct sim {
    char hostname[64];
    const struct template *t;
    char id[CRYPTO_UUID_LEN + 1];
    int beats;
    int64_t next_ms;
    int64_t started_ms;
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
        s->started_ms = now;
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
    unsigned char rnd[2] = {0, 0};
    crypto_random(rnd, sizeof rnd);
    s->requests += 200 + (rnd[0] | (rnd[1] << 8)) % 800;
    double jitter = (rnd[0] % 21 - 10) / 1000.0; /* ±1 point */
    double rate =
        s->t->error_rate + (s->t->error_rate > 0.005 ? jitter * s->t->error_rate * 10 : 0);
    if (rate < 0) rate = 0;
    if (s->t->error_rate >= 0.08 && rate <= 0.06) rate = 0.08; /* stay visibly degraded */
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
