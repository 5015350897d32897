/*
 * subscriptions.c — developer self-service subscriptions.
 *
 * Routes: GET|POST /v1/subscriptions, GET|DELETE /v1/subscriptions/{id},
 * POST /v1/subscriptions/{id}/approve|reject|revoke|regenerate-key.
 *
 * A subscription joins an application (applications.c) to an API. States:
 *   pending  --approve--> active   --revoke--> revoked
 *   pending  --reject---> rejected (with a reason the developer sees)
 *   any but cancelled --cancel (DELETE)--> cancelled
 * Creating one lands in `pending` (API mode "approval") or `active` ("auto");
 * mode "closed" takes no new subscriptions. At most one subscription per
 * application and API is not cancelled (a partial unique index).
 *
 * Who may do what: the application's owner (applications_owned_by) creates,
 * cancels and regenerates keys; a manager of the API's tenant (cpi-admin
 * everywhere, a role with PERM_CATALOG_WRITE in its own tenant) approves,
 * rejects and revokes. Anyone else gets 404 for the id (no existence
 * oracle); someone who sees it but lacks the right gets 403. Subscribing to
 * an API the portal hides from the caller is 404 (catalog_portal_ref).
 *
 * Keys: "sk_<8-char id>_<secret>" minted by apikeys_mint, returned once (on
 * an auto-approved create and by regenerate-key, which is also how the
 * owner gets the first key of an approved subscription), stored only as
 * SHA-256. Regenerating replaces the hash; revoke and cancel clear it. The
 * gateway config carries only hashes of active subscriptions.
 *
 * Every state change is audited (the dispatcher records each request) and
 * published as a "subscription.<action>" event to the API's tenant and the
 * owner's tenant.
 *
 * Threading: stateless; each handler uses its thread's db_thread().
 */
#define _GNU_SOURCE
#include "portico/subscriptions.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/apikeys.h"
#include "portico/applications.h"
#include "portico/catalog.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/events.h"
#include "portico/http.h"
#include "portico/json.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/rbac.h"
#include "portico/util.h"

#define SUB_ETAG_HEX 32 /* hex characters of the subscriptions etag */

/* ---- settings (for catalog.c) ------------------------------------------- */

static bool plan_name_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

int subscriptions_apply_settings(const cJSON *body, char **mode, cJSON **plans, char *err)
{
    const char *m = NULL;
    int rc = json_enum(body, "subscription", "auto|approval|closed", false, &m, err);
    if (rc < 0) return -1;
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(body, "plans");
    cJSON *copy = NULL;
    if (pv) {
        if (!cJSON_IsNull(pv) && !cJSON_IsArray(pv)) {
            snprintf(err, JSON_ERR_MAX, "plans: must be an array of {name, requests_per_minute}");
            return -1;
        }
        if (cJSON_GetArraySize(pv) > SUB_PLANS_MAX) {
            snprintf(err, JSON_ERR_MAX, "plans: at most %d plans", SUB_PLANS_MAX);
            return -1;
        }
        copy = cJSON_CreateArray();
        if (!copy) goto oom;
        int i = 0;
        const cJSON *p;
        const cJSON *list = cJSON_IsArray(pv) ? pv : NULL;
        cJSON_ArrayForEach(p, list)
        {
            char e2[JSON_ERR_MAX];
            const char *name = NULL;
            int64_t rpm = 0;
            if (!cJSON_IsObject(p)) {
                snprintf(err, JSON_ERR_MAX, "plans[%d]: must be an object", i);
                goto bad;
            }
            if (json_only_keys(p, "name|requests_per_minute", e2) != 0 ||
                json_string(p, "name", 1, SUB_PLAN_NAME_MAX, true, &name, e2) != 0 ||
                json_int(p, "requests_per_minute", 1, SUB_RPM_MAX, true, &rpm, e2) != 0) {
                snprintf(err, JSON_ERR_MAX, "plans[%d].%.200s", i, e2);
                goto bad;
            }
            if (!plan_name_ok(name)) {
                snprintf(err, JSON_ERR_MAX,
                         "plans[%d].name: only letters, digits, '-', '_' and '.' are allowed", i);
                goto bad;
            }
            const cJSON *q;
            cJSON_ArrayForEach(q, copy)
            {
                if (strcmp(cJSON_GetObjectItemCaseSensitive(q, "name")->valuestring, name) == 0) {
                    snprintf(err, JSON_ERR_MAX, "plans[%d].name: \"%s\" is already a plan", i,
                             name);
                    goto bad;
                }
            }
            cJSON *o = cJSON_CreateObject();
            if (!o) goto oom;
            cJSON_AddItemToArray(copy, o);
            cJSON_AddStringToObject(o, "name", name);
            cJSON_AddNumberToObject(o, "requests_per_minute", (double)rpm);
            i++;
        }
    }
    if (m) {
        char *dup = util_strdup(m);
        if (!dup) goto oom;
        free(*mode);
        *mode = dup;
    }
    if (copy) {
        cJSON_Delete(*plans);
        *plans = copy;
    }
    return 0;
oom:
    snprintf(err, JSON_ERR_MAX, "out of memory");
bad:
    cJSON_Delete(copy);
    return -1;
}

/* ---- SQL ---------------------------------------------------------------- */

