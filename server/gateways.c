/*
 * gateways.c — the gateway registry.
 *
 * Protocol (X-Gateway-Key, checked by the dispatcher before these handlers):
 * register (an atomic upsert by derived name, so re-registering never
 * duplicates), heartbeat (one UPDATE; the server's receive time is the
 * heartbeat time; the previous sample moves to prev_*), config (pending
 * deployments and policies). Console: list with filters, counts and ETag,
 * detail with transitions, delete, maintenance.
 *
 * Status is never stored as truth: it is derived from stored times when a
 * response is built (gateways_status in C, status_expr in SQL — the two must
 * agree). recorded_status only remembers the last status a transition was
 * recorded for, so the gateway monitor and the handlers can record each
 * transition exactly once with a conditional UPDATE (see
 * gateways_record_transition), even with several replicas on PostgreSQL.
 *
 * Threading: handlers run concurrently on civetweb workers, each with its own
 * connection (db_thread()). `sqlite_write_lock` serialises the hot writes
 * (register, heartbeat) in-process on SQLite, whose single writer would
 * otherwise make concurrent writers sleep in the busy handler.
 */
#define _GNU_SOURCE
#include "portico/gateways.h"

#include <cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portico/auth.h"
#include "portico/config.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/deployments.h"
#include "portico/events.h"
#include "portico/http.h"
#include "portico/json.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/metrics.h"
#include "portico/rbac.h"
#include "portico/search.h"
#include "portico/subscriptions.h"
#include "portico/tenant.h"
#include "portico/util.h"

static pthread_mutex_t sqlite_write_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- status rules --------------------------------------------------------- */

static int64_t window_ms(const struct config *cfg)
{
    return (int64_t)cfg->gateways.offline_after_seconds * 1000;
}

bool gateways_live(const struct config *cfg, int64_t last_hb_ms, int64_t now_ms)
{
    return last_hb_ms >= 0 && now_ms - last_hb_ms <= window_ms(cfg);
}

static const char *const STATUS_NAMES[GW_STATUS_COUNT] = {"online", "offline", "degraded",
                                                          "maintenance"};

const char *gateways_status_name(enum gateway_status s)
{
    return (unsigned)s < GW_STATUS_COUNT ? STATUS_NAMES[s] : "unknown";
}

/* THE status rule, the one place it is written. `cut` is now minus the
 * offline window (ms), `rate` gateways.degraded_error_rate. Each row is a
 * conjunction of terms over one index range of gateways_health (maintenance,
 * last_heartbeat_at, error_rate); the rows are disjoint and together cover
 * every gateway (tests/unit/test_gateways.c checks both, in C and in SQL).
 * The C rule (gateways_status) evaluates these rows; the SQL CASE, the list
 * filter predicates and the counts are generated from them. */
enum status_term {
    MAINT_ON,  /* maintenance = 1 */
    MAINT_OFF, /* maintenance = 0 */
    HB_NONE,   /* last_heartbeat_at IS NULL */
    HB_OLD,    /* last_heartbeat_at < cut */
    HB_FRESH,  /* last_heartbeat_at >= cut */
    RATE_NONE, /* error_rate IS NULL */
    RATE_HIGH, /* error_rate > rate */
    RATE_OK,   /* error_rate <= rate */
};

#define STATUS_TERMS_MAX 3

static const struct status_row {
    enum gateway_status status;
    int nterms;
    enum status_term terms[STATUS_TERMS_MAX];
} STATUS_RULE[] = {
    {GW_MAINTENANCE, 1, {MAINT_ON}},
    {GW_OFFLINE, 2, {MAINT_OFF, HB_NONE}},
    {GW_OFFLINE, 2, {MAINT_OFF, HB_OLD}},
    {GW_DEGRADED, 3, {MAINT_OFF, HB_FRESH, RATE_HIGH}},
    {GW_ONLINE, 3, {MAINT_OFF, HB_FRESH, RATE_NONE}},
    {GW_ONLINE, 3, {MAINT_OFF, HB_FRESH, RATE_OK}},
};
#define STATUS_ROWS (sizeof STATUS_RULE / sizeof STATUS_RULE[0])

/* One stored gateway as the rule sees it (last_hb < 0: never). */
struct status_input {
    bool maintenance;
    int64_t last_hb;
    bool has_rate;
    double rate;
};

static bool term_holds(enum status_term t, const struct status_input *in, int64_t cut, double rate)
{
    switch (t) {
    case MAINT_ON: return in->maintenance;
    case MAINT_OFF: return !in->maintenance;
    case HB_NONE: return in->last_hb < 0;
    case HB_OLD: return in->last_hb >= 0 && in->last_hb < cut;
    case HB_FRESH: return in->last_hb >= 0 && in->last_hb >= cut;
    case RATE_NONE: return !in->has_rate;
    case RATE_HIGH: return in->has_rate && in->rate > rate;
    case RATE_OK: return in->has_rate && in->rate <= rate;
    }
    return false;
}

/* The row that holds (every gateway matches exactly one). */
static enum gateway_status status_eval(const struct status_input *in, int64_t cut, double rate)
{
    for (size_t i = 0; i < STATUS_ROWS; i++) {
        bool all = true;
        for (int k = 0; all && k < STATUS_RULE[i].nterms; k++)
            all = term_holds(STATUS_RULE[i].terms[k], in, cut, rate);
        if (all) return STATUS_RULE[i].status;
    }
    return GW_ONLINE; /* unreachable: the rows cover every gateway */
}

/* One term as SQL; `plus` is "" or "+" (+column keeps the meaning but stops
 * SQLite from using an index for it, see page_hint). */
static void term_sql(struct strbuf *b, enum status_term t, int cut, int rate, const char *plus)
{
    switch (t) {
    case MAINT_ON: strbuf_printf(b, "%smaintenance = 1", plus); break;
    case MAINT_OFF: strbuf_printf(b, "%smaintenance = 0", plus); break;
    case HB_NONE: strbuf_printf(b, "%slast_heartbeat_at IS NULL", plus); break;
    case HB_OLD: strbuf_printf(b, "%slast_heartbeat_at < $%d", plus, cut); break;
    case HB_FRESH: strbuf_printf(b, "%slast_heartbeat_at >= $%d", plus, cut); break;
    case RATE_NONE: strbuf_printf(b, "%serror_rate IS NULL", plus); break;
    case RATE_HIGH: strbuf_printf(b, "%serror_rate > $%d", plus, rate); break;
    case RATE_OK: strbuf_printf(b, "%serror_rate <= $%d", plus, rate); break;
    }
}

static void row_sql(struct strbuf *b, const struct status_row *row, int cut, int rate,
                    const char *plus)
{
    strbuf_puts(b, "(");
    for (int k = 0; k < row->nterms; k++) {
        if (k) strbuf_puts(b, " AND ");
        term_sql(b, row->terms[k], cut, rate, plus);
    }
    strbuf_puts(b, ")");
}

/* A WHERE predicate selecting one derived status: the OR of its rows, each
 * a range the gateways_health index serves. */
static void status_predicate(struct strbuf *b, enum gateway_status s, int cut, int rate,
                             const char *plus)
{
    bool first = true;
    strbuf_puts(b, "(");
    for (size_t i = 0; i < STATUS_ROWS; i++) {
        if (STATUS_RULE[i].status != s) continue;
        if (!first) strbuf_puts(b, " OR ");
        row_sql(b, &STATUS_RULE[i], cut, rate, plus);
        first = false;
    }
    strbuf_puts(b, ")");
}

/* Whether status s compares against the cut / the rate (its parameters). */
static bool status_uses(enum gateway_status s, bool rate_param)
{
    for (size_t i = 0; i < STATUS_ROWS; i++) {
        if (STATUS_RULE[i].status != s) continue;
        for (int k = 0; k < STATUS_RULE[i].nterms; k++) {
            enum status_term t = STATUS_RULE[i].terms[k];
            if (rate_param ? (t == RATE_HIGH || t == RATE_OK) : (t == HB_OLD || t == HB_FRESH))
                return true;
        }
    }
    return false;
}

/* Generated once: the CASE expression ($1 cut, $2 rate), the transition
 * UPDATE and the two counts queries (every gateway; a tenant's plus shared). */
static pthread_once_t status_sql_once = PTHREAD_ONCE_INIT;
static char sql_status_case[1024];
static char sql_transition[1280];
static char sql_counts[2][4096];

