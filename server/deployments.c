/*
 * deployments.c — deploying catalog APIs to gateways and keeping them in
 * sync.
 *
 * A deployment is one API version assigned to one gateway; "deploy to an
 * environment" (POST {api_id, environment}) stores a target and creates a
 * deployment for every visible gateway of that environment now, and for
 * every gateway of it that polls its config later.
 *
 * Sync: each deployment carries the content hash the gateway must apply
 * (expected_hash: SHA-256 over the API's name, version, base path, servers
 * and OpenAPI document). The gateway reads unsynced deployments from its
 * config poll and acknowledges each with
 * POST /v1/internal/gateways/{id}/deployments/{deployment_id}/status
 * {status: synced|error, applied_hash, message}. The rules:
 *   * → synced   a report whose applied_hash equals the expected hash
 *   * → drifted  a report whose applied_hash differs, or (synced only) the
 *                API changed after sync, so the expected hash moved on
 *   * → error    a report with status error (message kept in last_error)
 *   * → syncing  POST /v1/deployments/{id}/sync, until the gateway reports
 * Only synced deployments are left out of config polls. API edits are found
 * by comparing apis.updated_at with the deployment's api_updated_at
 * (reconcile), on every read, config poll and health-worker pass; so drift
 * after an edit shows without anyone asking.
 *
 * Every status change is one conditional UPDATE (on the status it was read
 * with) plus a deployment_events row in one transaction, then a
 * deployment.status event on the gateway event stream: two replicas or two
 * reports never record one change twice.
 *
 * Reading needs a signed-in caller (never anonymous) that could read the
 * API in the catalog: the management view (PERM_CATALOG_READ, own tenant or
 * all) or, for readers without it, the portal's rule (published or
 * deprecated and portal-visible); drafts stay invisible to viewers exactly
 * as in the catalog. Everything is tenant-scoped: callers without
 * PERM_ALL_TENANTS see and touch only their tenant's deployments (others'
 * are answered as not found).
 *
 * Threading: stateless; database access through the caller's db (handlers
 * use db_thread()).
 */
#include "portico/deployments.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/events.h"
#include "portico/http.h"
#include "portico/json.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/rbac.h"
#include "portico/tenant.h"
#include "portico/util.h"

#define DEP_COLS                                                                                   \
    "d.id, d.api_id, a.name, a.version, d.gateway_id, g.name, g.environment, d.tenant_id, "        \
    "d.desired_state, d.sync_status, d.sync_attempts, d.last_error, d.expected_hash, "             \
    "d.applied_hash, d.environment, d.last_reported_at, d.synced_at, d.created_at, d.updated_at"
#define DEP_FROM                                                                                   \
    " FROM deployments d JOIN apis a ON a.id = d.api_id JOIN gateways g ON g.id = d.gateway_id"

enum {
    D_ID,
    D_API,
    D_API_NAME,
    D_API_VERSION,
    D_GW,
    D_GW_NAME,
    D_GW_ENV,
    D_TENANT,
    D_DESIRED,
    D_STATUS,
    D_ATTEMPTS,
    D_ERROR,
    D_EXPECTED,
    D_APPLIED,
    D_TARGET_ENV,
    D_REPORTED,
    D_SYNCED,
    D_CREATED,
    D_UPDATED,
};

static const char *const STATUSES[] = {"pending", "syncing", "synced", "drifted", "error"};
#define STATUS_COUNT (sizeof STATUSES / sizeof STATUSES[0])

static bool signed_in(const struct req *r)
{
    return r->principal.type != AUTH_ANONYMOUS && r->principal.type != AUTH_NONE;
}

static void add_time_or_null(cJSON *o, const char *key, const struct db_result *res, size_t row,
                             int col)
{
    json_add_time(o, key, db_is_null(res, row, col) ? -1 : db_get_int(res, row, col));
}

/* One deployment row as JSON; caller frees with cJSON_Delete. */
static cJSON *item_from_row(const struct db_result *res, size_t row)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "id", db_get(res, row, D_ID));
    cJSON_AddStringToObject(o, "api_id", db_get(res, row, D_API));
    cJSON_AddStringToObject(o, "api_name", db_get(res, row, D_API_NAME));
    cJSON_AddStringToObject(o, "api_version", db_get(res, row, D_API_VERSION));
    cJSON_AddStringToObject(o, "gateway_id", db_get(res, row, D_GW));
    cJSON_AddStringToObject(o, "gateway_name", db_get(res, row, D_GW_NAME));
    cJSON_AddStringToObject(o, "environment", db_get(res, row, D_GW_ENV));
    json_add_str_or_null(o, "target_environment", db_get(res, row, D_TARGET_ENV));
    cJSON_AddStringToObject(o, "tenant_id", db_get(res, row, D_TENANT));
    cJSON_AddStringToObject(o, "desired_state", db_get(res, row, D_DESIRED));
    cJSON_AddStringToObject(o, "sync_status", db_get(res, row, D_STATUS));
    cJSON_AddNumberToObject(o, "sync_attempts", (double)db_get_int(res, row, D_ATTEMPTS));
    json_add_str_or_null(o, "last_error", db_get(res, row, D_ERROR));
    cJSON_AddStringToObject(o, "expected_hash", db_get(res, row, D_EXPECTED));
    json_add_str_or_null(o, "applied_hash", db_get(res, row, D_APPLIED));
    add_time_or_null(o, "last_reported_at", res, row, D_REPORTED);
    add_time_or_null(o, "synced_at", res, row, D_SYNCED);
    json_add_time(o, "created_at", db_get_int(res, row, D_CREATED));
    json_add_time(o, "updated_at", db_get_int(res, row, D_UPDATED));
    return o;
}

static void lower_uuid(const char *in, char out[CRYPTO_UUID_LEN + 1])
{
    for (int i = 0; i <= CRYPTO_UUID_LEN; i++)
        out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32) : in[i];
}