#define SUB_FROM                                                                                   \
    " FROM subscriptions s JOIN applications ap ON ap.id = s.application_id "                      \
    "JOIN apis a ON a.id = s.api_id"
#define SUB_SELECT                                                                                 \
    "SELECT s.id, s.application_id, ap.name, s.api_id, a.name, a.version, a.tenant_id, s.plan, "   \
    "s.requests_per_minute, s.status, s.reason, s.key_prefix, s.key_created_at, s.requested_by, "  \
    "s.decided_by, s.created_at, s.updated_at, s.approved_at, s.decided_at, s.cancelled_at, "      \
    "ap.owner_subject, ap.tenant_id" SUB_FROM
enum {
    S_ID,
    S_APP,
    S_APP_NAME,
    S_API,
    S_API_NAME,
    S_API_VERSION,
    S_API_TENANT,
    S_PLAN,
    S_RPM,
    S_STATUS,
    S_REASON,
    S_KEY_PREFIX,
    S_KEY_AT,
    S_REQUESTED_BY,
    S_DECIDED_BY,
    S_CREATED,
    S_UPDATED,
    S_APPROVED,
    S_DECIDED,
    S_CANCELLED,
    S_OWNER,
    S_OWNER_TENANT,
};

static const char SQL_GET[] = SUB_SELECT " WHERE s.id = $1";
static const char SQL_APP[] =
    "SELECT id, owner_subject, tenant_id, name FROM applications WHERE id = $1";
static const char SQL_LIVE[] =
    "SELECT id, status FROM subscriptions "
    "WHERE application_id = $1 AND api_id = $2 AND status <> 'cancelled'";
static const char SQL_INSERT[] =
    "INSERT INTO subscriptions (id, application_id, api_id, plan, requests_per_minute, status, "
    "key_prefix, key_hash, key_created_at, requested_by, created_at, updated_at, approved_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)";
static const char SQL_APPROVE[] =
    "UPDATE subscriptions SET status = 'active', approved_at = $2, decided_at = $2, "
    "decided_by = $3, reason = '', updated_at = $2 WHERE id = $1 AND status = 'pending'";
static const char SQL_REJECT[] =
    "UPDATE subscriptions SET status = 'rejected', decided_at = $2, decided_by = $3, "
    "reason = $4, updated_at = $2 WHERE id = $1 AND status = 'pending'";
static const char SQL_REVOKE[] =
    "UPDATE subscriptions SET status = 'revoked', key_prefix = NULL, key_hash = NULL, "
    "decided_at = $2, decided_by = $3, reason = $4, updated_at = $2 "
    "WHERE id = $1 AND status = 'active'";
static const char SQL_CANCEL[] =
    "UPDATE subscriptions SET status = 'cancelled', key_prefix = NULL, key_hash = NULL, "
    "cancelled_at = $2, updated_at = $2 WHERE id = $1 AND status <> 'cancelled'";
static const char SQL_SET_KEY[] =
    "UPDATE subscriptions SET key_prefix = $2, key_hash = $3, key_created_at = $4, "
    "updated_at = $4 WHERE id = $1 AND status = 'active'";
static const char SQL_APP_LIVE[] =
    SUB_SELECT " WHERE s.application_id = $1 AND s.status <> 'cancelled'";
static const char SQL_SYNC_PLAN[] =
    "UPDATE subscriptions SET requests_per_minute = $3, updated_at = $4 "
    "WHERE api_id = $1 AND plan = $2 AND status IN ('pending', 'active') "
    "AND (requests_per_minute IS NULL OR requests_per_minute <> $3)";
static const char SQL_BUMP[] =
    "UPDATE subscription_revision SET revision = revision + 1 WHERE id = 1";
static const char SQL_ETAG[] =
    "SELECT (SELECT revision FROM subscription_revision WHERE id = 1), COUNT(*), "
    "COALESCE(MAX(updated_at), 0), COALESCE(MAX(created_at), 0) FROM deployments "
    "WHERE gateway_id = $1 AND desired_state = 'deployed'";
static const char SQL_GATEWAY[] =
    "SELECT s.id, s.api_id, s.plan, s.requests_per_minute, s.key_hash FROM subscriptions s "
    "WHERE s.status = 'active' AND s.key_hash IS NOT NULL AND s.api_id IN "
    "(SELECT d.api_id FROM deployments d WHERE d.gateway_id = $1 AND d.desired_state = "
    "'deployed') ORDER BY s.id LIMIT $2";

/* ---- helpers ------------------------------------------------------------ */

/* Runs one subscription write and bumps the revision in one transaction, so
 * a gateway's etag changes whenever (and no earlier than) its list may. */
static enum db_err write_bumped(struct db *db, const char *sql, const struct db_param *args, int n,
                                long *affected)
{
    long changed = 0;
    enum db_err e = db_begin(db);
    if (e != DB_OK) return e;
    e = db_exec(db, sql, args, n, &changed);
    if (e == DB_OK && changed > 0) e = db_exec(db, SQL_BUMP, DB_NOARGS, NULL);
    if (e == DB_OK) e = db_commit(db);
    if (e != DB_OK) {
        db_rollback(db);
        return e;
    }
    if (affected) *affected = changed;
    return DB_OK;
}