static void status_sql_build(void)
{
    struct strbuf b;
    strbuf_init(&b, sizeof sql_status_case - 1);
    strbuf_puts(&b, "(CASE");
    for (size_t i = 0; i < STATUS_ROWS; i++) {
        strbuf_puts(&b, " WHEN ");
        row_sql(&b, &STATUS_RULE[i], 1, 2, "");
        strbuf_printf(&b, " THEN '%s'", STATUS_NAMES[STATUS_RULE[i].status]);
    }
    strbuf_puts(&b, " END)");
    char *s = strbuf_take(&b);
    if (!s || !util_copy(sql_status_case, sizeof sql_status_case, s)) abort();
    free(s);

    strbuf_init(&b, sizeof sql_transition - 1);
    strbuf_printf(&b,
                  "UPDATE gateways SET recorded_status = $3 WHERE id = $4 AND recorded_status = $5 "
                  "AND %s = $3",
                  sql_status_case);
    s = strbuf_take(&b);
    if (!s || !util_copy(sql_transition, sizeof sql_transition, s)) abort();
    free(s);

    /* Counts: column 0 the total, then one column per status but online
     * (the rest: the rows are exhaustive), each a sum of one COUNT per row
     * (one index range each; "IS NULL OR <" as one predicate would scan
     * every maintenance = 0 entry). $1 cut, $2 rate, $3 tenant. */
    for (int scoped = 0; scoped < 2; scoped++) {
        const char *scope = scoped ? " AND (tenant_id = $3 OR tenant_id IS NULL)" : "";
        strbuf_init(&b, sizeof sql_counts[0] - 1);
        strbuf_printf(&b, "SELECT (SELECT COUNT(*) FROM gateways WHERE 1 = 1%s)", scope);
        for (int st = GW_OFFLINE; st < GW_STATUS_COUNT; st++) {
            strbuf_puts(&b, ", (0");
            for (size_t i = 0; i < STATUS_ROWS; i++) {
                if (STATUS_RULE[i].status != (enum gateway_status)st) continue;
                strbuf_puts(&b, " + (SELECT COUNT(*) FROM gateways WHERE ");
                row_sql(&b, &STATUS_RULE[i], 1, 2, "");
                strbuf_printf(&b, "%s)", scope);
            }
            strbuf_puts(&b, ")");
        }
        s = strbuf_take(&b);
        if (!s || !util_copy(sql_counts[scoped], sizeof sql_counts[0], s)) abort();
        free(s);
    }
}

const char *gateways_status_sql(void)
{
    pthread_once(&status_sql_once, status_sql_build);
    return sql_status_case;
}

const char *gateways_status(const struct config *cfg, bool maintenance, int64_t last_hb_ms,
                            bool has_error_rate, double error_rate, int64_t now_ms, char *reason,
                            size_t reason_len)
{
    char tmp[128];
    struct status_input in = {maintenance, last_hb_ms, has_error_rate, error_rate};
    double rate = cfg->gateways.degraded_error_rate;
    enum gateway_status s = status_eval(&in, now_ms - window_ms(cfg), rate);
    int64_t age = last_hb_ms >= 0 ? now_ms - last_hb_ms : -1;
    if (last_hb_ms >= 0 && age < 0) age = 0; /* another replica's clock ran ahead */
    switch (s) {
    case GW_MAINTENANCE: snprintf(tmp, sizeof tmp, "in maintenance"); break;
    case GW_OFFLINE:
        if (last_hb_ms < 0)
            snprintf(tmp, sizeof tmp, "no heartbeat received");
        else
            snprintf(tmp, sizeof tmp, "no heartbeat for %lld s", (long long)(age / 1000));
        break;
    case GW_DEGRADED:
        snprintf(tmp, sizeof tmp, "error rate %.1f%% above %.1f%%", error_rate * 100.0,
                 rate * 100.0);
        break;
    default: snprintf(tmp, sizeof tmp, "heartbeat %lld s ago", (long long)(age / 1000)); break;
    }
    if (reason && reason_len) util_copy(reason, reason_len, tmp);
    return STATUS_NAMES[s];
}

int gateways_count_by_status(struct db *db, const struct config *cfg, const char *tenant,
                             int64_t now_ms, int64_t counts[GW_STATUS_COUNT], int64_t *total)
{
    pthread_once(&status_sql_once, status_sql_build);
    struct db_result *res = NULL;
    int64_t cut = now_ms - window_ms(cfg);
    double rate = cfg->gateways.degraded_error_rate;
    enum db_err e = tenant
                        ? db_query(db, sql_counts[1],
                                   DB_ARGS(DBP_INT(cut), DBP_REAL(rate), DBP_TEXT(tenant)), &res)
                        : db_query(db, sql_counts[0], DB_ARGS(DBP_INT(cut), DBP_REAL(rate)), &res);
    if (e == DB_OK && db_rows(res) != 1) e = DB_ERR_INTERNAL;
    if (e == DB_OK) {
        int64_t all = db_get_int(res, 0, 0), rest = all;
        for (int st = GW_OFFLINE; st < GW_STATUS_COUNT; st++) {
            counts[st] = db_get_int(res, 0, st);
            rest -= counts[st];
        }
        counts[GW_ONLINE] = rest;
        if (total) *total = all;
    }
    db_result_free(res);
    return (int)e;
}

/* ---- names and modes ------------------------------------------------------ */

static const struct {
    const char *mode;
    const char *type;
} MODES[] = {
    {"edge-mcp", "stoa_edge_mcp"}, {"sidecar", "stoa_sidecar"}, {"proxy", "stoa_proxy"},
    {"shadow", "stoa_shadow"},     {"connect", "stoa"},
};

const char *gateways_type_for_mode(const char *mode)
{
    for (size_t i = 0; mode && i < sizeof MODES / sizeof MODES[0]; i++)
        if (strcmp(MODES[i].mode, mode) == 0) return MODES[i].type;
    return NULL;
}

int gateways_normalize_mode(const char *mode, char *out, size_t n)
{
    char buf[GATEWAY_MODE_MAX + 1];
    size_t len = mode ? strlen(mode) : 0;
    if (len == 0 || len > GATEWAY_MODE_MAX) return -1;
    for (size_t i = 0; i < len; i++) {
        char c = mode[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c == '_') c = '-';
        buf[i] = c;
    }
    buf[len] = '\0';
    if (strcmp(buf, "edgemcp") == 0 || strcmp(buf, "mcp") == 0)
        util_copy(buf, sizeof buf, "edge-mcp");
    if (!gateways_type_for_mode(buf)) return -1;
    return util_copy(out, n, buf) ? 0 : -1;
}

bool gateways_derive_name(const char *hostname, const char *mode, const char *environment,
                          char *out, size_t n)
{
    struct strbuf b;
    strbuf_init(&b, n > 0 ? n - 1 : 0);
    strbuf_puts(&b, hostname);
    strbuf_puts(&b, "-");
    for (const char *m = mode; *m; m++)
        if (*m != '-' && *m != '_') strbuf_append(&b, m, 1);
    strbuf_puts(&b, "-");
    strbuf_puts(&b, environment);
    char *s = strbuf_take(&b);
    if (!s) return false;
    for (char *c = s; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
    bool ok = util_copy(out, n, s);
    free(s);
    return ok;
}

/* ---- rows to JSON --------------------------------------------------------- */

#define GW_COLS                                                                                    \
    "id, name, hostname, type, mode, environment, version, capabilities_json, admin_url, "         \
    "tenant_id, maintenance, registered_at, last_heartbeat_at, uptime_seconds, routes_count, "     \
    "policies_count, requests_total, error_rate, prev_heartbeat_at, prev_uptime_seconds, "         \
    "prev_routes_count, prev_policies_count, prev_requests_total, prev_error_rate, "               \
    "recorded_status"

enum {
    C_ID,
    C_NAME,
    C_HOSTNAME,
    C_TYPE,
    C_MODE,
    C_ENV,
    C_VERSION,
    C_CAPS,
    C_ADMIN_URL,
    C_TENANT,
    C_MAINT,
    C_REGISTERED,
    C_LAST_HB,
    C_UPTIME,
    C_ROUTES,
    C_POLICIES,
    C_REQUESTS,
    C_ERROR_RATE,
    C_PREV_HB,
    C_PREV_UPTIME,
    C_PREV_ROUTES,
    C_PREV_POLICIES,
    C_PREV_REQUESTS,
    C_PREV_ERROR_RATE,
    C_RECORDED,
};

static int64_t int_or(const struct db_result *res, size_t row, int col, int64_t def)
{
    return db_is_null(res, row, col) ? def : db_get_int(res, row, col);
}

static void add_int_or_null(cJSON *o, const char *key, const struct db_result *res, size_t row,
                            int col)
{
    if (db_is_null(res, row, col))
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, (double)db_get_int(res, row, col));
}

static void add_real_or_null(cJSON *o, const char *key, const struct db_result *res, size_t row,
                             int col)
{
    if (db_is_null(res, row, col))
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddNumberToObject(o, key, db_get_double(res, row, col));
}

/* The status of a row at now (reason into reason). */
static const char *row_status(const struct config *cfg, const struct db_result *res, size_t row,
                              int64_t now, char *reason, size_t n)
{
    return gateways_status(cfg, db_get_int(res, row, C_MAINT) != 0, int_or(res, row, C_LAST_HB, -1),
                           !db_is_null(res, row, C_ERROR_RATE),
                           db_get_double(res, row, C_ERROR_RATE), now, reason, n);
}

