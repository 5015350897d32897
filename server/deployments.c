/*
 * deployments.c — deploying catalog APIs to gateways: GET /v1/deployments
 * (?gateway_id=), POST /v1/deployments {api_id, gateway_id}, POST
 * /v1/deployments/{id}/sync. Everything is tenant-scoped: callers without
 * PERM_ALL_TENANTS see and touch only their tenant's APIs, gateways and
 * deployments (others' are answered as not found). Gateways read their
 * pending deployments through /v1/internal/gateways/{id}/config.
 * Threading: stateless; database access through db_thread().
 */
#include "portico/deployments.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/http.h"
#include "portico/json.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/rbac.h"
#include "portico/util.h"

#define DEP_COLS                                                                                   \
    "d.id, d.api_id, a.name, d.gateway_id, d.tenant_id, d.desired_state, d.sync_status, "          \
    "d.sync_attempts, d.last_error, d.created_at, d.updated_at"
#define DEP_FROM " FROM deployments d JOIN apis a ON a.id = d.api_id"

static bool all_tenants(const struct req *r)
{
    return (rbac_role_perms(r->principal.role) & PERM_ALL_TENANTS) != 0;
}

/* One deployment row as JSON; caller frees with cJSON_Delete. */
static cJSON *item_from_row(const struct db_result *res, size_t row)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "id", db_get(res, row, 0));
    cJSON_AddStringToObject(o, "api_id", db_get(res, row, 1));
    cJSON_AddStringToObject(o, "api_name", db_get(res, row, 2));
    cJSON_AddStringToObject(o, "gateway_id", db_get(res, row, 3));
    cJSON_AddStringToObject(o, "tenant_id", db_get(res, row, 4));
    cJSON_AddStringToObject(o, "desired_state", db_get(res, row, 5));
    cJSON_AddStringToObject(o, "sync_status", db_get(res, row, 6));
    cJSON_AddNumberToObject(o, "sync_attempts", (double)db_get_int(res, row, 7));
    json_add_str_or_null(o, "last_error", db_get(res, row, 8));
    json_add_time(o, "created_at", db_get_int(res, row, 9));
    json_add_time(o, "updated_at", db_get_int(res, row, 10));
    return o;
}

static void lower_uuid(const char *in, char out[CRYPTO_UUID_LEN + 1])
{
    for (int i = 0; i <= CRYPTO_UUID_LEN; i++)
        out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] + 32) : in[i];
}

/* ---- list ----------------------------------------------------------------- */

int deployments_handle_list(struct req *r)
{
    struct db *db = db_thread();
    struct db_result *rows = NULL, *total = NULL;
    struct strbuf where, sql;
    struct db_param params[8];
    int np = 0, rc;
    long page, page_size;
    char gw[HTTP_QUERY_VALUE_MAX + 1], gid[CRYPTO_UUID_LEN + 1];
    strbuf_init(&where, 1024);
    strbuf_init(&sql, 4096);
    if (http_paging(r, &page, &page_size) != 0) {
        rc = r->status;
        goto out;
    }
    int n = http_query_param(r, "gateway_id", 0, gw, sizeof gw);
    if (n == -2 || (n >= 0 && !crypto_is_uuid(gw))) {
        rc = http_send_error(r, 400, "invalid_parameter", "gateway_id: must be a UUID");
        goto out;
    }
    strbuf_puts(&where, " WHERE 1 = 1");
    if (!all_tenants(r)) {
        params[np] = DBP_TEXT(r->principal.tenant_id);
        strbuf_printf(&where, " AND d.tenant_id = $%d", ++np);
    }
    if (n >= 0) {
        lower_uuid(gw, gid);
        params[np] = DBP_TEXT(gid);
        strbuf_printf(&where, " AND d.gateway_id = $%d", ++np);
    }
    strbuf_printf(&sql, "SELECT COUNT(*)" DEP_FROM "%s", where.data);
    enum db_err e = db_query(db, sql.data, params, np, &total);
    if (e == DB_OK) {
        strbuf_cleanup(&sql);
        strbuf_init(&sql, 4096);
        params[np] = DBP_INT(page_size);
        params[np + 1] = DBP_INT((page - 1) * page_size);
        strbuf_printf(&sql,
                      "SELECT " DEP_COLS DEP_FROM "%s ORDER BY d.created_at DESC, d.id "
                      "LIMIT $%d OFFSET $%d",
                      where.data, np + 1, np + 2);
        e = db_query(db, sql.data, params, np + 2, &rows);
    }
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "items");
    for (size_t i = 0; i < db_rows(rows); i++) cJSON_AddItemToArray(arr, item_from_row(rows, i));
    json_add_paging(o, db_get_int(total, 0, 0), page, page_size);
    rc = http_send_json_take(r, 200, o);
out:
    strbuf_cleanup(&where);
    strbuf_cleanup(&sql);
    db_result_free(rows);
    db_result_free(total);
    return rc;
}