static void add_time_col(cJSON *o, const char *name, const struct db_result *res, size_t row,
                         int col)
{
    json_add_time(o, name, db_is_null(res, row, col) ? -1 : db_get_int(res, row, col));
}

/* One subscription (a SUB_SELECT row) as JSON; never the key hash. Caller
 * frees with cJSON_Delete. */
static cJSON *sub_json(const struct db_result *res, size_t row)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "id", db_get(res, row, S_ID));
    cJSON_AddStringToObject(o, "application_id", db_get(res, row, S_APP));
    cJSON_AddStringToObject(o, "application_name", db_get(res, row, S_APP_NAME));
    cJSON_AddStringToObject(o, "api_id", db_get(res, row, S_API));
    cJSON_AddStringToObject(o, "api_name", db_get(res, row, S_API_NAME));
    cJSON_AddStringToObject(o, "api_version", db_get(res, row, S_API_VERSION));
    cJSON_AddStringToObject(o, "api_tenant_id", db_get(res, row, S_API_TENANT));
    cJSON_AddStringToObject(o, "plan", db_get(res, row, S_PLAN));
    if (db_is_null(res, row, S_RPM))
        cJSON_AddNullToObject(o, "requests_per_minute");
    else
        cJSON_AddNumberToObject(o, "requests_per_minute", (double)db_get_int(res, row, S_RPM));
    cJSON_AddStringToObject(o, "status", db_get(res, row, S_STATUS));
    cJSON_AddStringToObject(o, "reason", db_get(res, row, S_REASON));
    json_add_str_or_null(o, "key_prefix", db_get(res, row, S_KEY_PREFIX));
    add_time_col(o, "key_created_at", res, row, S_KEY_AT);
    cJSON_AddStringToObject(o, "owner", db_get(res, row, S_OWNER));
    cJSON_AddStringToObject(o, "owner_tenant_id", db_get(res, row, S_OWNER_TENANT));
    cJSON_AddStringToObject(o, "requested_by", db_get(res, row, S_REQUESTED_BY));
    cJSON_AddStringToObject(o, "decided_by", db_get(res, row, S_DECIDED_BY));
    add_time_col(o, "created_at", res, row, S_CREATED);
    add_time_col(o, "updated_at", res, row, S_UPDATED);
    add_time_col(o, "approved_at", res, row, S_APPROVED);
    add_time_col(o, "decided_at", res, row, S_DECIDED);
    add_time_col(o, "cancelled_at", res, row, S_CANCELLED);
    return o;
}

/* A manager of `tenant`: cpi-admin anywhere, catalog writers in their own. */
static bool can_manage(const struct req *r, const char *tenant)
{
    if (!applications_caller_ok(r)) return false;
    if (rbac_allows(r->principal.role, PERM_ALL_TENANTS)) return true;
    return rbac_allows(r->principal.role, PERM_CATALOG_WRITE) &&
           strcmp(tenant, r->principal.tenant_id) == 0;
}

/* Publishes "subscription.<action>" for row `row` of a SUB_SELECT result to
 * the API's tenant and, when different, the owner's. */
static void publish(const char *action, const struct db_result *res, size_t row)
{
    if (!events_wanted()) return;
    char type[64];
    snprintf(type, sizeof type, "subscription.%s", action);
    cJSON *o = cJSON_CreateObject();
    if (!o) return;
    cJSON_AddStringToObject(o, "id", db_get(res, row, S_ID));
    cJSON_AddStringToObject(o, "application_id", db_get(res, row, S_APP));
    cJSON_AddStringToObject(o, "api_id", db_get(res, row, S_API));
    cJSON_AddStringToObject(o, "status", db_get(res, row, S_STATUS));
    cJSON_AddStringToObject(o, "plan", db_get(res, row, S_PLAN));
    add_time_col(o, "at", res, row, S_UPDATED);
    char *text = json_print(o);
    const char *api_tenant = db_get(res, row, S_API_TENANT);
    const char *owner_tenant = db_get(res, row, S_OWNER_TENANT);
    if (text) {
        events_publish_tenant(type, api_tenant, text);
        if (strcmp(api_tenant, owner_tenant) != 0) events_publish_tenant(type, owner_tenant, text);
    }
    free(text);
    cJSON_Delete(o);
}

static int require_caller(struct req *r)
{
    if (applications_caller_ok(r)) return 0;
    if (r->principal.type == AUTH_ANONYMOUS) return http_send_unauthorized(r, false, NULL);
    return http_send_error(r, 403, "forbidden", "only a signed-in user may use subscriptions");
}

static int send_not_found(struct req *r)
{
    return http_send_error(r, 404, "not_found", "no such subscription");
}

/* Loads subscription `id` (one SUB_SELECT row in *res). */
static enum db_err load_row(struct db *db, const char *id, struct db_result **res)
{
    return db_query(db, SQL_GET, DB_ARGS(DBP_TEXT(id)), res);
}

/* Loads r->params[0] when the caller may see it (owner or manager): 0 with
 * *res, *owner and *manager, or the status of the 404 / error sent. */