/* The nth {capture} as a lower-cased UUID; false when it is not one. */
static bool uuid_param(const struct req *r, int nth, char out[CRYPTO_UUID_LEN + 1])
{
    if (r->nparams <= nth || !crypto_is_uuid(r->params[nth])) return false;
    lower_uuid(r->params[nth], out);
    return true;
}

/* Appends the caller's visibility to a WHERE clause over d (deployments) and
 * a (apis): tenant scope, and the catalog rule for callers that cannot read
 * the management catalog. */
static void visibility_where(struct strbuf *w, struct db_param *params, int *np,
                             const struct req *r)
{
    if (!tenant_all(&r->principal)) {
        params[*np] = DBP_TEXT(r->principal.tenant_id);
        strbuf_printf(w, " AND d.tenant_id = $%d", ++*np);
    }
    if (!rbac_allows(r->principal.role, PERM_CATALOG_READ))
        strbuf_puts(w, " AND a.status IN ('published', 'deprecated') AND a.portal_visible = 1");
}

/* ---- content hashes and status changes ------------------------------------ */

void deployments_content_hash(const char *name, const char *version, const char *base_path,
                              const char *servers_json, const char *openapi,
                              char out[DEPLOY_CONTENT_HASH_LEN + 1])
{
    /* The hash of the fields' own hashes: no two contents share an encoding,
     * and a large OpenAPI document is not copied. */
    const char *fields[] = {name, version, base_path, servers_json, openapi};
    char hex[CRYPTO_SHA256_HEX_LEN + 1], all[5 * (CRYPTO_SHA256_HEX_LEN + 1) + 1];
    size_t used = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *f = fields[i] ? fields[i] : "";
        crypto_sha256_hex(f, strlen(f), all + used);
        used += CRYPTO_SHA256_HEX_LEN;
        all[used++] = '\n';
    }
    all[used] = '\0';
    crypto_sha256_hex(all, used, hex);
    snprintf(out, DEPLOY_CONTENT_HASH_LEN + 1, "sha256:%s", hex);
}

/* One status change to record: the deployment, the statuses and why. */
struct change {
    const char *id, *tenant, *api_id, *gateway_id;
    const char *from; /* NULL when the deployment was just created */
    const char *to;
    const char *expected, *applied, *message, *actor;
    int64_t at;
};

static const char SQL_HISTORY_INSERT[] =
    "INSERT INTO deployment_events (deployment_id, from_status, to_status, expected_hash, "
    "applied_hash, message, actor, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

static bool status_changes(const struct change *c)
{
    return !c->from || strcmp(c->from, c->to) != 0;
}

static void publish_change(const struct change *c)
{
    log_info("deployment %s: %s -> %s (%s)", c->id, c->from ? c->from : "new", c->to, c->message);
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "id", c->id);
    cJSON_AddStringToObject(ev, "api_id", c->api_id);
    cJSON_AddStringToObject(ev, "gateway_id", c->gateway_id);
    cJSON_AddStringToObject(ev, "tenant_id", c->tenant);
    json_add_str_or_null(ev, "from", c->from);
    cJSON_AddStringToObject(ev, "to", c->to);
    json_add_time(ev, "at", c->at);
    char *text = json_print(ev);
    if (text) events_publish_tenant("deployment.status", c->tenant, text);
    free(text);
    cJSON_Delete(ev);
}

/* Runs `sql` (an UPDATE or INSERT conditional on what the change was read
 * with) and, when it touched one row and the status changes, records the
 * history row in the same transaction; then publishes the event. *changed
 * is the row count. */
static enum db_err commit_change(struct db *db, const char *sql, const struct db_param *params,
                                 int n, const struct change *c, long *changed)
{
    long rows = 0;
    enum db_err e = db_begin(db);
    if (e != DB_OK) return e;
    e = db_exec(db, sql, params, n, &rows);
    if (e == DB_OK && rows == 1 && status_changes(c))
        e = db_exec(db, SQL_HISTORY_INSERT,
                    DB_ARGS(DBP_TEXT(c->id), c->from ? DBP_TEXT(c->from) : DBP_NULL,
                            DBP_TEXT(c->to), DBP_TEXT(c->expected),
                            c->applied ? DBP_TEXT(c->applied) : DBP_NULL, DBP_TEXT(c->message),
                            DBP_TEXT(c->actor), DBP_INT(c->at)),
                    NULL);
    if (e == DB_OK) e = db_commit(db);
    if (e != DB_OK) {
        db_rollback(db);
        return e;
    }
    if (rows == 1 && status_changes(c)) publish_change(c);
    *changed = rows;
    return DB_OK;
}

/* ---- reconcile: API edits move the expected hash --------------------------- */

#define STALE_COLS                                                                                 \
    "SELECT d.id, d.sync_status, d.expected_hash, a.updated_at, a.name, a.version, a.base_path, "  \
    "a.servers_json, a.openapi, d.api_updated_at, d.gateway_id, d.tenant_id, d.api_id "            \
    "FROM deployments d JOIN apis a ON a.id = d.api_id WHERE d.api_updated_at <> a.updated_at"
static const char SQL_STALE_ALL[] = STALE_COLS " LIMIT $1";
static const char SQL_STALE_GATEWAY[] = STALE_COLS " AND d.gateway_id = $2 LIMIT $1";
static const char SQL_STALE_ONE[] = STALE_COLS " AND d.id = $2 LIMIT $1";
static const char SQL_SAME_HASH[] =
    "UPDATE deployments SET api_updated_at = $2 WHERE id = $1 AND api_updated_at = $3";
static const char SQL_NEW_HASH[] =
    "UPDATE deployments SET expected_hash = $2, api_updated_at = $3, sync_status = $4, "
    "updated_at = $5 WHERE id = $1 AND api_updated_at = $6 AND sync_status = $7";