/* ---- create --------------------------------------------------------------- */

static const char SQL_API_TENANT[] = "SELECT tenant_id FROM apis WHERE id = $1";
static const char SQL_GATEWAY_TENANT[] = "SELECT tenant_id FROM gateways WHERE id = $1";
static const char SQL_INSERT[] =
    "INSERT INTO deployments (id, api_id, gateway_id, tenant_id, desired_state, sync_status, "
    "sync_attempts, created_at, updated_at) VALUES ($1, $2, $3, $4, 'deployed', 'pending', 0, $5, "
    "$5)";
static const char SQL_GET[] = "SELECT " DEP_COLS DEP_FROM " WHERE d.id = $1";

/* Reads a UUID field; 0 ok, or the 400 sent. */
static int uuid_field(struct req *r, const cJSON *body, const char *field,
                      char out[CRYPTO_UUID_LEN + 1])
{
    char err[JSON_ERR_MAX];
    const char *v = NULL;
    if (json_string(body, field, 1, CRYPTO_UUID_LEN, true, &v, err) != 0)
        return http_send_error(r, 400, "invalid_field", "%s", err);
    if (!crypto_is_uuid(v))
        return http_send_error(r, 400, "invalid_field", "%s: must be a UUID", field);
    lower_uuid(v, out);
    return 0;
}

/* True, with the row's tenant in out, when a one-row tenant lookup found
 * something the caller may see. */
static bool visible_tenant(const struct req *r, const struct db_result *res, char *out, size_t n)
{
    if (db_rows(res) != 1) return false;
    const char *t = db_get(res, 0, 0);
    if (!t) return util_copy(out, n, ""); /* a shared gateway (no tenant): visible to all */
    if (!all_tenants(r) && strcmp(t, r->principal.tenant_id) != 0) return false;
    return util_copy(out, n, t);
}

int deployments_handle_create(struct req *r)
{
    struct db *db = db_thread();
    struct db_result *api = NULL, *gw = NULL, *row = NULL;
    char api_id[CRYPTO_UUID_LEN + 1], gw_id[CRYPTO_UUID_LEN + 1], id[CRYPTO_UUID_LEN + 1];
    char api_tenant[AUTH_TENANT_MAX + 1], gw_tenant[AUTH_TENANT_MAX + 1];
    int rc;
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    if ((rc = uuid_field(r, body, "api_id", api_id)) != 0) goto out;
    if ((rc = uuid_field(r, body, "gateway_id", gw_id)) != 0) goto out;
    enum db_err e = db_query(db, SQL_API_TENANT, DB_ARGS(DBP_TEXT(api_id)), &api);
    if (e == DB_OK) e = db_query(db, SQL_GATEWAY_TENANT, DB_ARGS(DBP_TEXT(gw_id)), &gw);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (!visible_tenant(r, api, api_tenant, sizeof api_tenant)) {
        rc = http_send_error(r, 404, "not_found", "api_id: no such API");
        goto out;
    }
    if (!visible_tenant(r, gw, gw_tenant, sizeof gw_tenant)) {
        rc = http_send_error(r, 404, "not_found", "gateway_id: no such gateway");
        goto out;
    }
    int64_t now = util_now_ms();
    if (crypto_uuid(id) != 0) {
        rc = http_send_error(r, 500, "internal", "cannot make an id");
        goto out;
    }
    e = db_exec(db, SQL_INSERT,
                DB_ARGS(DBP_TEXT(id), DBP_TEXT(api_id), DBP_TEXT(gw_id), DBP_TEXT(api_tenant),
                        DBP_INT(now)),
                NULL);
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

/* ---- sync ----------------------------------------------------------------- */

static const char SQL_SYNC[] =
    "UPDATE deployments SET sync_status = 'pending', sync_attempts = sync_attempts + 1, "
    "updated_at = $2 WHERE id = $1";
static const char SQL_SYNC_TENANT[] =
    "UPDATE deployments SET sync_status = 'pending', sync_attempts = sync_attempts + 1, "
    "updated_at = $2 WHERE id = $1 AND tenant_id = $3";

int deployments_handle_sync(struct req *r)
{
    struct db *db = db_thread();
    struct db_result *row = NULL;
    char id[CRYPTO_UUID_LEN + 1];
    long changed = 0;
    int rc;
    if (r->nparams < 1 || !crypto_is_uuid(r->params[0]))
        return http_send_error(r, 404, "not_found", "no such deployment");
    lower_uuid(r->params[0], id);
    int64_t now = util_now_ms();
    enum db_err e =
        all_tenants(r)
            ? db_exec(db, SQL_SYNC, DB_ARGS(DBP_TEXT(id), DBP_INT(now)), &changed)
            : db_exec(db, SQL_SYNC_TENANT,
                      DB_ARGS(DBP_TEXT(id), DBP_INT(now), DBP_TEXT(r->principal.tenant_id)),
                      &changed);
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