static int load_visible(struct req *r, struct db_result **res, bool *owner, bool *manager)
{
    char id[CRYPTO_UUID_LEN + 1];
    struct db_result *rows = NULL;
    *res = NULL;
    *owner = *manager = false;
    int rc = require_caller(r);
    if (rc) return rc;
    if (!applications_uuid(r->params[0], id)) return send_not_found(r);
    enum db_err e = load_row(db_thread(), id, &rows);
    if (e != DB_OK) return http_send_db_error(r, e);
    if (db_rows(rows) != 1) {
        db_result_free(rows);
        return send_not_found(r);
    }
    *owner = applications_owned_by(r, db_get(rows, 0, S_OWNER), db_get(rows, 0, S_OWNER_TENANT));
    *manager = can_manage(r, db_get(rows, 0, S_API_TENANT));
    if (!*owner && !*manager) {
        db_result_free(rows);
        return send_not_found(r);
    }
    *res = rows;
    return 0;
}

/* Mints a key for active subscription `id` and stores its hash; key_out
 * receives the key (shown once). Returns a db_err; DB_ERR_CONSTRAINT with
 * affected 0 means the subscription is no longer active. */
static enum db_err set_new_key(struct db *db, const char *id, char key_out[APIKEYS_KEY_MAX],
                               long *affected)
{
    char prefix[APIKEYS_PREFIX_MAX], hash[CRYPTO_SHA256_HEX_LEN + 1];
    if (apikeys_mint("sk", key_out, prefix, hash) != 0) return DB_ERR_INTERNAL;
    return write_bumped(
        db, SQL_SET_KEY,
        DB_ARGS(DBP_TEXT(id), DBP_TEXT(prefix), DBP_TEXT(hash), DBP_INT(util_now_ms())), affected);
}

/* Reloads `id` and answers `status` with it (adding "key" when non-NULL),
 * publishing `action` first when non-NULL. */
static int send_sub(struct req *r, const char *id, int status, const char *action, const char *key)
{
    struct db_result *res = NULL;
    enum db_err e = load_row(db_thread(), id, &res);
    int rc;
    if (e != DB_OK || db_rows(res) != 1) {
        rc = http_send_db_error(r, e != DB_OK ? e : DB_ERR_INTERNAL);
        goto out;
    }
    if (action) publish(action, res, 0);
    if (status == 204) {
        rc = http_send_no_content(r);
        goto out;
    }
    cJSON *o = sub_json(res, 0);
    if (o && key) cJSON_AddStringToObject(o, "key", key); /* shown once, never stored */
    rc = http_send_json_take(r, status, o);
out:
    db_result_free(res);
    return rc;
}

/* ---- list --------------------------------------------------------------- */

struct list_query {
    struct strbuf where; /* " WHERE ..." without the status filter */
    struct db_param params[8];
    int n;
    char status[16];
};

static void lq_add(struct list_query *q, const char *pre, struct db_param p)
{
    q->params[q->n++] = p;
    strbuf_printf(&q->where, "%s$%d", pre, q->n);
}

/* Reads one optional UUID filter; 0, or the status of the 400 sent. */
static int uuid_filter(struct req *r, const char *name, char out[CRYPTO_UUID_LEN + 1])
{
    char raw[64];
    out[0] = '\0';
    int n = http_query_param(r, name, 0, raw, sizeof raw);
    if (n == -1) return 0;
    if (n < 0 || !applications_uuid(raw, out))
        return http_send_error(r, 400, "invalid_parameter", "%s: must be a UUID", name);
    return 0;
}