enum reconcile_scope { RECONCILE_ALL, RECONCILE_GATEWAY, RECONCILE_ONE };

static enum db_err reconcile(struct db *db, enum reconcile_scope scope, const char *key)
{
    struct db_result *res = NULL;
    enum db_err e;
    if (scope == RECONCILE_ALL)
        e = db_query(db, SQL_STALE_ALL, DB_ARGS(DBP_INT(DEPLOY_RECONCILE_BATCH)), &res);
    else
        e = db_query(db, scope == RECONCILE_GATEWAY ? SQL_STALE_GATEWAY : SQL_STALE_ONE,
                     DB_ARGS(DBP_INT(DEPLOY_RECONCILE_BATCH), DBP_TEXT(key)), &res);
    int64_t now = util_now_ms();
    for (size_t i = 0; e == DB_OK && i < db_rows(res); i++) {
        char hash[DEPLOY_CONTENT_HASH_LEN + 1];
        deployments_content_hash(db_get(res, i, 4), db_get(res, i, 5), db_get(res, i, 6),
                                 db_get(res, i, 7), db_get(res, i, 8), hash);
        const char *id = db_get(res, i, 0), *status = db_get(res, i, 1), *old = db_get(res, i, 2);
        int64_t api_at = db_get_int(res, i, 3), seen_at = db_get_int(res, i, 9);
        long changed = 0;
        if (strcmp(hash, old) == 0) {
            e = db_exec(db, SQL_SAME_HASH, DB_ARGS(DBP_TEXT(id), DBP_INT(api_at), DBP_INT(seen_at)),
                        NULL);
            continue;
        }
        /* An empty old hash predates hashing (migration 009): adopt it quietly. */
        bool drift = old[0] && strcmp(status, "synced") == 0;
        char msg[160];
        snprintf(msg, sizeof msg, "the API changed after sync; expected %.80s", hash);
        struct change c = {.id = id,
                           .tenant = db_get(res, i, 11),
                           .api_id = db_get(res, i, 12),
                           .gateway_id = db_get(res, i, 10),
                           .from = status,
                           .to = drift ? "drifted" : status,
                           .expected = hash,
                           .applied = NULL,
                           .message = msg,
                           .actor = "control-plane",
                           .at = now};
        e = commit_change(db, SQL_NEW_HASH,
                          DB_ARGS(DBP_TEXT(id), DBP_TEXT(hash), DBP_INT(api_at), DBP_TEXT(c.to),
                                  DBP_INT(now), DBP_INT(seen_at), DBP_TEXT(status)),
                          &c, &changed);
    }
    db_result_free(res);
    return e;
}

int deployments_reconcile(struct db *db)
{
    return reconcile(db, RECONCILE_ALL, NULL) == DB_OK ? 0 : -1;
}

/* ---- creating deployments -------------------------------------------------- */

static const char SQL_API_CONTENT[] =
    "SELECT tenant_id, name, version, base_path, servers_json, openapi, updated_at "
    "FROM apis WHERE id = $1";
static const char SQL_INSERT[] =
    "INSERT INTO deployments (id, api_id, gateway_id, tenant_id, desired_state, sync_status, "
    "sync_attempts, created_at, updated_at, expected_hash, api_updated_at, environment) "
    "VALUES ($1, $2, $3, $4, 'deployed', 'pending', 0, $5, $5, $6, $7, $8)";

/* Inserts one pending deployment of the API in `api` (a SQL_API_CONTENT row)
 * to a gateway, with its history row and event. DB_ERR_CONSTRAINT when the
 * API is already deployed there. id receives the new id. */
static enum db_err insert_deployment(struct db *db, const struct db_result *api, const char *api_id,
                                     const char *gateway_id, const char *environment,
                                     const char *actor, char id[CRYPTO_UUID_LEN + 1])
{
    char hash[DEPLOY_CONTENT_HASH_LEN + 1], msg[300];
    long changed = 0;
    if (crypto_uuid(id) != 0) return DB_ERR_INTERNAL;
    deployments_content_hash(db_get(api, 0, 1), db_get(api, 0, 2), db_get(api, 0, 3),
                             db_get(api, 0, 4), db_get(api, 0, 5), hash);
    if (environment)
        snprintf(msg, sizeof msg, "deployed to environment %s", environment);
    else
        snprintf(msg, sizeof msg, "deployed");
    int64_t now = util_now_ms();
    struct change c = {.id = id,
                       .tenant = db_get(api, 0, 0),
                       .api_id = api_id,
                       .gateway_id = gateway_id,
                       .from = NULL,
                       .to = "pending",
                       .expected = hash,
                       .applied = NULL,
                       .message = msg,
                       .actor = actor,
                       .at = now};
    return commit_change(db, SQL_INSERT,
                         DB_ARGS(DBP_TEXT(id), DBP_TEXT(api_id), DBP_TEXT(gateway_id),
                                 DBP_TEXT(c.tenant), DBP_INT(now), DBP_TEXT(hash),
                                 DBP_INT(db_get_int(api, 0, 6)),
                                 environment ? DBP_TEXT(environment) : DBP_NULL),
                         &c, &changed);
}

/* Gateways of an environment a deployment of a `tenant` API may go to: the
 * tenant's own and shared ones (tenant_id NULL). */
static const char SQL_ENV_GATEWAYS[] =
    "SELECT g.id FROM gateways g WHERE g.environment = $1 "
    "AND (g.tenant_id = $2 OR g.tenant_id IS NULL) "
    "AND NOT EXISTS (SELECT 1 FROM deployments d WHERE d.gateway_id = g.id AND d.api_id = $3) "
    "ORDER BY g.name, g.id LIMIT $4";