static cJSON *health_details(const struct db_result *res, size_t row)
{
    cJSON *h = cJSON_CreateObject();
    add_int_or_null(h, "uptime_seconds", res, row, C_UPTIME);
    add_int_or_null(h, "routes_count", res, row, C_ROUTES);
    add_int_or_null(h, "policies_count", res, row, C_POLICIES);
    add_int_or_null(h, "requests_total", res, row, C_REQUESTS);
    add_real_or_null(h, "error_rate", res, row, C_ERROR_RATE);
    json_add_time(h, "registered_at", db_get_int(res, row, C_REGISTERED));
    return h;
}

/* A gateway item (the console/protocol shape) for one row, at now. Caller
 * frees with cJSON_Delete; NULL on OOM. */
static cJSON *item_from_row(const struct config *cfg, const struct db_result *res, size_t row,
                            int64_t now)
{
    char reason[128];
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "id", db_get(res, row, C_ID));
    cJSON_AddStringToObject(o, "name", db_get(res, row, C_NAME));
    cJSON_AddStringToObject(o, "hostname", db_get(res, row, C_HOSTNAME));
    cJSON_AddStringToObject(o, "type", db_get(res, row, C_TYPE));
    cJSON_AddStringToObject(o, "mode", db_get(res, row, C_MODE));
    cJSON_AddStringToObject(o, "environment", db_get(res, row, C_ENV));
    cJSON_AddStringToObject(o, "version", db_get(res, row, C_VERSION));
    const char *caps = db_get(res, row, C_CAPS);
    cJSON *capj = caps ? cJSON_Parse(caps) : NULL;
    if (!cJSON_IsArray(capj)) {
        cJSON_Delete(capj);
        capj = cJSON_CreateArray();
    }
    cJSON_AddItemToObject(o, "capabilities", capj);
    cJSON_AddStringToObject(o, "admin_url", db_get(res, row, C_ADMIN_URL));
    json_add_str_or_null(o, "tenant_id", db_get(res, row, C_TENANT));
    int64_t last = int_or(res, row, C_LAST_HB, -1);
    cJSON_AddStringToObject(o, "status", row_status(cfg, res, row, now, reason, sizeof reason));
    cJSON_AddStringToObject(o, "status_reason", reason);
    cJSON_AddBoolToObject(o, "live", gateways_live(cfg, last, now));
    json_add_time(o, "last_heartbeat_at", last);
    json_add_time(o, "registered_at", db_get_int(res, row, C_REGISTERED));
    cJSON_AddItemToObject(o, "health_details", health_details(res, row));
    return o;
}

/* ---- helpers -------------------------------------------------------------- */

/* The {id} capture, lowercased, when it is a UUID; false otherwise. */
static bool id_param(const struct req *r, char out[CRYPTO_UUID_LEN + 1])
{
    if (r->nparams < 1 || !crypto_is_uuid(r->params[0])) return false;
    for (int i = 0; i <= CRYPTO_UUID_LEN; i++) {
        char c = r->params[0][i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    return true;
}

static bool sqlite_lock(void)
{
    if (db_caps() & DB_CAP_MULTI_PROCESS) return false;
    pthread_mutex_lock(&sqlite_write_lock);
    return true;
}

static void sqlite_unlock(bool locked)
{
    if (locked) pthread_mutex_unlock(&sqlite_write_lock);
}

static bool charset_ok(const char *s, const char *extra, bool upper)
{
    for (; *s; s++) {
        char c = *s;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) continue;
        if (upper && c >= 'A' && c <= 'Z') continue;
        if (strchr(extra, c)) continue;
        return false;
    }
    return true;
}

/* Names the principal "gateway:<name>" (audit shows it). */
static void set_gateway_subject(struct req *r, const char *name)
{
    char subject[GATEWAY_NAME_MAX + 16];
    snprintf(subject, sizeof subject, "gateway:%s", name);
    util_copy(r->principal.subject, sizeof r->principal.subject, subject);
}

static int bad_field(struct req *r, const char *err)
{
    return http_send_error(r, 400, "invalid_field", "%s", err);
}

/* The thresholds of the status rule, so the console shows the server's rule
 * instead of constants of its own. */
static void add_thresholds(cJSON *o, const struct config *cfg)
{
    cJSON *t = cJSON_AddObjectToObject(o, "thresholds");
    cJSON_AddNumberToObject(t, "offline_after_seconds",
                            (double)cfg->gateways.offline_after_seconds);
    cJSON_AddNumberToObject(t, "degraded_error_rate", cfg->gateways.degraded_error_rate);
}

/* True when two tenant ids (NULL = shared) are the same. */
static bool same_tenant(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The owner digest of the key this request presents (auth_gateway checked
 * that it is a configured key). */
static void presented_digest(const struct req *r, char out[AUTH_GATEWAY_DIGEST_LEN + 1])
{
    const char *key = http_header(r, "X-Gateway-Key");
    auth_gateway_key_digest(key ? key : "", out);
}

/* Gateway ownership: the key that registered a gateway owns it. 0 when the
 * presenting key (digest `mine`) may act for a gateway owned by `owner`
 * (NULL: no owner recorded yet), with *rotated set when the owner's key is
 * no longer configured (the presenting key takes over); or the 403 sent. */
static int owner_check(struct req *r, const char *name, const char *owner, const char *mine,
                       bool *rotated)
{
    *rotated = false;
    if (!owner || crypto_streq(owner, mine)) return 0;
    if (auth_gateway_digest_configured(owner))
        return http_send_error(r, 403, "gateway_owned",
                               "gateway %s belongs to another gateway key; only the key that "
                               "registered it may register, heartbeat or poll for it",
                               name);
    *rotated = true;
    return 0;
}

static const char SQL_OWNER_BY_ID[] = "SELECT name, owner_key_hash FROM gateways WHERE id = $1";
static const char SQL_OWNER_TAKE[] = "UPDATE gateways SET owner_key_hash = $1 WHERE id = $2 "
                                     "AND (owner_key_hash = $3 OR owner_key_hash IS NULL)";

/* Takes over a gateway whose owner key (digest `old`) was rotated out. */
static enum db_err owner_take(struct db *db, const char *id, const char *name, const char *old,
                              const char *mine)
{
    enum db_err e =
        db_exec(db, SQL_OWNER_TAKE, DB_ARGS(DBP_TEXT(mine), DBP_TEXT(id), DBP_TEXT(old)), NULL);
    if (e == DB_OK)
        log_info(
            "gateway %s: its owner key is no longer configured; the presenting key owns it now",
            name);
    return e;
}

/* owner_check, then the takeover when the owner key was rotated out; 0 to
 * go on, or the status sent. */
static int owner_enforce(struct req *r, struct db *db, const char *id, const char *name,
                         const char *owner, const char *mine)
{
    bool rotated = false;
    int rc = owner_check(r, name, owner, mine, &rotated);
    if (rc != 0 || !rotated) return rc;
    enum db_err e = owner_take(db, id, name, owner, mine);
    return e == DB_OK ? 0 : http_send_db_error(r, e);
}

/* A heartbeat found no row it may update: 404 when there is no such
 * gateway, 403 when another configured key owns it, or 0 after taking over
 * a gateway whose owner key was rotated out (the caller tries again). */
static int heartbeat_owner(struct req *r, struct db *db, const char *id, const char *mine)
{
    struct db_result *res = NULL;
    int rc;
    enum db_err e = db_query(db, SQL_OWNER_BY_ID, DB_ARGS(DBP_TEXT(id)), &res);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
    } else if (db_rows(res) != 1) {
        rc = http_send_error(r, 404, "not_found", "no such gateway");
    } else {
        set_gateway_subject(r, db_get(res, 0, 0));
        rc = owner_enforce(r, db, id, db_get(res, 0, 0), db_get(res, 0, 1), mine);
    }
    db_result_free(res);
    return rc;
}

/* Publishes JSON (consumed) as an event for its tenant. */
static void publish_json(const char *type, const char *tenant, cJSON *data)
{
    char *text = data ? json_print(data) : NULL;
    if (text) events_publish_tenant(type, tenant, text);
    free(text);
    cJSON_Delete(data);
}

/* ---- transitions ---------------------------------------------------------- */

static const char SQL_EVENT_INSERT[] =
    "INSERT INTO gateway_events (gateway_id, from_status, to_status, reason, at) "
    "VALUES ($1, $2, $3, $4, $5)";

int gateways_record_transition(struct db *db, const struct config *cfg,
                               const struct gateway_transition *t)
{
    long changed = 0;
    pthread_once(&status_sql_once, status_sql_build);
    enum db_err e = db_begin(db);
    if (e != DB_OK) return -(int)e;
    e = db_exec(db, sql_transition,
                DB_ARGS(DBP_INT(t->at - window_ms(cfg)),
                        DBP_REAL(cfg->gateways.degraded_error_rate), DBP_TEXT(t->to),
                        DBP_TEXT(t->id), DBP_TEXT(t->from)),
                &changed);
    if (e == DB_OK && changed == 1)
        e = db_exec(db, SQL_EVENT_INSERT,
                    DB_ARGS(DBP_TEXT(t->id), DBP_TEXT(t->from), DBP_TEXT(t->to),
                            DBP_TEXT(t->reason), DBP_INT(t->at)),
                    NULL);
    if (e == DB_OK) e = db_commit(db);
    if (e != DB_OK) {
        db_rollback(db);
        return -(int)e;
    }
    if (changed != 1) return 0;
    log_info("gateway %s: %s -> %s (%s)", t->name ? t->name : t->id, t->from, t->to, t->reason);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "id", t->id);
    if (t->name) cJSON_AddStringToObject(ev, "name", t->name);
    json_add_str_or_null(ev, "tenant_id", t->tenant_id);
    cJSON_AddStringToObject(ev, "from", t->from);
    cJSON_AddStringToObject(ev, "to", t->to);
    cJSON_AddStringToObject(ev, "reason", t->reason);
    json_add_time(ev, "at", t->at);
    publish_json("gateway.status", t->tenant_id, ev);
    return 1;
}