int subscriptions_handle_list(struct req *r)
{
    long page, page_size;
    char scope[16], status[16], api_id[CRYPTO_UUID_LEN + 1], app_id[CRYPTO_UUID_LEN + 1];
    struct list_query q;
    struct db_result *rows = NULL, *counts = NULL;
    char *sql = NULL, *csql = NULL;
    cJSON *out = NULL;
    memset(&q, 0, sizeof q);
    strbuf_init(&q.where, 1024);
    int rc = require_caller(r);
    if (rc) goto out;
    if (http_paging(r, &page, &page_size) != 0) {
        rc = r->status;
        goto out;
    }
    int n = http_query_param(r, "scope", 0, scope, sizeof scope);
    if (n == -1) util_copy(scope, sizeof scope, "mine");
    if (n < -1 || (strcmp(scope, "mine") != 0 && strcmp(scope, "manage") != 0)) {
        rc = http_send_error(r, 400, "invalid_parameter", "scope: must be mine or manage");
        goto out;
    }
    n = http_query_param(r, "status", 0, status, sizeof status);
    if (n == -1) status[0] = '\0';
    if (n < -1 || (n >= 0 && strcmp(status, "pending") != 0 && strcmp(status, "active") != 0 &&
                   strcmp(status, "rejected") != 0 && strcmp(status, "revoked") != 0 &&
                   strcmp(status, "cancelled") != 0)) {
        rc = http_send_error(r, 400, "invalid_parameter",
                             "status: must be pending, active, rejected, revoked or cancelled");
        goto out;
    }
    if ((rc = uuid_filter(r, "api_id", api_id)) != 0 ||
        (rc = uuid_filter(r, "application_id", app_id)) != 0)
        goto out;

    bool manage = strcmp(scope, "manage") == 0;
    bool all = rbac_allows(r->principal.role, PERM_ALL_TENANTS);
    if (manage && !all && !rbac_allows(r->principal.role, PERM_CATALOG_WRITE)) {
        rc = http_send_error(r, 403, "forbidden", "your role (%s) may not manage subscriptions",
                             rbac_role_name(r->principal.role));
        goto out;
    }
    if (!manage) {
        lq_add(&q, " WHERE ap.owner_subject = ", DBP_TEXT(r->principal.subject));
        lq_add(&q, " AND ap.tenant_id = ", DBP_TEXT(r->principal.tenant_id));
    } else if (!all) {
        lq_add(&q, " WHERE a.tenant_id = ", DBP_TEXT(r->principal.tenant_id));
    } else {
        strbuf_puts(&q.where, " WHERE 1 = 1");
    }
    if (api_id[0]) lq_add(&q, " AND s.api_id = ", DBP_TEXT(api_id));
    if (app_id[0]) lq_add(&q, " AND s.application_id = ", DBP_TEXT(app_id));
    int nbase = q.n;
    struct strbuf b;
    strbuf_init(&b, 4096);
    strbuf_printf(&b, "SELECT s.status, COUNT(*)%s%s GROUP BY s.status", SUB_FROM,
                  q.where.data ? q.where.data : "");
    csql = strbuf_take(&b);
    if (status[0]) lq_add(&q, " AND s.status = ", DBP_TEXT(status));
    q.params[q.n++] = DBP_INT(page_size);
    q.params[q.n++] = DBP_INT((int64_t)(page - 1) * page_size);
    strbuf_init(&b, 4096);
    strbuf_printf(&b,
                  "%s%s ORDER BY CASE WHEN s.status = 'pending' THEN 0 ELSE 1 END, "
                  "s.created_at DESC, s.id LIMIT $%d OFFSET $%d",
                  SUB_SELECT, q.where.data ? q.where.data : "", q.n - 1, q.n);
    sql = strbuf_take(&b);
    if (!sql || !csql) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    struct db *db = db_thread();
    enum db_err e = db_query(db, sql, q.params, q.n, &rows);
    if (e == DB_OK) e = db_query(db, csql, q.params, nbase, &counts);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    out = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(out, "items");
    for (size_t i = 0; i < db_rows(rows); i++) cJSON_AddItemToArray(items, sub_json(rows, i));
    static const char *const states[] = {"pending", "active", "rejected", "revoked", "cancelled"};
    cJSON *co = cJSON_CreateObject();
    int64_t total = 0;
    for (size_t k = 0; k < sizeof states / sizeof states[0]; k++) {
        int64_t c = 0;
        for (size_t i = 0; i < db_rows(counts); i++)
            if (strcmp(db_get(counts, i, 0), states[k]) == 0) c = db_get_int(counts, i, 1);
        cJSON_AddNumberToObject(co, states[k], (double)c);
        if (!status[0] || strcmp(status, states[k]) == 0) total += c;
    }
    json_add_paging(out, total, page, page_size);
    cJSON_AddItemToObject(out, "counts", co);
    rc = http_send_json_take(r, 200, out);
    out = NULL;
out:
    strbuf_cleanup(&q.where);
    free(sql);
    free(csql);
    db_result_free(rows);
    db_result_free(counts);
    cJSON_Delete(out);
    return rc;
}

/* ---- create ------------------------------------------------------------- */

/* Picks the plan for a create: the named one (or the only one) of `plans`,
 * or the default plan when the API has none. Sends 400 and returns its
 * status, or 0 with *name (pointing into plans or static) and *rpm (-1 =
 * no limit). */
static int pick_plan(struct req *r, const cJSON *plans, const char *want, const char **name,
                     int64_t *rpm)
{
    int count = cJSON_GetArraySize(plans);
    if (count == 0) {
        if (want && strcmp(want, SUBSCRIPTIONS_DEFAULT_PLAN) != 0)
            return http_send_error(r, 400, "invalid_field",
                                   "plan: this API has only the default plan");
        *name = SUBSCRIPTIONS_DEFAULT_PLAN;
        *rpm = -1;
        return 0;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, plans)
    {
        const cJSON *pn = cJSON_GetObjectItemCaseSensitive(p, "name");
        const cJSON *pr = cJSON_GetObjectItemCaseSensitive(p, "requests_per_minute");
        if (!cJSON_IsString(pn) || !cJSON_IsNumber(pr)) continue;
        if ((want && strcmp(want, pn->valuestring) == 0) || (!want && count == 1)) {
            *name = pn->valuestring;
            *rpm = (int64_t)pr->valuedouble;
            return 0;
        }
    }
    struct strbuf b;
    strbuf_init(&b, 2048);
    cJSON_ArrayForEach(p, plans)
    {
        const cJSON *pn = cJSON_GetObjectItemCaseSensitive(p, "name");
        if (cJSON_IsString(pn)) strbuf_printf(&b, "%s%s", b.len ? ", " : "", pn->valuestring);
    }
    char *names = strbuf_take(&b);
    int rc = http_send_error(r, 400, "invalid_field", "plan: %s one of %s",
                             want ? "must be" : "is required:", names ? names : "the API's plans");
    free(names);
    return rc;
}