/* Targets of a gateway's environment it has no deployment for yet; $3 is
 * the gateway's tenant (the shared variant takes every tenant's). */
#define TARGETS_HEAD                                                                               \
    "SELECT t.api_id, t.created_by FROM deployment_targets t WHERE t.environment = $1 "            \
    "AND NOT EXISTS (SELECT 1 FROM deployments d WHERE d.gateway_id = $2 AND d.api_id = "          \
    "t.api_id)"
static const char SQL_GATEWAY_TARGETS[] = TARGETS_HEAD " AND t.tenant_id = $3 LIMIT $4";
static const char SQL_GATEWAY_TARGETS_SHARED[] = TARGETS_HEAD " LIMIT $3";

/* Creates the deployments environment targets owe a gateway (one that
 * registered after the target was made). */
static enum db_err materialize_targets(struct db *db, const char *gateway_id,
                                       const char *environment, const char *tenant)
{
    struct db_result *t = NULL;
    enum db_err e = tenant ? db_query(db, SQL_GATEWAY_TARGETS,
                                      DB_ARGS(DBP_TEXT(environment), DBP_TEXT(gateway_id),
                                              DBP_TEXT(tenant), DBP_INT(GATEWAY_CONFIG_ITEMS_MAX)),
                                      &t)
                           : db_query(db, SQL_GATEWAY_TARGETS_SHARED,
                                      DB_ARGS(DBP_TEXT(environment), DBP_TEXT(gateway_id),
                                              DBP_INT(GATEWAY_CONFIG_ITEMS_MAX)),
                                      &t);
    for (size_t i = 0; e == DB_OK && i < db_rows(t); i++) {
        struct db_result *api = NULL;
        char id[CRYPTO_UUID_LEN + 1];
        const char *api_id = db_get(t, i, 0);
        e = db_query(db, SQL_API_CONTENT, DB_ARGS(DBP_TEXT(api_id)), &api);
        if (e == DB_OK && db_rows(api) == 1)
            e = insert_deployment(db, api, api_id, gateway_id, environment, db_get(t, i, 1), id);
        if (e == DB_ERR_CONSTRAINT) e = DB_OK; /* another poll made it first */
        db_result_free(api);
    }
    db_result_free(t);
    return e;
}

/* ---- the gateway's side ---------------------------------------------------- */

static const char SQL_CONFIG_DEPLOYMENTS[] =
    "SELECT d.id, d.api_id, a.name, a.version, d.desired_state, d.sync_status, d.sync_attempts, "
    "d.expected_hash FROM deployments d JOIN apis a ON a.id = d.api_id "
    "WHERE d.gateway_id = $1 AND d.sync_status <> 'synced' "
    "ORDER BY d.created_at, d.id LIMIT $2";

enum db_err deployments_config(struct db *db, const char *gateway_id, const char *environment,
                               const char *tenant_id, cJSON **out)
{
    struct db_result *deps = NULL;
    enum db_err e = materialize_targets(db, gateway_id, environment, tenant_id);
    if (e == DB_OK) e = reconcile(db, RECONCILE_GATEWAY, gateway_id);
    if (e == DB_OK)
        e = db_query(db, SQL_CONFIG_DEPLOYMENTS,
                     DB_ARGS(DBP_TEXT(gateway_id), DBP_INT(GATEWAY_CONFIG_ITEMS_MAX)), &deps);
    if (e != DB_OK) {
        db_result_free(deps);
        return e;
    }
    cJSON *da = cJSON_CreateArray();
    for (size_t i = 0; da && i < db_rows(deps); i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "deployment_id", db_get(deps, i, 0));
        cJSON_AddStringToObject(d, "id", db_get(deps, i, 0));
        cJSON_AddStringToObject(d, "api_id", db_get(deps, i, 1));
        cJSON_AddStringToObject(d, "api_name", db_get(deps, i, 2));
        cJSON_AddStringToObject(d, "version", db_get(deps, i, 3));
        cJSON_AddStringToObject(d, "content_hash", db_get(deps, i, 7));
        cJSON_AddStringToObject(d, "desired_state", db_get(deps, i, 4));
        cJSON_AddStringToObject(d, "sync_status", db_get(deps, i, 5));
        cJSON_AddNumberToObject(d, "sync_attempts", (double)db_get_int(deps, i, 6));
        cJSON_AddItemToArray(da, d);
    }
    db_result_free(deps);
    if (!da) return DB_ERR_INTERNAL;
    *out = da;
    return DB_OK;
}

static const char SQL_GET[] = "SELECT " DEP_COLS DEP_FROM " WHERE d.id = $1";
static const char SQL_REPORT_GATEWAY[] = "SELECT name FROM gateways WHERE id = $1";
static const char SQL_REPORT_LOAD[] =
    "SELECT sync_status, expected_hash, tenant_id, api_id FROM deployments "
    "WHERE id = $1 AND gateway_id = $2";
static const char SQL_REPORT[] =
    "UPDATE deployments SET sync_status = $3, applied_hash = COALESCE($4, applied_hash), "
    "last_error = $5, "
    "last_reported_at = $6, updated_at = $6, synced_at = COALESCE($7, synced_at) "
    "WHERE id = $1 AND sync_status = $2 AND expected_hash = $8";

static int bad_field(struct req *r, const char *err)
{
    return http_send_error(r, 400, "invalid_field", "%s", err);
}

struct report {
    const char *status, *applied, *message;
};