/* Records a transition when the freshly derived status differs from the
 * recorded one; failures are logged (the gateway monitor retries). */
static void maybe_transition(struct db *db, const struct config *cfg, const char *id,
                             const char *tenant, const char *name, const char *recorded,
                             const char *status, const char *reason, int64_t now)
{
    if (!recorded || strcmp(recorded, status) == 0) return;
    struct gateway_transition t = {id, tenant, name, recorded, status, reason, now};
    int rc = gateways_record_transition(db, cfg, &t);
    if (rc < 0)
        log_warn("gateway %s: recording %s -> %s failed (%s); the gateway monitor will retry", id,
                 recorded, status, db_err_name((enum db_err) - rc));
}

/* ---- failed protocol calls ------------------------------------------------ */

/* One slot per gateway name or remote address that failed recently. */
static pthread_mutex_t failure_lock = PTHREAD_MUTEX_INITIALIZER;
static struct failure_slot {
    char who[GATEWAY_NAME_MAX + 16];
    int64_t logged_ms;   /* its last warning */
    unsigned suppressed; /* failures since then, not logged */
} failure_slots[GATEWAY_FAILURE_LOG_SLOTS];

void gateways_log_failure(const struct req *r)
{
    if (r->status < 400) return;
    char who[GATEWAY_NAME_MAX + 16];
    const char *addr = r->ri ? http_remote_addr(r) : NULL;
    if (strncmp(r->principal.subject, "gateway:", 8) == 0)
        snprintf(who, sizeof who, "gateway %s", r->principal.subject + 8);
    else
        snprintf(who, sizeof who, "address %s", addr ? addr : "unknown");
    int64_t now = util_now_ms();
    bool log = false;
    unsigned suppressed = 0;
    pthread_mutex_lock(&failure_lock);
    struct failure_slot *slot = NULL, *oldest = &failure_slots[0];
    for (size_t i = 0; i < GATEWAY_FAILURE_LOG_SLOTS && !slot; i++) {
        if (strcmp(failure_slots[i].who, who) == 0) slot = &failure_slots[i];
        if (failure_slots[i].logged_ms < oldest->logged_ms) oldest = &failure_slots[i];
    }
    if (slot && now - slot->logged_ms < GATEWAY_FAILURE_LOG_WINDOW_S * 1000LL) {
        slot->suppressed++;
    } else {
        if (!slot) {
            slot = oldest;
            util_copy(slot->who, sizeof slot->who, who);
            slot->suppressed = 0;
        }
        log = true;
        suppressed = slot->suppressed;
        slot->logged_ms = now;
        slot->suppressed = 0;
    }
    pthread_mutex_unlock(&failure_lock);
    if (!log) return;
    /* The reason is the error sent (never the key); the address always. */
    char more[64] = "";
    if (suppressed)
        snprintf(more, sizeof more, " (%u more failures in the last minute)", suppressed);
    log_warn("gateway %s failed for %s from %s: %d %s%s", r->route ? r->route->name : r->path, who,
             addr ? addr : "unknown", r->status, r->error[0] ? r->error : "error", more);
}

/* ---- protocol: register --------------------------------------------------- */

static const char SQL_REGISTER[] =
    "INSERT INTO gateways (id, name, hostname, type, mode, environment, version, "
    "capabilities_json, admin_url, tenant_id, maintenance, registered_at, last_heartbeat_at, "
    "recorded_status, search_text, updated_at, owner_key_hash) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $11, 'online', $12, $11, $13) "
    "ON CONFLICT (name) DO UPDATE SET hostname = excluded.hostname, type = excluded.type, "
    "mode = excluded.mode, environment = excluded.environment, version = excluded.version, "
    "capabilities_json = excluded.capabilities_json, admin_url = excluded.admin_url, "
    "tenant_id = excluded.tenant_id, registered_at = excluded.registered_at, "
    "prev_heartbeat_at = gateways.last_heartbeat_at, "
    "prev_uptime_seconds = gateways.uptime_seconds, prev_routes_count = gateways.routes_count, "
    "prev_policies_count = gateways.policies_count, "
    "prev_requests_total = gateways.requests_total, prev_error_rate = gateways.error_rate, "
    "last_heartbeat_at = excluded.last_heartbeat_at, uptime_seconds = NULL, "
    "routes_count = NULL, policies_count = NULL, requests_total = NULL, error_rate = NULL, "
    "search_text = excluded.search_text, updated_at = excluded.updated_at, "
    "owner_key_hash = excluded.owner_key_hash "
    /* Never another key's gateway, never another tenant's (checked before;
     * here again so a concurrent change cannot slip through). */
    "WHERE (gateways.owner_key_hash IS NULL OR gateways.owner_key_hash = $13 "
    "OR gateways.owner_key_hash = $14) AND (gateways.tenant_id = excluded.tenant_id "
    "OR (gateways.tenant_id IS NULL AND excluded.tenant_id IS NULL)) "
    "RETURNING " GW_COLS;
static const char SQL_REGISTERED[] =
    "SELECT id, tenant_id, owner_key_hash FROM gateways WHERE name = $1";

struct registration {
    const char *hostname, *version, *environment, *admin_url, *tenant_id;
    char mode[GATEWAY_MODE_MAX + 1];
    const cJSON *capabilities;
};

/* Validates the register body; 0 or the 400 sent. */
static int parse_registration(struct req *r, const cJSON *body, struct registration *g)
{
    char err[JSON_ERR_MAX];
    const char *mode = NULL;
    if (json_string(body, "hostname", 1, GATEWAY_HOSTNAME_MAX, true, &g->hostname, err) != 0)
        return bad_field(r, err);
    if (!charset_ok(g->hostname, ".-_", true))
        return bad_field(r, "hostname: only letters, digits, '.', '-' and '_' are allowed");
    if (json_string(body, "mode", 1, GATEWAY_MODE_MAX, true, &mode, err) != 0)
        return bad_field(r, err);
    if (gateways_normalize_mode(mode, g->mode, sizeof g->mode) != 0)
        return bad_field(r, "mode: must be one of edge-mcp, sidecar, proxy, shadow, connect");
    if (json_string(body, "version", 1, GATEWAY_VERSION_MAX, true, &g->version, err) != 0)
        return bad_field(r, err);
    if (util_has_control(g->version, false))
        return bad_field(r, "version: must not contain control characters");
    g->environment = "dev";
    if (json_string(body, "environment", 1, GATEWAY_ENV_MAX, false, &g->environment, err) < 0)
        return bad_field(r, err);
    if (!charset_ok(g->environment, "-_", false))
        return bad_field(r, "environment: only lowercase letters, digits, '-' and '_' are allowed");
    g->capabilities = NULL;
    if (json_string_array(body, "capabilities", GATEWAY_CAPABILITIES_MAX, 1, GATEWAY_FIELD_MAX,
                          false, &g->capabilities, err) < 0)
        return bad_field(r, err);
    const cJSON *it;
    cJSON_ArrayForEach(it, g->capabilities)
    {
        if (util_has_control(it->valuestring, false))
            return bad_field(r, "capabilities: items must not contain control characters");
    }
    if (json_string(body, "admin_url", 1, GATEWAY_URL_MAX, true, &g->admin_url, err) != 0)
        return bad_field(r, err);
    const char *u = g->admin_url;
    size_t skip = strncasecmp(u, "http://", 7) == 0    ? 7
                  : strncasecmp(u, "https://", 8) == 0 ? 8
                                                       : 0;
    bool url_ok = skip > 0 && u[skip] && u[skip] != '/' && !util_has_control(u, false);
    for (const char *c = u; url_ok && *c; c++)
        if (*c == ' ') url_ok = false;
    if (!url_ok) return bad_field(r, "admin_url: must be an http:// or https:// URL");
    /* Absent or null: a shared gateway (no tenant restriction), stored as NULL. */
    g->tenant_id = NULL;
    if (json_string(body, "tenant_id", 1, AUTH_TENANT_MAX, false, &g->tenant_id, err) < 0)
        return bad_field(r, err);
    if (g->tenant_id && !charset_ok(g->tenant_id, "-_.", true))
        return bad_field(r, "tenant_id: only letters, digits, '-', '_' and '.' are allowed");
    return 0;
}