int subscriptions_handle_create(struct req *r)
{
    int rc = require_caller(r);
    if (rc) return rc;
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    struct catalog_ref api;
    struct db_result *app = NULL, *live = NULL;
    cJSON *plans = NULL;
    memset(&api, 0, sizeof api);
    char err[JSON_ERR_MAX], app_id[CRYPTO_UUID_LEN + 1], api_id[CRYPTO_UUID_LEN + 1];
    const char *app_s = NULL, *api_s = NULL, *plan_s = NULL;
    struct db *db = db_thread();
    if (json_only_keys(body, "application_id|api_id|plan", err) != 0 ||
        json_string(body, "application_id", 1, 64, true, &app_s, err) != 0 ||
        json_string(body, "api_id", 1, 64, true, &api_s, err) != 0 ||
        json_string(body, "plan", 1, SUB_PLAN_NAME_MAX, false, &plan_s, err) < 0) {
        rc = http_send_error(r, 400, "invalid_field", "%s", err);
        goto out;
    }
    /* Someone else's application, like a missing one, is 404. */
    enum db_err e = DB_OK;
    if (applications_uuid(app_s, app_id))
        e = db_query(db, SQL_APP, DB_ARGS(DBP_TEXT(app_id)), &app);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (db_rows(app) != 1 || !applications_owned_by(r, db_get(app, 0, 1), db_get(app, 0, 2))) {
        rc = http_send_error(r, 404, "not_found", "no such application");
        goto out;
    }
    bool visible = false;
    if (applications_uuid(api_s, api_id))
        e = (enum db_err)catalog_portal_ref(r, api_id, &api, &visible);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (!visible) {
        rc = http_send_error(r, 404, "not_found", "no such API");
        goto out;
    }
    if (strcmp(api.subscription, "closed") == 0) {
        rc = http_send_error(r, 403, "subscriptions_closed",
                             "this API does not take new subscriptions");
        goto out;
    }
    plans = json_parse(api.plans_json, strlen(api.plans_json));
    const char *plan = NULL;
    int64_t rpm = -1;
    if ((rc = pick_plan(r, plans, plan_s, &plan, &rpm)) != 0) goto out;
    e = db_query(db, SQL_LIVE, DB_ARGS(DBP_TEXT(app_id), DBP_TEXT(api_id)), &live);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (db_rows(live) > 0) {
        rc = http_send_error(r, 409, "conflict",
                             "application \"%s\" already has a %s subscription to this API (%s); "
                             "cancel it first",
                             db_get(app, 0, 3), db_get(live, 0, 1), db_get(live, 0, 0));
        goto out;
    }
    bool active = strcmp(api.subscription, "auto") == 0;
    char id[CRYPTO_UUID_LEN + 1], key[APIKEYS_KEY_MAX], prefix[APIKEYS_PREFIX_MAX];
    char hash[CRYPTO_SHA256_HEX_LEN + 1];
    if (crypto_uuid(id) != 0 || (active && apikeys_mint("sk", key, prefix, hash) != 0)) {
        rc = http_send_error(r, 500, "internal", "internal error (request %s)", r->request_id);
        goto out;
    }
    int64_t now = util_now_ms();
    e = write_bumped(
        db, SQL_INSERT,
        DB_ARGS(DBP_TEXT(id), DBP_TEXT(app_id), DBP_TEXT(api_id), DBP_TEXT(plan),
                rpm < 0 ? DBP_NULL : DBP_INT(rpm), DBP_TEXT(active ? "active" : "pending"),
                active ? DBP_TEXT(prefix) : DBP_NULL, active ? DBP_TEXT(hash) : DBP_NULL,
                active ? DBP_INT(now) : DBP_NULL, DBP_TEXT(r->principal.subject), DBP_INT(now),
                active ? DBP_INT(now) : DBP_NULL),
        NULL);
    if (e == DB_ERR_CONSTRAINT) {
        rc = http_send_error(r, 409, "conflict",
                             "application \"%s\" already has a subscription to this API",
                             db_get(app, 0, 3));
        goto out;
    }
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    log_info("subscription %s (%s) of application %s to API %s by %s", id,
             active ? "active" : "pending", app_id, api_id, r->principal.subject);
    rc = send_sub(r, id, 201, active ? "created" : "requested", active ? key : NULL);
out:
    free(api.plans_json);
    cJSON_Delete(plans);
    db_result_free(app);
    db_result_free(live);
    cJSON_Delete(body);
    return rc;
}

/* ---- read and transitions ------------------------------------------------ */

int subscriptions_handle_get(struct req *r)
{
    struct db_result *res = NULL;
    bool owner = false, manager = false;
    int rc = load_visible(r, &res, &owner, &manager);
    if (rc) return rc;
    rc = http_send_json_take(r, 200, sub_json(res, 0));
    db_result_free(res);
    return rc;
}

enum who { WHO_OWNER, WHO_MANAGER };

/* A state change: who may make it, from which state, with what SQL. */
struct transition {
    const char *action; /* event suffix and log word */
    enum who who;
    const char *from;   /* human list of states it applies to */
    const char *sql;    /* $1 id, $2 now, then $3 decided_by, $4 reason */
    int nargs;          /* how many of those the SQL uses */
    bool reason;        /* reads {reason} from the body */
    bool reason_needed; /* ... and it is required */
    bool no_content;    /* answers 204 (DELETE) instead of the subscription */
};

static const struct transition T_APPROVE = {"approved", WHO_MANAGER, "pending", SQL_APPROVE,
                                            3,          false,       false,     false};