/* Validates a status report; 0 or the 400 sent. */
static int parse_report(struct req *r, const cJSON *body, struct report *rep)
{
    char err[JSON_ERR_MAX];
    memset(rep, 0, sizeof *rep);
    if (json_enum(body, "status", "synced|error", true, &rep->status, err) != 0)
        return bad_field(r, err);
    bool synced = strcmp(rep->status, "synced") == 0;
    int rc = json_string(body, "applied_hash", 1, DEPLOY_HASH_MAX, synced, &rep->applied, err);
    if (rc < 0 || (synced && rc != 0)) return bad_field(r, err);
    if (rep->applied && util_has_control(rep->applied, false))
        return bad_field(r, "applied_hash: must not contain control characters");
    if (json_string(body, "message", 1, DEPLOY_MESSAGE_MAX, false, &rep->message, err) < 0)
        return bad_field(r, err);
    if (rep->message && util_has_control(rep->message, true))
        return bad_field(r, "message: must not contain control characters");
    return 0;
}

int deployments_handle_report(struct req *r)
{
    struct db *db = db_thread();
    struct db_result *gw = NULL, *cur = NULL, *row = NULL;
    char gid[CRYPTO_UUID_LEN + 1], id[CRYPTO_UUID_LEN + 1];
    struct report rep;
    int rc;
    if (!uuid_param(r, 0, gid)) return http_send_error(r, 404, "not_found", "no such gateway");
    if (!uuid_param(r, 1, id))
        return http_send_error(r, 404, "not_found", "no such deployment on this gateway");
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    if ((rc = parse_report(r, body, &rep)) != 0) goto out;
    enum db_err e = db_query(db, SQL_REPORT_GATEWAY, DB_ARGS(DBP_TEXT(gid)), &gw);
    if (e == DB_OK && db_rows(gw) != 1) {
        rc = http_send_error(r, 404, "not_found", "no such gateway");
        goto out;
    }
    if (e == DB_OK) {
        char subject[GATEWAY_NAME_MAX + 16];
        snprintf(subject, sizeof subject, "gateway:%s", db_get(gw, 0, 0));
        util_copy(r->principal.subject, sizeof r->principal.subject, subject);
        e = reconcile(db, RECONCILE_ONE, id);
    }
    long changed = 0;
    for (int attempt = 0; e == DB_OK && changed != 1 && attempt < DEPLOY_REPORT_RETRIES;
         attempt++) {
        db_result_free(cur);
        cur = NULL;
        e = db_query(db, SQL_REPORT_LOAD, DB_ARGS(DBP_TEXT(id), DBP_TEXT(gid)), &cur);
        if (e != DB_OK) break;
        if (db_rows(cur) != 1) {
            rc = http_send_error(r, 404, "not_found", "no such deployment on this gateway");
            goto out;
        }
        const char *from = db_get(cur, 0, 0), *expected = db_get(cur, 0, 1);
        bool error = strcmp(rep.status, "error") == 0;
        bool match = rep.applied && strcmp(rep.applied, expected) == 0;
        const char *to = error ? "error" : match ? "synced" : "drifted";
        char msg[DEPLOY_MESSAGE_MAX * 4 + 1];
        if (error)
            util_copy(msg, sizeof msg, rep.message ? rep.message : "the gateway reported an error");
        else if (match)
            snprintf(msg, sizeof msg, "the gateway applied %.*s", DEPLOY_HASH_MAX, rep.applied);
        else
            snprintf(msg, sizeof msg, "the gateway applied %.*s, expected %.*s", DEPLOY_HASH_MAX,
                     rep.applied, DEPLOY_HASH_MAX, expected);
        int64_t now = util_now_ms();
        struct change c = {.id = id,
                           .tenant = db_get(cur, 0, 2),
                           .api_id = db_get(cur, 0, 3),
                           .gateway_id = gid,
                           .from = from,
                           .to = to,
                           .expected = expected,
                           .applied = rep.applied,
                           .message = msg,
                           .actor = r->principal.subject,
                           .at = now};
        e = commit_change(db, SQL_REPORT,
                          DB_ARGS(DBP_TEXT(id), DBP_TEXT(from), DBP_TEXT(to),
                                  rep.applied ? DBP_TEXT(rep.applied) : DBP_NULL,
                                  error ? DBP_TEXT(msg) : DBP_NULL, DBP_INT(now),
                                  match ? DBP_INT(now) : DBP_NULL, DBP_TEXT(expected)),
                          &c, &changed);
    }
    if (e == DB_OK && changed != 1) e = DB_ERR_BUSY;
    if (e == DB_OK) e = db_query(db, SQL_GET, DB_ARGS(DBP_TEXT(id)), &row);
    if (e != DB_OK || db_rows(row) != 1) {
        rc = http_send_db_error(r, e != DB_OK ? (int)e : DB_ERR_INTERNAL);
        goto out;
    }
    rc = http_send_json_take(r, 200, item_from_row(row, 0));
out:
    cJSON_Delete(body);
    db_result_free(gw);
    db_result_free(cur);
    db_result_free(row);
    return rc;
}

/* ---- console: list and detail ---------------------------------------------- */

/* 401 for anonymous callers: deployments name APIs and gateways. */
static int require_signed_in(struct req *r)
{
    if (signed_in(r)) return 0;
    return http_send_unauthorized(r, false, "sign in to read deployments");
}

/* Reads an optional UUID filter; 0 (out "" when absent), or the 400 sent. */
static int uuid_filter(struct req *r, const char *name, char out[CRYPTO_UUID_LEN + 1])
{
    char v[HTTP_QUERY_VALUE_MAX + 1];
    int n = http_query_param(r, name, 0, v, sizeof v);
    out[0] = '\0';
    if (n == -1) return 0;
    if (n < 0 || !crypto_is_uuid(v))
        return http_send_error(r, 400, "invalid_parameter", "%s: must be a UUID", name);
    lower_uuid(v, out);
    return 0;
}

static bool known_status(const char *s)
{
    for (size_t i = 0; i < STATUS_COUNT; i++)
        if (strcmp(STATUSES[i], s) == 0) return true;
    return false;
}