int gateways_handle_register(struct req *r)
{
    const struct config *cfg = config_active();
    struct db *db = db_thread();
    struct db_result *res = NULL;
    cJSON *item = NULL;
    char *caps = NULL, *search = NULL, *search_src = NULL;
    int rc;
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    struct registration g;
    if ((rc = parse_registration(r, body, &g)) != 0) goto out;

    char name[GATEWAY_NAME_MAX + 1];
    if (!gateways_derive_name(g.hostname, g.mode, g.environment, name, sizeof name)) {
        rc = bad_field(r, "hostname: too long");
        goto out;
    }
    set_gateway_subject(r, name);
    util_copy(r->principal.tenant_id, sizeof r->principal.tenant_id,
              g.tenant_id ? g.tenant_id : "");

    /* Ownership and tenant: the key that registered a gateway owns it; a
     * registration never moves a gateway to another tenant (409). */
    char mine[AUTH_GATEWAY_DIGEST_LEN + 1], old_owner[AUTH_GATEWAY_DIGEST_LEN + 1];
    presented_digest(r, mine);
    util_copy(old_owner, sizeof old_owner, mine);
    enum db_err e = db_query(db, SQL_REGISTERED, DB_ARGS(DBP_TEXT(name)), &res);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (db_rows(res) == 1) {
        bool rotated = false;
        const char *owner = db_get(res, 0, 2), *had = db_get(res, 0, 1);
        if ((rc = owner_check(r, name, owner, mine, &rotated)) != 0) goto out;
        if (!same_tenant(had, g.tenant_id)) {
            rc = http_send_error(r, 409, "tenant_mismatch",
                                 "gateway %s is registered for %s%s; a registration cannot move "
                                 "it to %s%s (a cpi-admin deletes it first)",
                                 name, had ? "tenant " : "", had ? had : "no tenant (shared)",
                                 g.tenant_id ? "tenant " : "",
                                 g.tenant_id ? g.tenant_id : "no tenant (shared)");
            goto out;
        }
        if (rotated) {
            util_copy(old_owner, sizeof old_owner, owner);
            log_info("gateway %s: its owner key is no longer configured; the presenting key owns "
                     "it now",
                     name);
        }
    }
    db_result_free(res);
    res = NULL;

    cJSON *capj = g.capabilities ? cJSON_Duplicate(g.capabilities, 1) : cJSON_CreateArray();
    caps = capj ? json_print(capj) : NULL;
    cJSON_Delete(capj);
    struct strbuf sb;
    strbuf_init(&sb, 8192);
    strbuf_printf(&sb, "%s %s %s %s %s", name, g.hostname, g.version, g.admin_url,
                  gateways_type_for_mode(g.mode));
    search_src = strbuf_take(&sb);
    search = util_utf8_lower(search_src ? search_src : name);
    char id[CRYPTO_UUID_LEN + 1];
    if (!caps || !search || crypto_uuid(id) != 0) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    int64_t now = util_now_ms();
    bool locked = sqlite_lock();
    e = db_query(db, SQL_REGISTER,
                 DB_ARGS(DBP_TEXT(id), DBP_TEXT(name), DBP_TEXT(g.hostname),
                         DBP_TEXT(gateways_type_for_mode(g.mode)), DBP_TEXT(g.mode),
                         DBP_TEXT(g.environment), DBP_TEXT(g.version), DBP_TEXT(caps),
                         DBP_TEXT(g.admin_url), g.tenant_id ? DBP_TEXT(g.tenant_id) : DBP_NULL,
                         DBP_INT(now), DBP_TEXT(search), DBP_TEXT(mine), DBP_TEXT(old_owner)),
                 &res);
    sqlite_unlock(locked);
    if (e == DB_OK && db_rows(res) == 0) {
        rc = http_send_error(r, 409, "conflict",
                             "gateway %s changed owner or tenant during this registration; retry",
                             name);
        goto out;
    }
    if (e != DB_OK || db_rows(res) != 1) {
        rc = http_send_db_error(r, e != DB_OK ? (int)e : DB_ERR_INTERNAL);
        goto out;
    }
    const char *gid = db_get(res, 0, C_ID);
    bool created = strcmp(gid, id) == 0;
    char reason[128];
    const char *status = row_status(cfg, res, 0, now, reason, sizeof reason);
    if (created) {
        /* The first entry of the timeline; recorded_status starts as online. */
        e = db_exec(db, SQL_EVENT_INSERT,
                    DB_ARGS(DBP_TEXT(gid), DBP_NULL, DBP_TEXT("online"), DBP_TEXT("registered"),
                            DBP_INT(now)),
                    NULL);
        if (e != DB_OK) log_warn("gateway %s: cannot record its registration", name);
    }
    log_info("gateway %s %s (%s)", name, created ? "registered" : "re-registered", gid);
    item = item_from_row(cfg, res, 0, now);
    if (!item) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    char *text = json_print(item);
    if (text && strlen(text) < EVENTS_NOTIFY_MAX - 200) {
        events_publish_tenant("gateway.registered", g.tenant_id, text);
    } else if (text) {
        /* Keep the NOTIFY payload small: the UI refetches the full item. */
        cJSON *small = cJSON_CreateObject();
        cJSON_AddStringToObject(small, "id", gid);
        cJSON_AddStringToObject(small, "name", name);
        json_add_str_or_null(small, "tenant_id", g.tenant_id);
        cJSON_AddStringToObject(small, "status", status);
        cJSON_AddBoolToObject(small, "truncated", true);
        publish_json("gateway.registered", g.tenant_id, small);
    }
    free(text);
    /* After gateway.registered, so streams see the registration first. */
    if (!created)
        maybe_transition(db, cfg, gid, g.tenant_id, name, db_get(res, 0, C_RECORDED), status,
                         reason, now);
    rc = http_send_json(r, 201, item);
out:
    cJSON_Delete(item);
    cJSON_Delete(body);
    db_result_free(res);
    free(caps);
    free(search);
    free(search_src);
    return rc;
}

/* ---- protocol: heartbeat -------------------------------------------------- */

static const char SQL_HEARTBEAT[] =
    "UPDATE gateways SET prev_heartbeat_at = last_heartbeat_at, "
    "prev_uptime_seconds = uptime_seconds, prev_routes_count = routes_count, "
    "prev_policies_count = policies_count, prev_requests_total = requests_total, "
    "prev_error_rate = error_rate, last_heartbeat_at = $2, uptime_seconds = $3, "
    "routes_count = $4, policies_count = $5, requests_total = $6, error_rate = $7, "
    "updated_at = $2, owner_key_hash = $8 "
    "WHERE id = $1 AND (owner_key_hash IS NULL OR owner_key_hash = $8) "
    "RETURNING name, tenant_id, maintenance, recorded_status, "
    "prev_heartbeat_at, prev_uptime_seconds, prev_requests_total";

#define JSON_INT_MAX 9007199254740991LL /* 2^53 - 1: exact in a JSON number */

static struct db_param opt_int(int rc, int64_t v)
{
    return rc == 0 ? DBP_INT(v) : DBP_NULL;
}

/* Hands the heartbeat to the history (prev_* from the RETURNING, columns 4..6). */
static gateways_heartbeat_hook heartbeat_hook; /* set before the server starts */

void gateways_set_heartbeat_hook(gateways_heartbeat_hook hook)
{
    heartbeat_hook = hook;
}

static void history_sample(const struct db_result *res, const char *id, const char *tenant,
                           int64_t now, int64_t uptime, bool has_requests, int64_t requests,
                           bool has_rate, double rate, bool has_routes, int64_t routes,
                           bool has_policies, int64_t policies, const char *status)
{
    struct gateway_history_sample s = {.at = now,
                                       .uptime = uptime,
                                       .has_requests = has_requests,
                                       .requests = requests,
                                       .has_rate = has_rate,
                                       .rate = rate,
                                       .has_routes = has_routes,
                                       .routes = routes,
                                       .has_policies = has_policies,
                                       .policies = policies,
                                       .status = status,
                                       .has_prev = !db_is_null(res, 0, 4),
                                       .prev_at = int_or(res, 0, 4, 0),
                                       .has_prev_uptime = !db_is_null(res, 0, 5),
                                       .prev_uptime = int_or(res, 0, 5, 0),
                                       .has_prev_requests = !db_is_null(res, 0, 6),
                                       .prev_requests = int_or(res, 0, 6, 0)};
    if (heartbeat_hook) heartbeat_hook(id, tenant, &s);
}