static const struct transition T_REJECT = {"rejected", WHO_MANAGER, "pending", SQL_REJECT,
                                           4,          true,        true,      false};
static const struct transition T_REVOKE = {"revoked", WHO_MANAGER, "active", SQL_REVOKE,
                                           4,         true,        false,    false};
static const struct transition T_CANCEL = {
    "cancelled", WHO_OWNER, "not yet cancelled", SQL_CANCEL, 2, false, false, true};

/* Reads the optional/required {reason}; 0 with *reason ("" when absent), or
 * the status of the 400 sent. *body_out receives the parsed body to free. */
static int read_reason(struct req *r, const struct transition *t, cJSON **body_out,
                       const char **reason)
{
    char err[JSON_ERR_MAX];
    *reason = "";
    *body_out = NULL;
    if (!t->reason) return 0;
    if (r->body_len == 0 && !t->reason_needed) return 0;
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    *body_out = body;
    if (json_only_keys(body, "reason", err) != 0 ||
        json_string(body, "reason", 1, SUB_REASON_MAX, t->reason_needed, reason, err) < 0)
        return http_send_error(r, 400, "invalid_field", "%s", err);
    if (util_has_control(*reason, true))
        return http_send_error(r, 400, "invalid_field",
                               "reason: must not contain control characters");
    return 0;
}

/* 403 for a caller who sees the subscription but may not make change t. */
static int check_who(struct req *r, const struct transition *t, bool owner, bool manager,
                     const char *verb)
{
    if (t->who == WHO_MANAGER && !manager)
        return http_send_error(r, 403, "forbidden",
                               "only an administrator of the API's tenant may %s a subscription",
                               verb);
    if (t->who == WHO_OWNER && !owner)
        return http_send_error(r, 403, "forbidden",
                               "only the application's owner may %s its subscription", verb);
    return 0;
}

static int send_invalid_state(struct req *r, const char *verb, const char *status, const char *from)
{
    return http_send_error(r, 409, "invalid_state",
                           "the subscription is %s; only a %s one can be %s", status, from, verb);
}

static int run_transition(struct req *r, const struct transition *t, const char *verb)
{
    struct db_result *res = NULL;
    cJSON *body = NULL;
    const char *reason = "";
    bool owner = false, manager = false;
    int rc = load_visible(r, &res, &owner, &manager);
    if (rc) return rc;
    if ((rc = check_who(r, t, owner, manager, verb)) != 0) goto out;
    if ((rc = read_reason(r, t, &body, &reason)) != 0) goto out;
    const char *id = db_get(res, 0, S_ID);
    long affected = 0;
    const struct db_param args[] = {DBP_TEXT(id), DBP_INT(util_now_ms()),
                                    DBP_TEXT(r->principal.subject), DBP_TEXT(reason)};
    enum db_err e = write_bumped(db_thread(), t->sql, args, t->nargs, &affected);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (affected == 0) {
        rc = send_invalid_state(r, t->action, db_get(res, 0, S_STATUS), t->from);
        goto out;
    }
    log_info("subscription %s %s by %s", id, t->action, r->principal.subject);
    rc = send_sub(r, id, t->no_content ? 204 : 200, t->action, NULL);
out:
    db_result_free(res);
    cJSON_Delete(body);
    return rc;
}

int subscriptions_handle_approve(struct req *r)
{
    return run_transition(r, &T_APPROVE, "approve");
}

int subscriptions_handle_reject(struct req *r)
{
    return run_transition(r, &T_REJECT, "reject");
}

int subscriptions_handle_revoke(struct req *r)
{
    return run_transition(r, &T_REVOKE, "revoke");
}

int subscriptions_handle_cancel(struct req *r)
{
    return run_transition(r, &T_CANCEL, "cancel");
}

int subscriptions_handle_regenerate_key(struct req *r)
{
    struct db_result *res = NULL;
    bool owner = false, manager = false;
    int rc = load_visible(r, &res, &owner, &manager);
    if (rc) return rc;
    if (!owner) {
        rc = http_send_error(r, 403, "forbidden",
                             "only the application's owner may get a subscription key");
        goto out;
    }
    const char *id = db_get(res, 0, S_ID);
    char key[APIKEYS_KEY_MAX];
    long affected = 0;
    enum db_err e = set_new_key(db_thread(), id, key, &affected);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (affected == 0) {
        rc = send_invalid_state(r, "given a key", db_get(res, 0, S_STATUS), "active");
        goto out;
    }
    log_info("subscription %s key regenerated by %s", id, r->principal.subject);
    rc = send_sub(r, id, 200, "key_regenerated", key);
out:
    db_result_free(res);
    return rc;
}

int subscriptions_cancel_application(struct req *r, struct db *db, const char *app_id)
{
    struct db_result *res = NULL, *after = NULL;
    (void)r;
    enum db_err e = db_query(db, SQL_APP_LIVE, DB_ARGS(DBP_TEXT(app_id)), &res);
    for (size_t i = 0; e == DB_OK && i < db_rows(res); i++) {
        const char *id = db_get(res, i, S_ID);
        e = write_bumped(db, SQL_CANCEL, DB_ARGS(DBP_TEXT(id), DBP_INT(util_now_ms())), NULL);
        if (e == DB_OK) e = load_row(db, id, &after);
        if (e == DB_OK && db_rows(after) == 1) publish("cancelled", after, 0);
        db_result_free(after);
        after = NULL;
    }
    db_result_free(res);
    return (int)e;
}