int deployments_handle_list(struct req *r)
{
    struct db *db = db_thread();
    struct db_result *rows = NULL, *total = NULL, *counts = NULL;
    struct strbuf where, sql;
    struct db_param params[8];
    int np = 0, rc;
    long page, page_size;
    char api[CRYPTO_UUID_LEN + 1], gw[CRYPTO_UUID_LEN + 1], status[HTTP_QUERY_VALUE_MAX + 1];
    strbuf_init(&where, 1024);
    strbuf_init(&sql, 4096);
    if ((rc = require_signed_in(r)) != 0) goto out;
    if (http_paging(r, &page, &page_size) != 0) {
        rc = r->status;
        goto out;
    }
    if ((rc = uuid_filter(r, "api_id", api)) != 0) goto out;
    if ((rc = uuid_filter(r, "gateway_id", gw)) != 0) goto out;
    int n = http_query_param(r, "sync_status", 0, status, sizeof status);
    if (n == -1) status[0] = '\0';
    if (n == -2 || n == 0 || (n > 0 && !known_status(status))) {
        rc =
            http_send_error(r, 400, "invalid_parameter",
                            "sync_status: must be one of pending, syncing, synced, drifted, error");
        goto out;
    }
    enum db_err e = reconcile(db, RECONCILE_ALL, NULL);
    strbuf_puts(&where, " WHERE 1 = 1");
    visibility_where(&where, params, &np, r);
    if (api[0]) {
        params[np] = DBP_TEXT(api);
        strbuf_printf(&where, " AND d.api_id = $%d", ++np);
    }
    if (gw[0]) {
        params[np] = DBP_TEXT(gw);
        strbuf_printf(&where, " AND d.gateway_id = $%d", ++np);
    }
    /* Counts by status honour every filter but sync_status. */
    strbuf_printf(&sql, "SELECT d.sync_status, COUNT(*)" DEP_FROM "%s GROUP BY d.sync_status",
                  where.data);
    if (e == DB_OK)
        e = sql.failed ? DB_ERR_INTERNAL : db_query_dynamic(db, sql.data, params, np, &counts);
    if (status[0]) {
        params[np] = DBP_TEXT(status);
        strbuf_printf(&where, " AND d.sync_status = $%d", ++np);
    }
    strbuf_cleanup(&sql);
    strbuf_init(&sql, 4096);
    strbuf_printf(&sql, "SELECT COUNT(*)" DEP_FROM "%s", where.data);
    if (e == DB_OK)
        e = sql.failed ? DB_ERR_INTERNAL : db_query_dynamic(db, sql.data, params, np, &total);
    if (e == DB_OK) {
        strbuf_cleanup(&sql);
        strbuf_init(&sql, 4096);
        params[np] = DBP_INT(page_size);
        params[np + 1] = DBP_INT((page - 1) * page_size);
        strbuf_printf(&sql,
                      "SELECT " DEP_COLS DEP_FROM "%s ORDER BY d.created_at DESC, d.id "
                      "LIMIT $%d OFFSET $%d",
                      where.data, np + 1, np + 2);
        e = sql.failed ? DB_ERR_INTERNAL : db_query_dynamic(db, sql.data, params, np + 2, &rows);
    }
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < db_rows(rows); i++) cJSON_AddItemToArray(arr, item_from_row(rows, i));
    json_add_paging(o, db_get_int(total, 0, 0), page, page_size);
    cJSON *c = cJSON_AddObjectToObject(o, "counts");
    for (size_t s = 0; s < STATUS_COUNT; s++) {
        int64_t v = 0;
        for (size_t i = 0; i < db_rows(counts); i++)
            if (strcmp(db_get(counts, i, 0), STATUSES[s]) == 0) v = db_get_int(counts, i, 1);
        cJSON_AddNumberToObject(c, STATUSES[s], (double)v);
    }
    rc = http_send_json_take(r, 200, o);
out:
    strbuf_cleanup(&where);
    strbuf_cleanup(&sql);
    db_result_free(rows);
    db_result_free(total);
    db_result_free(counts);
    return rc;
}

/* Loads one deployment the caller may read into *out (NULL when none). */
static enum db_err load_visible(struct db *db, const struct req *r, const char *id,
                                struct db_result **out)
{
    struct db_param params[4];
    int np = 0;
    struct strbuf sql;
    struct db_result *res = NULL;
    strbuf_init(&sql, 4096);
    params[np] = DBP_TEXT(id);
    strbuf_printf(&sql, "SELECT " DEP_COLS DEP_FROM " WHERE d.id = $%d", ++np);
    visibility_where(&sql, params, &np, r);
    enum db_err e = sql.failed ? DB_ERR_INTERNAL : db_query_dynamic(db, sql.data, params, np, &res);
    strbuf_cleanup(&sql);
    if (e != DB_OK) return e;
    if (db_rows(res) != 1) {
        db_result_free(res);
        res = NULL;
    }
    *out = res;
    return DB_OK;
}

static const char SQL_HISTORY[] =
    "SELECT from_status, to_status, expected_hash, applied_hash, message, actor, at "
    "FROM deployment_events WHERE deployment_id = $1 ORDER BY at DESC, id DESC LIMIT $2";