int gateways_handle_heartbeat(struct req *r)
{
    const struct config *cfg = config_active();
    struct db *db = db_thread();
    struct db_result *res = NULL;
    char id[CRYPTO_UUID_LEN + 1], err[JSON_ERR_MAX];
    int rc;
    if (!id_param(r, id)) return http_send_error(r, 404, "not_found", "no such gateway");
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    int64_t uptime = 0, routes = 0, policies = 0, requests = 0;
    double error_rate = 0;
    int r_routes = 1, r_policies = 1, r_requests = 1, r_rate = 1;
    if (json_int(body, "uptime_seconds", 0, JSON_INT_MAX, true, &uptime, err) != 0 ||
        (r_routes = json_int(body, "routes_count", 0, JSON_INT_MAX, false, &routes, err)) < 0 ||
        (r_policies = json_int(body, "policies_count", 0, JSON_INT_MAX, false, &policies, err)) <
            0 ||
        (r_requests = json_int(body, "requests_total", 0, JSON_INT_MAX, false, &requests, err)) <
            0 ||
        (r_rate = json_number(body, "error_rate", 0, 1, false, &error_rate, err)) < 0) {
        rc = bad_field(r, err);
        goto out;
    }
    char mine[AUTH_GATEWAY_DIGEST_LEN + 1];
    presented_digest(r, mine);
    int64_t now = util_now_ms();
    enum db_err e = DB_OK;
    /* A second pass only after taking over a gateway whose owner key was
     * rotated out (heartbeat_owner). */
    for (int pass = 0; pass < 2; pass++) {
        db_result_free(res);
        res = NULL;
        bool locked = sqlite_lock();
        e = db_query(db, SQL_HEARTBEAT,
                     DB_ARGS(DBP_TEXT(id), DBP_INT(now), DBP_INT(uptime), opt_int(r_routes, routes),
                             opt_int(r_policies, policies), opt_int(r_requests, requests),
                             r_rate == 0 ? DBP_REAL(error_rate) : DBP_NULL, DBP_TEXT(mine)),
                     &res);
        sqlite_unlock(locked);
        if (e != DB_OK || db_rows(res) == 1) break;
        if ((rc = heartbeat_owner(r, db, id, mine)) != 0) goto out;
    }
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (db_rows(res) != 1) {
        rc = http_send_error(r, 409, "conflict", "the gateway changed owner during this heartbeat");
        goto out;
    }
    const char *name = db_get(res, 0, 0), *tenant = db_get(res, 0, 1);
    set_gateway_subject(r, name);
    char reason[128];
    const char *status = gateways_status(cfg, db_get_int(res, 0, 2) != 0, now, r_rate == 0,
                                         error_rate, now, reason, sizeof reason);
    metrics_heartbeat();
    if (events_wanted()) {
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddStringToObject(ev, "id", id);
        json_add_str_or_null(ev, "tenant_id", tenant);
        json_add_time(ev, "last_heartbeat_at", now);
        cJSON *h = cJSON_AddObjectToObject(ev, "health_details");
        cJSON_AddNumberToObject(h, "uptime_seconds", (double)uptime);
        if (r_routes == 0)
            cJSON_AddNumberToObject(h, "routes_count", (double)routes);
        else
            cJSON_AddNullToObject(h, "routes_count");
        if (r_policies == 0)
            cJSON_AddNumberToObject(h, "policies_count", (double)policies);
        else
            cJSON_AddNullToObject(h, "policies_count");
        if (r_requests == 0)
            cJSON_AddNumberToObject(h, "requests_total", (double)requests);
        else
            cJSON_AddNullToObject(h, "requests_total");
        if (r_rate == 0)
            cJSON_AddNumberToObject(h, "error_rate", error_rate);
        else
            cJSON_AddNullToObject(h, "error_rate");
        cJSON_AddStringToObject(ev, "status", status);
        cJSON_AddStringToObject(ev, "status_reason", reason);
        cJSON_AddBoolToObject(ev, "live", true);
        publish_json("gateway.heartbeat", tenant, ev);
    }
    history_sample(res, id, tenant, now, uptime, r_requests == 0, requests, r_rate == 0, error_rate,
                   r_routes == 0, routes, r_policies == 0, policies, status);
    /* After gateway.heartbeat, so streams see the cause before the effect. */
    maybe_transition(db, cfg, id, tenant, name, db_get(res, 0, 3), status, reason, now);
    rc = http_send_no_content(r);
out:
    cJSON_Delete(body);
    db_result_free(res);
    return rc;
}

/* ---- protocol: deployment reports ------------------------------------------ */

/* A gateway's deployment status report: the same ownership rule as its
 * heartbeats and config polls (another configured key gets 403), then
 * deployments.c records the report. */
int gateways_handle_deployment_report(struct req *r)
{
    char id[CRYPTO_UUID_LEN + 1], mine[AUTH_GATEWAY_DIGEST_LEN + 1];
    if (!id_param(r, id)) return http_send_error(r, 404, "not_found", "no such gateway");
    presented_digest(r, mine);
    int rc = heartbeat_owner(r, db_thread(), id, mine);
    return rc != 0 ? rc : deployments_handle_report(r);
}

/* ---- protocol: config ----------------------------------------------------- */

static const char SQL_CONFIG_GATEWAY[] =
    "SELECT id, name, environment, tenant_id, owner_key_hash FROM gateways WHERE id = $1";
static const char SQL_CONFIG_POLICIES[] =
    "SELECT id, name, type, config_json, api_id, sync_status FROM policies "
    "WHERE sync_status = 'pending' AND (gateway_id = $1 OR (gateway_id IS NULL AND tenant_id = $2 "
    "AND (api_id IS NULL OR api_id IN (SELECT api_id FROM deployments WHERE gateway_id = $1)))) "
    "ORDER BY created_at, id LIMIT $3";

int gateways_handle_config(struct req *r)
{
    struct db *db = db_thread();
    struct db_result *gw = NULL, *pols = NULL;
    cJSON *deps = NULL;
    char id[CRYPTO_UUID_LEN + 1];
    int rc;
    if (!id_param(r, id)) return http_send_error(r, 404, "not_found", "no such gateway");
    enum db_err e = db_query(db, SQL_CONFIG_GATEWAY, DB_ARGS(DBP_TEXT(id)), &gw);
    if (e == DB_OK && db_rows(gw) == 1) {
        char mine[AUTH_GATEWAY_DIGEST_LEN + 1];
        presented_digest(r, mine);
        set_gateway_subject(r, db_get(gw, 0, 1));
        if ((rc = owner_enforce(r, db, id, db_get(gw, 0, 1), db_get(gw, 0, 4), mine)) != 0)
            goto out;
    }
    if (e == DB_OK && db_rows(gw) == 1)
        e = deployments_config(db, id, db_get(gw, 0, 2), db_get(gw, 0, 3), &deps);
    if (e == DB_OK && db_rows(gw) == 1)
        e = db_query(
            db, SQL_CONFIG_POLICIES,
            DB_ARGS(DBP_TEXT(id), DBP_TEXT(db_get(gw, 0, 3)), DBP_INT(GATEWAY_CONFIG_ITEMS_MAX)),
            &pols);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (db_rows(gw) != 1) {
        rc = http_send_error(r, 404, "not_found", "no such gateway");
        goto out;
    }
    set_gateway_subject(r, db_get(gw, 0, 1));
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "gateway_id", db_get(gw, 0, 0));
    cJSON_AddStringToObject(o, "name", db_get(gw, 0, 1));
    cJSON_AddStringToObject(o, "environment", db_get(gw, 0, 2));
    json_add_str_or_null(o, "tenant_id", db_get(gw, 0, 3));
    cJSON_AddItemToObject(o, "pending_deployments", deps);
    deps = NULL;
    cJSON *pa = cJSON_AddArrayToObject(o, "pending_policies");
    for (size_t i = 0; i < db_rows(pols); i++) {
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "id", db_get(pols, i, 0));
        cJSON_AddStringToObject(p, "name", db_get(pols, i, 1));
        cJSON_AddStringToObject(p, "type", db_get(pols, i, 2));
        const char *conf = db_get(pols, i, 3);
        cJSON *cj = conf ? cJSON_Parse(conf) : NULL;
        cJSON_AddItemToObject(p, "config", cj ? cj : cJSON_CreateObject());
        json_add_str_or_null(p, "api_id", db_get(pols, i, 4));
        cJSON_AddStringToObject(p, "sync_status", db_get(pols, i, 5));
        cJSON_AddItemToArray(pa, p);
    }
    if ((e = subscriptions_gateway_config(db, r, id, o)) != DB_OK) cJSON_Delete(o);
    rc = e == DB_OK ? http_send_json_take(r, 200, o) : http_send_db_error(r, e);