void subscriptions_sync_plans(struct db *db, const char *api_id, const cJSON *plans)
{
    const cJSON *p;
    cJSON_ArrayForEach(p, plans)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
        const cJSON *rpm = cJSON_GetObjectItemCaseSensitive(p, "requests_per_minute");
        if (!cJSON_IsString(name) || !cJSON_IsNumber(rpm)) continue;
        long changed = 0;
        enum db_err e =
            write_bumped(db, SQL_SYNC_PLAN,
                         DB_ARGS(DBP_TEXT(api_id), DBP_TEXT(name->valuestring),
                                 DBP_INT((int64_t)rpm->valuedouble), DBP_INT(util_now_ms())),
                         &changed);
        if (e != DB_OK)
            log_warn("subscriptions: cannot apply plan %s of API %s: %s", name->valuestring, api_id,
                     db_err_name(e));
        else if (changed > 0)
            log_info("subscriptions: plan %s of API %s now %lld requests/min for %ld subscriptions",
                     name->valuestring, api_id, (long long)rpm->valuedouble, changed);
    }
}

/* ---- the gateway contract ------------------------------------------------ */

int subscriptions_gateway_config(struct db *db, struct req *r, const char *gateway_id,
                                 cJSON *config)
{
    struct db_result *tag = NULL, *res = NULL;
    /* The etag first: a change after it makes the list newer than the etag,
     * never older, so the gateway at worst fetches once more. */
    enum db_err e = db_query(db, SQL_ETAG, DB_ARGS(DBP_TEXT(gateway_id)), &tag);
    if (e != DB_OK) goto out;
    if (db_rows(tag) != 1 || db_is_null(tag, 0, 0)) {
        e = DB_ERR_INTERNAL;
        goto out;
    }
    char basis[256], digest[CRYPTO_SHA256_HEX_LEN + 1], etag[SUB_ETAG_HEX + 1];
    char want[SUB_ETAG_HEX + 8];
    int bn = snprintf(basis, sizeof basis, "subs1|%s|%s|%s|%s|%s", gateway_id, db_get(tag, 0, 0),
                      db_get(tag, 0, 1), db_get(tag, 0, 2), db_get(tag, 0, 3));
    if (bn < 0 || (size_t)bn >= sizeof basis) {
        e = DB_ERR_INTERNAL;
        goto out;
    }
    crypto_sha256_hex(basis, (size_t)bn, digest);
    memcpy(etag, digest, SUB_ETAG_HEX);
    etag[SUB_ETAG_HEX] = '\0';
    if (http_query_param(r, "subscriptions_etag", 0, want, sizeof want) == SUB_ETAG_HEX &&
        crypto_streq(want, etag)) {
        cJSON_AddStringToObject(config, "subscriptions_etag", etag);
        cJSON_AddBoolToObject(config, "subscriptions_unchanged", true);
        goto out;
    }
    e = db_query(db, SQL_GATEWAY, DB_ARGS(DBP_TEXT(gateway_id), DBP_INT(SUB_CONFIG_MAX + 1)), &res);
    if (e != DB_OK) goto out;
    size_t n = db_rows(res);
    bool truncated = n > SUB_CONFIG_MAX;
    if (truncated) n = SUB_CONFIG_MAX;
    /* Written as JSON text and added raw: ten thousand entries would
     * otherwise be sixty thousand cJSON nodes built and printed per poll. */
    struct strbuf b;
    strbuf_init(&b, (size_t)SUB_CONFIG_MAX * 320 + 16);
    strbuf_puts(&b, "[");
    for (size_t i = 0; i < n; i++) {
        strbuf_puts(&b, i ? ",{\"subscription_id\":" : "{\"subscription_id\":");
        json_strbuf_string(&b, db_get(res, i, 0));
        strbuf_puts(&b, ",\"api_id\":");
        json_strbuf_string(&b, db_get(res, i, 1));
        strbuf_puts(&b, ",\"plan\":");
        json_strbuf_string(&b, db_get(res, i, 2));
        if (db_is_null(res, i, 3))
            strbuf_puts(&b, ",\"requests_per_minute\":null");
        else
            strbuf_printf(&b, ",\"requests_per_minute\":%lld", (long long)db_get_int(res, i, 3));
        strbuf_puts(&b, ",\"key_sha256\":");
        json_strbuf_string(&b, db_get(res, i, 4));
        strbuf_puts(&b, "}");
    }
    strbuf_puts(&b, "]");
    char *text = strbuf_take(&b);
    cJSON *arr = text ? cJSON_CreateRaw(text) : NULL;
    free(text);
    if (!arr) {
        e = DB_ERR_INTERNAL;
        goto out;
    }
    cJSON_AddStringToObject(config, "subscriptions_etag", etag);
    cJSON_AddBoolToObject(config, "subscriptions_unchanged", false);
    cJSON_AddItemToObject(config, "subscriptions", arr);
    if (truncated) cJSON_AddBoolToObject(config, "subscriptions_truncated", true);
out:
    db_result_free(tag);
    db_result_free(res);
    return (int)e;
}