int deployments_handle_get(struct req *r)
{
    struct db *db = db_thread();
    struct db_result *res = NULL, *hist = NULL;
    char id[CRYPTO_UUID_LEN + 1];
    int rc;
    if ((rc = require_signed_in(r)) != 0) return rc;
    if (!uuid_param(r, 0, id)) return http_send_error(r, 404, "not_found", "no such deployment");
    enum db_err e = reconcile(db, RECONCILE_ONE, id);
    if (e == DB_OK) e = load_visible(db, r, id, &res);
    if (e == DB_OK && res)
        e = db_query(db, SQL_HISTORY, DB_ARGS(DBP_TEXT(id), DBP_INT(DEPLOY_HISTORY_MAX)), &hist);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (!res) {
        rc = http_send_error(r, 404, "not_found", "no such deployment");
        goto out;
    }
    cJSON *o = item_from_row(res, 0);
    cJSON *arr = o ? cJSON_AddArrayToObject(o, "history") : NULL;
    for (size_t i = 0; arr && i < db_rows(hist); i++) {
        cJSON *h = cJSON_CreateObject();
        json_add_str_or_null(h, "from", db_get(hist, i, 0));
        cJSON_AddStringToObject(h, "to", db_get(hist, i, 1));
        json_add_str_or_null(h, "expected_hash", db_get(hist, i, 2));
        json_add_str_or_null(h, "applied_hash", db_get(hist, i, 3));
        cJSON_AddStringToObject(h, "message", db_get(hist, i, 4));
        cJSON_AddStringToObject(h, "actor", db_get(hist, i, 5));
        json_add_time(h, "at", db_get_int(hist, i, 6));
        cJSON_AddItemToArray(arr, h);
    }
    rc = http_send_json_take(r, 200, o);
out:
    db_result_free(res);
    db_result_free(hist);
    return rc;
}

/* ---- console: create ------------------------------------------------------- */

static const char SQL_GATEWAY_TENANT[] =
    "SELECT tenant_id, environment FROM gateways WHERE id = $1";
static const char SQL_TARGET_INSERT[] =
    "INSERT INTO deployment_targets (id, api_id, environment, tenant_id, created_by, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6)";
static const char SQL_ENV_ITEMS[] =
    "SELECT " DEP_COLS DEP_FROM " WHERE d.api_id = $1 AND g.environment = $2 "
    "ORDER BY g.name, d.id LIMIT $3";

/* Reads a UUID field; 0 ok, 1 absent (nothing sent), or the 400 sent. */
static int uuid_field(struct req *r, const cJSON *body, const char *field, bool required,
                      char out[CRYPTO_UUID_LEN + 1])
{
    char err[JSON_ERR_MAX];
    const char *v = NULL;
    int rc = json_string(body, field, 1, CRYPTO_UUID_LEN, required, &v, err);
    if (rc == 1 && !required) return 1;
    if (rc != 0) return bad_field(r, err);
    if (!crypto_is_uuid(v))
        return http_send_error(r, 400, "invalid_field", "%s: must be a UUID", field);
    lower_uuid(v, out);
    return 0;
}

/* Whether the caller may use a row of tenant t (NULL = shared gateway). */
static bool tenant_visible(const struct req *r, const char *t)
{
    return !t || tenant_all(&r->principal) || strcmp(t, r->principal.tenant_id) == 0;
}

static bool env_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return false;
    return true;
}

enum db_err deployments_add_target(struct db *db, const char *api_id, const char *environment,
                                   const char *actor)
{
    struct db_result *api = NULL;
    char tid[CRYPTO_UUID_LEN + 1];
    if (crypto_uuid(tid) != 0) return DB_ERR_INTERNAL;
    enum db_err e = db_query(db, SQL_API_CONTENT, DB_ARGS(DBP_TEXT(api_id)), &api);
    if (e == DB_OK && db_rows(api) != 1) e = DB_ERR_INTERNAL;
    if (e == DB_OK)
        e = db_exec(db, SQL_TARGET_INSERT,
                    DB_ARGS(DBP_TEXT(tid), DBP_TEXT(api_id), DBP_TEXT(environment),
                            DBP_TEXT(db_get(api, 0, 0)), DBP_TEXT(actor), DBP_INT(util_now_ms())),
                    NULL);
    db_result_free(api);
    return e;
}

/* POST {api_id, environment}: a target plus one deployment per gateway. */
static int create_for_environment(struct req *r, struct db *db, const struct db_result *api,
                                  const char *api_id, const char *env)
{
    struct db_result *gws = NULL, *items = NULL;
    char tid[CRYPTO_UUID_LEN + 1], did[CRYPTO_UUID_LEN + 1];
    int rc;
    int64_t now = util_now_ms();
    const char *tenant = db_get(api, 0, 0);
    if (crypto_uuid(tid) != 0) return http_send_error(r, 500, "internal", "cannot make an id");
    enum db_err e = db_exec(db, SQL_TARGET_INSERT,
                            DB_ARGS(DBP_TEXT(tid), DBP_TEXT(api_id), DBP_TEXT(env),
                                    DBP_TEXT(tenant), DBP_TEXT(r->principal.subject), DBP_INT(now)),
                            NULL);
    if (e == DB_ERR_CONSTRAINT) {
        rc = http_send_error(r, 409, "already_deployed",
                             "this API is already deployed to environment %s", env);
        goto out;
    }
    if (e == DB_OK)
        e = db_query(db, SQL_ENV_GATEWAYS,
                     DB_ARGS(DBP_TEXT(env), DBP_TEXT(tenant), DBP_TEXT(api_id),
                             DBP_INT(GATEWAY_CONFIG_ITEMS_MAX)),
                     &gws);
    for (size_t i = 0; e == DB_OK && i < db_rows(gws); i++) {
        e = insert_deployment(db, api, api_id, db_get(gws, i, 0), env, r->principal.subject, did);
        if (e == DB_ERR_CONSTRAINT) e = DB_OK;
    }
    if (e == DB_OK)
        e = db_query(db, SQL_ENV_ITEMS,
                     DB_ARGS(DBP_TEXT(api_id), DBP_TEXT(env), DBP_INT(GATEWAY_CONFIG_ITEMS_MAX)),
                     &items);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    log_info("deployment target %s: API %s to environment %s by %s", tid, api_id, env,
             r->principal.subject);
    cJSON *o = cJSON_CreateObject();
    cJSON *t = cJSON_AddObjectToObject(o, "target");
    cJSON_AddStringToObject(t, "id", tid);
    cJSON_AddStringToObject(t, "api_id", api_id);
    cJSON_AddStringToObject(t, "environment", env);
    cJSON_AddStringToObject(t, "tenant_id", tenant);
    json_add_time(t, "created_at", now);
    cJSON *arr = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < db_rows(items); i++) cJSON_AddItemToArray(arr, item_from_row(items, i));
    rc = http_send_json_take(r, 201, o);