out:
    db_result_free(gw);
    cJSON_Delete(deps);
    db_result_free(pols);
    return rc;
}

/* ---- console: list -------------------------------------------------------- */

struct list_filter {
    char status[16], environment[GATEWAY_ENV_MAX + 1], type[32];
    enum gateway_status st;        /* when status[0] */
    char *words[SEARCH_WORDS_MAX]; /* LIKE patterns, escaped and lower-cased */
    int nwords;
};

static void filter_cleanup(struct list_filter *f)
{
    for (int i = 0; i < f->nwords; i++) free(f->words[i]);
    f->nwords = 0;
}

/* Reads one optional query parameter; 0 ok (out "" when absent), or the 400 sent. */
static int query_value(struct req *r, const char *name, char *out, size_t n)
{
    int len = http_query_param(r, name, 0, out, n);
    if (len == -1) {
        out[0] = '\0';
        return 0;
    }
    if (len < 0 || !util_utf8_valid(out, (size_t)len))
        return http_send_error(r, 400, "invalid_parameter", "%s: is too long or malformed", name);
    return 0;
}

static int parse_filter(struct req *r, struct list_filter *f)
{
    char q[HTTP_QUERY_VALUE_MAX + 1];
    int rc;
    if ((rc = query_value(r, "status", f->status, sizeof f->status)) != 0) return rc;
    if (f->status[0]) {
        int k = 0;
        while (k < GW_STATUS_COUNT && strcmp(f->status, STATUS_NAMES[k]) != 0) k++;
        if (k == GW_STATUS_COUNT)
            return http_send_error(r, 400, "invalid_parameter",
                                   "status: must be one of online, offline, degraded, maintenance");
        f->st = (enum gateway_status)k;
    }
    if ((rc = query_value(r, "environment", f->environment, sizeof f->environment)) != 0) return rc;
    if ((rc = query_value(r, "type", f->type, sizeof f->type)) != 0) return rc;
    if ((rc = query_value(r, "q", q, sizeof q)) != 0) return rc;
    util_trim(q);
    if (util_utf8_len(q, strlen(q)) > SEARCH_QUERY_MAX)
        return http_send_error(r, 400, "invalid_parameter", "q: at most %d characters",
                               SEARCH_QUERY_MAX);
    char *lower = util_utf8_lower(q);
    if (!lower) return http_send_error(r, 500, "internal", "out of memory");
    const char *p = lower, *w;
    size_t wn;
    while ((w = search_next_word(&p, &wn)) && f->nwords < SEARCH_WORDS_MAX)
        f->words[f->nwords++] = db_like_pattern("%", w, wn, "%");
    free(lower);
    for (int i = 0; i < f->nwords; i++)
        if (!f->words[i]) return http_send_error(r, 500, "internal", "out of memory");
    return 0;
}

/* Appends the WHERE clause and its parameters (from index *np). `plus` is ""
 * or "+" (see status_predicate): the same rows either way, and the same
 * parameters in the same order. */
static void build_where(struct strbuf *b, struct db_param *params, int *np, const struct req *r,
                        const struct list_filter *f, int64_t cut, double rate, const char *plus)
{
    strbuf_puts(b, " WHERE 1 = 1");
    if (!tenant_all(&r->principal)) {
        /* A tenant's own gateways and the shared ones (tenant_id NULL). */
        params[*np] = DBP_TEXT(r->principal.tenant_id);
        strbuf_printf(b, " AND (tenant_id = $%d OR tenant_id IS NULL)", ++*np);
    }
    if (f->environment[0]) {
        params[*np] = DBP_TEXT(f->environment);
        strbuf_printf(b, " AND %senvironment = $%d", plus, ++*np);
    }
    if (f->type[0]) {
        params[*np] = DBP_TEXT(f->type);
        strbuf_printf(b, " AND %stype = $%d", plus, ++*np);
    }
    if (f->status[0]) {
        int cut_param = 0, rate_param = 0;
        if (status_uses(f->st, false)) {
            params[*np] = DBP_INT(cut);
            cut_param = ++*np;
        }
        if (status_uses(f->st, true)) {
            params[*np] = DBP_REAL(rate);
            rate_param = ++*np;
        }
        strbuf_puts(b, " AND ");
        status_predicate(b, f->st, cut_param, rate_param, plus);
    }
    for (int i = 0; i < f->nwords; i++) {
        params[*np] = DBP_TEXT(f->words[i]);
        strbuf_printf(b, " AND search_text LIKE $%d ESCAPE '\\'", ++*np);
    }
}

/* Whether the page query should walk the rows in name order (the name or
 * gateways_tenant index) and stop after offset + limit matches, instead of
 * letting SQLite take the environment/type/status indexes, fetch every match
 * and sort them. SQLite has no statistics to tell the two apart; here the
 * match count (total) and the visible count (all) are known: a name-order
 * walk visits about (offset + limit) * all / total rows, the index plan
 * total rows plus a sort of whole rows (counted as 4 visits each, measured).
 * PostgreSQL plans from its own statistics. */
static bool page_hint(const struct list_filter *f, int64_t total, int64_t all, long page,
                      long page_size)
{
    if (db_caps() & DB_CAP_MULTI_PROCESS) return false;
    if (!f->environment[0] && !f->type[0] && !f->status[0]) return false;
    if (total <= 0) return false;
    double visits = ((double)(page - 1) * (double)page_size + (double)page_size) * (double)all;
    return visits <= 4.0 * (double)total * (double)total;
}

/* Strong ETag over the body without "now", in If-None-Match? */
static bool etag_matches(const char *header, const char *etag)
{
    if (!header) return false;
    const char *p = header;
    size_t elen = strlen(etag);
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (strncmp(p, "W/", 2) == 0) p += 2;
        if (*p == '*') return true;
        if (strncmp(p, etag, elen) == 0 && (p[elen] == '\0' || p[elen] == ',' || p[elen] == ' '))
            return true;
        while (*p && *p != ',') p++;
    }
    return false;
}

static bool has_filter(const struct list_filter *f)
{
    return f->environment[0] || f->type[0] || f->status[0] || f->nwords > 0;
}

int gateways_handle_list(struct req *r)
{
    const struct config *cfg = config_active();
    struct db *db = db_thread();
    struct list_filter f;
    struct db_result *items = NULL, *total = NULL;
    struct strbuf where, sql;
    char *text = NULL, *body = NULL;
    long page, page_size;
    int rc;
    memset(&f, 0, sizeof f);
    strbuf_init(&where, 16384);
    strbuf_init(&sql, 32768);
    if (http_paging(r, &page, &page_size) != 0) {
        rc = r->status;
        goto out;
    }
    if ((rc = parse_filter(r, &f)) != 0) goto out;

    int64_t now = util_now_ms(), cut = now - window_ms(cfg);
    double rate = cfg->gateways.degraded_error_rate;
    struct db_param params[DB_PARAMS_MAX];
    int np = 0;
    build_where(&where, params, &np, r, &f, cut, rate, "");
    if (where.failed) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    /* Counts ignore the filters but keep the tenant scope; without filters
     * their first column is the total too. */
    int64_t counts[GW_STATUS_COUNT], all = 0;
    enum db_err e = (enum db_err)gateways_count_by_status(
        db, cfg, tenant_all(&r->principal) ? NULL : r->principal.tenant_id, now, counts, &all);
    if (e == DB_OK && has_filter(&f)) {
        strbuf_printf(&sql, "SELECT COUNT(*) FROM gateways%s", where.data);
        e = sql.failed ? DB_ERR_INTERNAL : db_query_dynamic(db, sql.data, params, np, &total);
    }
    int64_t matches = e == DB_OK && total ? db_get_int(total, 0, 0) : all;
    if (e == DB_OK && page_hint(&f, matches, all, page, page_size)) {
        np = 0;
        strbuf_cleanup(&where);
        strbuf_init(&where, 16384);
        build_where(&where, params, &np, r, &f, cut, rate, "+");
        if (where.failed) e = DB_ERR_INTERNAL;
    }
    if (e == DB_OK) {
        strbuf_cleanup(&sql);
        strbuf_init(&sql, 32768);
        params[np] = DBP_INT(page_size);
        params[np + 1] = DBP_INT((page - 1) * page_size);
        strbuf_printf(&sql,
                      "SELECT " GW_COLS " FROM gateways%s ORDER BY name, id LIMIT $%d OFFSET $%d",
                      where.data, np + 1, np + 2);
        e = sql.failed ? DB_ERR_INTERNAL : db_query_dynamic(db, sql.data, params, np + 2, &items);
    }
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < db_rows(items); i++)
        cJSON_AddItemToArray(arr, item_from_row(cfg, items, i, now));
    json_add_paging(o, matches, page, page_size);
    cJSON *c = cJSON_AddObjectToObject(o, "counts");
    for (int k = 0; k < GW_STATUS_COUNT; k++)
        cJSON_AddNumberToObject(c, STATUS_NAMES[k], (double)counts[k]);
    add_thresholds(o, cfg);
    text = json_print(o);
    cJSON_Delete(o);
    if (!text) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    char hash[CRYPTO_SHA256_HEX_LEN + 1], etag[48], headers[96], nowbuf[32];
    crypto_sha256_hex(text, strlen(text), hash);
    snprintf(etag, sizeof etag, "\"%.40s\"", hash);
    snprintf(headers, sizeof headers, "ETag: %s\r\n", etag);
    if (etag_matches(http_header(r, "If-None-Match"), etag)) {
        rc = http_send(r, 304, NULL, NULL, 0, headers);
        goto out;
    }
    /* "now" is outside the ETag: splice it in front of the hashed body. */
    util_time_format(now, nowbuf);
    struct strbuf out;
    strbuf_init(&out, strlen(text) + 64);
    strbuf_printf(&out, "{\"now\":\"%s\",%s", nowbuf, text + 1);
    body = strbuf_take(&out);
    if (!body) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    rc = http_send(r, 200, "application/json", body, strlen(body), headers);
out:
    filter_cleanup(&f);
    strbuf_cleanup(&where);
    strbuf_cleanup(&sql);
    db_result_free(items);
    db_result_free(total);
    free(text);
    free(body);
    return rc;
}

/* ---- console: detail, delete, maintenance --------------------------------- */

static const char SQL_GET[] = "SELECT " GW_COLS " FROM gateways WHERE id = $1";
static const char SQL_GET_TENANT[] =
    "SELECT " GW_COLS " FROM gateways WHERE id = $1 AND (tenant_id = $2 OR tenant_id IS NULL)";
static const char SQL_TRANSITIONS[] =
    "SELECT from_status, to_status, reason, at FROM gateway_events WHERE gateway_id = $1 "
    "ORDER BY at DESC, id DESC LIMIT $2";

/* Loads one visible gateway; 0 with *out set (NULL when not found), or a db_err. */
static enum db_err load_gateway(struct db *db, const struct req *r, const char *id,
                                struct db_result **out)
{
    struct db_result *res = NULL;
    enum db_err e = tenant_all(&r->principal)
                        ? db_query(db, SQL_GET, DB_ARGS(DBP_TEXT(id)), &res)
                        : db_query(db, SQL_GET_TENANT,
                                   DB_ARGS(DBP_TEXT(id), DBP_TEXT(r->principal.tenant_id)), &res);
    if (e != DB_OK) return e;
    if (db_rows(res) != 1) {
        db_result_free(res);
        res = NULL;
    }
    *out = res;
    return DB_OK;
}

enum db_err gateways_visible(struct db *db, const struct req *r, const char *id, bool *found)
{
    struct db_result *res = NULL;
    enum db_err e = load_gateway(db, r, id, &res);
    if (e == DB_OK) *found = res != NULL;
    db_result_free(res);
    return e;
}

int gateways_handle_get(struct req *r)
{
    const struct config *cfg = config_active();
    struct db *db = db_thread();
    struct db_result *res = NULL, *tr = NULL;
    char id[CRYPTO_UUID_LEN + 1];
    int rc;
    if (!id_param(r, id)) return http_send_error(r, 404, "not_found", "no such gateway");
    enum db_err e = load_gateway(db, r, id, &res);
    if (e == DB_OK && res)
        e = db_query(db, SQL_TRANSITIONS, DB_ARGS(DBP_TEXT(id), DBP_INT(GATEWAY_TRANSITIONS_MAX)),
                     &tr);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (!res) {
        rc = http_send_error(r, 404, "not_found", "no such gateway");
        goto out;
    }
    int64_t now = util_now_ms();
    cJSON *o = item_from_row(cfg, res, 0, now);
    if (!o) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    int64_t last = int_or(res, 0, C_LAST_HB, -1);
    if (last < 0)
        cJSON_AddNullToObject(o, "seconds_since_heartbeat");
    else {
        int64_t whole_seconds = (now > last ? now - last : 0) / 1000;
        cJSON_AddNumberToObject(o, "seconds_since_heartbeat", (double)whole_seconds);
    }
    if (db_is_null(res, 0, C_PREV_HB)) {
        cJSON_AddNullToObject(o, "previous_health");
    } else {
        cJSON *p = cJSON_AddObjectToObject(o, "previous_health");
        json_add_time(p, "at", db_get_int(res, 0, C_PREV_HB));
        add_int_or_null(p, "uptime_seconds", res, 0, C_PREV_UPTIME);
        add_int_or_null(p, "routes_count", res, 0, C_PREV_ROUTES);
        add_int_or_null(p, "policies_count", res, 0, C_PREV_POLICIES);
        add_int_or_null(p, "requests_total", res, 0, C_PREV_REQUESTS);
        add_real_or_null(p, "error_rate", res, 0, C_PREV_ERROR_RATE);
    }
    add_thresholds(o, cfg);
    cJSON *arr = cJSON_AddArrayToObject(o, "transitions");
    for (size_t i = 0; i < db_rows(tr); i++) {
        cJSON *t = cJSON_CreateObject();
        json_add_str_or_null(t, "from", db_get(tr, i, 0));
        cJSON_AddStringToObject(t, "to", db_get(tr, i, 1));
        cJSON_AddStringToObject(t, "reason", db_get(tr, i, 2));
        json_add_time(t, "at", db_get_int(tr, i, 3));
        cJSON_AddItemToArray(arr, t);
    }
    rc = http_send_json_take(r, 200, o);
out:
    db_result_free(res);
    db_result_free(tr);
    return rc;
}

static const char SQL_DELETE[] = "DELETE FROM gateways WHERE id = $1";

int gateways_handle_delete(struct req *r)
{
    char id[CRYPTO_UUID_LEN + 1];
    long changed = 0;
    if (!id_param(r, id)) return http_send_error(r, 404, "not_found", "no such gateway");
    /* Only cpi-admin holds PERM_GATEWAY_ADMIN, and it sees every tenant. */
    enum db_err e = db_exec(db_thread(), SQL_DELETE, DB_ARGS(DBP_TEXT(id)), &changed);
    if (e != DB_OK) return http_send_db_error(r, e);
    if (changed != 1) return http_send_error(r, 404, "not_found", "no such gateway");
    log_info("gateway %s deleted by %s", id, r->principal.subject);
    return http_send_no_content(r);
}

static const char SQL_MAINTENANCE[] =
    "UPDATE gateways SET maintenance = $1, updated_at = $2 WHERE id = $3";
static const char SQL_MAINTENANCE_TENANT[] =
    "UPDATE gateways SET maintenance = $1, updated_at = $2 WHERE id = $3 "
    "AND (tenant_id = $4 OR tenant_id IS NULL)";

int gateways_handle_maintenance(struct req *r)
{
    const struct config *cfg = config_active();
    struct db *db = db_thread();
    struct db_result *res = NULL;
    char id[CRYPTO_UUID_LEN + 1], err[JSON_ERR_MAX];
    bool enabled = false;
    long changed = 0;
    int rc;
    if (!id_param(r, id)) return http_send_error(r, 404, "not_found", "no such gateway");
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    if (json_bool(body, "enabled", true, &enabled, err) != 0) {
        rc = bad_field(r, err);
        goto out;
    }
    int64_t now = util_now_ms();
    enum db_err e = tenant_all(&r->principal)
                        ? db_exec(db, SQL_MAINTENANCE,
                                  DB_ARGS(DBP_BOOL(enabled), DBP_INT(now), DBP_TEXT(id)), &changed)
                        : db_exec(db, SQL_MAINTENANCE_TENANT,
                                  DB_ARGS(DBP_BOOL(enabled), DBP_INT(now), DBP_TEXT(id),
                                          DBP_TEXT(r->principal.tenant_id)),
                                  &changed);
    if (e == DB_OK && changed == 1) e = load_gateway(db, r, id, &res);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (changed != 1 || !res) {
        rc = http_send_error(r, 404, "not_found", "no such gateway");
        goto out;
    }
    char reason[400], derived[128];
    const char *status = row_status(cfg, res, 0, now, derived, sizeof derived);
    const char *recorded = db_get(res, 0, C_RECORDED);
    if (strcmp(recorded, "maintenance") == 0 && !enabled)
        snprintf(reason, sizeof reason, "maintenance ended; %s", derived);
    else if (enabled)
        snprintf(reason, sizeof reason, "maintenance started by %s", r->principal.subject);
    else
        util_copy(reason, sizeof reason, derived);
    maybe_transition(db, cfg, id, db_get(res, 0, C_TENANT), db_get(res, 0, C_NAME), recorded,
                     status, reason, now);
    rc = http_send_json_take(r, 200, item_from_row(cfg, res, 0, now));
out:
    cJSON_Delete(body);
    db_result_free(res);
    return rc;
}