out:
    db_result_free(gws);
    db_result_free(items);
    return rc;
}

int deployments_handle_create(struct req *r)
{
    struct db *db = db_thread();
    struct db_result *api = NULL, *gw = NULL, *row = NULL;
    char api_id[CRYPTO_UUID_LEN + 1], gw_id[CRYPTO_UUID_LEN + 1], id[CRYPTO_UUID_LEN + 1];
    char err[JSON_ERR_MAX];
    const char *env = NULL;
    int rc;
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    if ((rc = uuid_field(r, body, "api_id", true, api_id)) != 0) goto out;
    int has_gw = uuid_field(r, body, "gateway_id", false, gw_id);
    if (has_gw != 0 && has_gw != 1) {
        rc = has_gw;
        goto out;
    }
    int has_env = json_string(body, "environment", 1, GATEWAY_ENV_MAX, false, &env, err);
    if (has_env < 0) {
        rc = bad_field(r, err);
        goto out;
    }
    if (has_env == 0 && !env_ok(env)) {
        rc = bad_field(r, "environment: only lowercase letters, digits, '-' and '_' are allowed");
        goto out;
    }
    if ((has_gw == 0) == (has_env == 0)) {
        rc = bad_field(r, "gateway_id: give exactly one of gateway_id and environment");
        goto out;
    }
    enum db_err e = db_query(db, SQL_API_CONTENT, DB_ARGS(DBP_TEXT(api_id)), &api);
    if (e == DB_OK && has_gw == 0)
        e = db_query(db, SQL_GATEWAY_TENANT, DB_ARGS(DBP_TEXT(gw_id)), &gw);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (db_rows(api) != 1 || !tenant_visible(r, db_get(api, 0, 0))) {
        rc = http_send_error(r, 404, "not_found", "api_id: no such API");
        goto out;
    }
    if (has_env == 0) {
        rc = create_for_environment(r, db, api, api_id, env);
        goto out;
    }
    /* A gateway of another tenant is invisible (cpi-admin sees all); a
     * shared one (NULL) takes any tenant's APIs. */
    if (db_rows(gw) != 1 || !tenant_visible(r, db_get(gw, 0, 0))) {
        rc = http_send_error(r, 404, "not_found", "gateway_id: no such gateway");
        goto out;
    }
    e = insert_deployment(db, api, api_id, gw_id, NULL, r->principal.subject, id);
    if (e == DB_ERR_CONSTRAINT) {
        rc = http_send_error(r, 409, "already_deployed",
                             "this API is already deployed to this gateway");
        goto out;
    }
    if (e == DB_OK) e = db_query(db, SQL_GET, DB_ARGS(DBP_TEXT(id)), &row);
    if (e != DB_OK || db_rows(row) != 1) {
        rc = http_send_db_error(r, e != DB_OK ? (int)e : DB_ERR_INTERNAL);
        goto out;
    }
    log_info("deployment %s: API %s to gateway %s by %s", id, api_id, gw_id, r->principal.subject);
    rc = http_send_json_take(r, 201, item_from_row(row, 0));
out:
    cJSON_Delete(body);
    db_result_free(api);
    db_result_free(gw);
    db_result_free(row);
    return rc;
}

/* ---- console: sync --------------------------------------------------------- */

static const char SQL_SYNC[] =
    "UPDATE deployments SET sync_status = 'syncing', sync_attempts = sync_attempts + 1, "
    "updated_at = $2 WHERE id = $1 AND sync_status = $3";

int deployments_handle_sync(struct req *r)
{
    struct db *db = db_thread();
    struct db_result *row = NULL;
    char id[CRYPTO_UUID_LEN + 1];
    long changed = 0;
    int rc;
    if (!uuid_param(r, 0, id)) return http_send_error(r, 404, "not_found", "no such deployment");
    enum db_err e = reconcile(db, RECONCILE_ONE, id);
    for (int attempt = 0; e == DB_OK && changed != 1 && attempt < DEPLOY_REPORT_RETRIES;
         attempt++) {
        db_result_free(row);
        row = NULL;
        e = load_visible(db, r, id, &row);
        if (e != DB_OK || !row) break;
        char msg[320];
        snprintf(msg, sizeof msg, "sync requested by %s", r->principal.subject);
        struct change c = {.id = id,
                           .tenant = db_get(row, 0, D_TENANT),
                           .api_id = db_get(row, 0, D_API),
                           .gateway_id = db_get(row, 0, D_GW),
                           .from = db_get(row, 0, D_STATUS),
                           .to = "syncing",
                           .expected = db_get(row, 0, D_EXPECTED),
                           .applied = db_get(row, 0, D_APPLIED),
                           .message = msg,
                           .actor = r->principal.subject,
                           .at = util_now_ms()};
        e = commit_change(db, SQL_SYNC, DB_ARGS(DBP_TEXT(id), DBP_INT(c.at), DBP_TEXT(c.from)), &c,
                          &changed);
    }
    if (e == DB_OK && row && changed != 1) e = DB_ERR_BUSY;
    db_result_free(row);
    row = NULL;
    if (e == DB_OK && changed == 1) e = db_query(db, SQL_GET, DB_ARGS(DBP_TEXT(id)), &row);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (changed != 1 || db_rows(row) != 1) {
        rc = http_send_error(r, 404, "not_found", "no such deployment");
        goto out;
    }
    rc = http_send_json_take(r, 200, item_from_row(row, 0));
out:
    db_result_free(row);
    return rc;
}
