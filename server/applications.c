/*
 * applications.c — developer applications: GET|POST /v1/applications,
 * GET|PATCH|DELETE /v1/applications/{id}.
 *
 * An application belongs to the subject that created it within the tenant
 * it was signed in to (owner_subject, tenant_id); its name is unique per
 * owner. Only the owner sees or changes it: anyone else gets 404, so ids are
 * no existence oracle. Deleting an application cancels its subscriptions
 * first (their keys stop working at once, and each cancellation is an
 * event), then removes it.
 *
 * Threading: stateless; each handler uses its thread's db_thread().
 */
#define _GNU_SOURCE
#include "portico/applications.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/events.h"
#include "portico/http.h"
#include "portico/json.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/subscriptions.h"
#include "portico/util.h"

#define APP_COLS "id, name, description, owner_subject, tenant_id, created_at, updated_at"

static const char SQL_GET[] = "SELECT " APP_COLS " FROM applications WHERE id = $1";
static const char SQL_LIST[] = "SELECT " APP_COLS " FROM applications "
                               "WHERE owner_subject = $1 AND tenant_id = $2 "
                               "ORDER BY created_at DESC, id LIMIT $3 OFFSET $4";
static const char SQL_COUNT[] =
    "SELECT COUNT(*) FROM applications WHERE owner_subject = $1 AND tenant_id = $2";
static const char SQL_FIND_NAME[] =
    "SELECT id FROM applications WHERE owner_subject = $1 AND tenant_id = $2 AND name = $3";
static const char SQL_INSERT[] =
    "INSERT INTO applications (id, name, description, owner_subject, tenant_id, created_at, "
    "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)";
static const char SQL_UPDATE[] =
    "UPDATE applications SET name = $2, description = $3, updated_at = $4 WHERE id = $1";
static const char SQL_DELETE[] = "DELETE FROM applications WHERE id = $1";

bool applications_caller_ok(const struct req *r)
{
    return r->principal.type == AUTH_SESSION || r->principal.type == AUTH_API_KEY ||
           r->principal.type == AUTH_JWT;
}

bool applications_owned_by(const struct req *r, const char *owner_subject, const char *tenant_id)
{
    return owner_subject && tenant_id && strcmp(owner_subject, r->principal.subject) == 0 &&
           strcmp(tenant_id, r->principal.tenant_id) == 0;
}

bool applications_uuid(const char *s, char out[37])
{
    if (!s || !crypto_is_uuid(s)) return false;
    for (int i = 0; i <= CRYPTO_UUID_LEN; i++) {
        char c = s[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    return true;
}

/* One application as JSON. Caller frees with cJSON_Delete. */
static cJSON *app_json(const struct db_result *res, size_t row)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "id", db_get(res, row, 0));
    cJSON_AddStringToObject(o, "name", db_get(res, row, 1));
    cJSON_AddStringToObject(o, "description", db_get(res, row, 2));
    cJSON_AddStringToObject(o, "owner", db_get(res, row, 3));
    cJSON_AddStringToObject(o, "tenant_id", db_get(res, row, 4));
    json_add_time(o, "created_at", db_get_int(res, row, 5));
    json_add_time(o, "updated_at", db_get_int(res, row, 6));
    return o;
}

static void publish(const struct req *r, const char *type, const char *id, const char *name)
{
    if (!events_wanted()) return;
    cJSON *o = cJSON_CreateObject();
    if (!o) return;
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "owner", r->principal.subject);
    char *text = json_print(o);
    if (text) events_publish_tenant(type, r->principal.tenant_id, text);
    free(text);
    cJSON_Delete(o);
}

/* 401 for callers that cannot own applications; 0 otherwise. */
static int require_owner_caller(struct req *r)
{
    if (applications_caller_ok(r)) return 0;
    if (r->principal.type == AUTH_ANONYMOUS) return http_send_unauthorized(r, false, NULL);
    return http_send_error(r, 403, "forbidden", "only a signed-in user may own applications");
}

/* Loads r->params[0] when the caller owns it: 0 with *res (one row), or
 * the status of the 404 / database error sent. */
static int load_own(struct req *r, struct db_result **res)
{
    char id[CRYPTO_UUID_LEN + 1];
    *res = NULL;
    if (!applications_uuid(r->params[0], id))
        return http_send_error(r, 404, "not_found", "no such application");
    struct db_result *rows = NULL;
    enum db_err e = db_query(db_thread(), SQL_GET, DB_ARGS(DBP_TEXT(id)), &rows);
    if (e != DB_OK) return http_send_db_error(r, e);
    if (db_rows(rows) != 1 || !applications_owned_by(r, db_get(rows, 0, 3), db_get(rows, 0, 4))) {
        db_result_free(rows);
        return http_send_error(r, 404, "not_found", "no such application");
    }
    *res = rows;
    return 0;
}

/* True when s starts or ends with a space. */
static bool padded(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && (s[0] == ' ' || s[n - 1] == ' ');
}

/* Validates name/description of a create (both keys allowed, name
 * required) or a PATCH (either). Sends 400 and returns its status, or 0. */
static int parse_body(struct req *r, const cJSON *body, bool create, const char **name,
                      const char **description)
{
    char err[JSON_ERR_MAX];
    if (json_only_keys(body, "name|description", err) != 0 ||
        json_string(body, "name", 1, APP_NAME_MAX, create, name, err) < 0 ||
        json_string(body, "description", 0, APP_DESCRIPTION_MAX, false, description, err) < 0)
        return http_send_error(r, 400, "invalid_field", "%s", err);
    if (*name && (util_has_control(*name, false) || padded(*name)))
        return http_send_error(r, 400, "invalid_field",
                               "name: must not contain control characters or start or end "
                               "with spaces");
    if (*description && util_has_control(*description, true))
        return http_send_error(r, 400, "invalid_field",
                               "description: must not contain control characters");
    return 0;
}

/* 409 when the caller already owns another application named `name`. */
static int check_name_free(struct req *r, const char *name, const char *self_id)
{
    struct db_result *res = NULL;
    enum db_err e = db_query(
        db_thread(), SQL_FIND_NAME,
        DB_ARGS(DBP_TEXT(r->principal.subject), DBP_TEXT(r->principal.tenant_id), DBP_TEXT(name)),
        &res);
    int rc = 0;
    if (e != DB_OK)
        rc = http_send_db_error(r, e);
    else if (db_rows(res) > 0 && (!self_id || strcmp(db_get(res, 0, 0), self_id) != 0))
        rc = http_send_error(r, 409, "conflict", "you already have an application named \"%s\"",
                             name);
    db_result_free(res);
    return rc;
}

int applications_handle_list(struct req *r)
{
    long page, page_size;
    int rc = require_owner_caller(r);
    if (rc) return rc;
    if (http_paging(r, &page, &page_size) != 0) return r->status;
    struct db *db = db_thread();
    struct db_result *rows = NULL, *count = NULL;
    const char *sub = r->principal.subject, *tenant = r->principal.tenant_id;
    enum db_err e = db_query(db, SQL_LIST,
                             DB_ARGS(DBP_TEXT(sub), DBP_TEXT(tenant), DBP_INT(page_size),
                                     DBP_INT((int64_t)(page - 1) * page_size)),
                             &rows);
    if (e == DB_OK) e = db_query(db, SQL_COUNT, DB_ARGS(DBP_TEXT(sub), DBP_TEXT(tenant)), &count);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(out, "items");
    for (size_t i = 0; i < db_rows(rows); i++) cJSON_AddItemToArray(items, app_json(rows, i));
    json_add_paging(out, db_rows(count) ? db_get_int(count, 0, 0) : 0, page, page_size);
    rc = http_send_json_take(r, 200, out);
out:
    db_result_free(rows);
    db_result_free(count);
    return rc;
}

int applications_handle_create(struct req *r)
{
    int rc = require_owner_caller(r);
    if (rc) return rc;
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    struct db *db = db_thread();
    struct db_result *res = NULL;
    const char *name = NULL, *description = NULL;
    char id[CRYPTO_UUID_LEN + 1];
    if ((rc = parse_body(r, body, true, &name, &description)) != 0) goto out;
    if ((rc = check_name_free(r, name, NULL)) != 0) goto out;
    enum db_err e =
        db_query(db, SQL_COUNT,
                 DB_ARGS(DBP_TEXT(r->principal.subject), DBP_TEXT(r->principal.tenant_id)), &res);
    if (e == DB_OK && db_rows(res) == 1 && db_get_int(res, 0, 0) >= APPS_PER_OWNER_MAX) {
        rc = http_send_error(r, 409, "limit_reached", "you may own at most %d applications",
                             APPS_PER_OWNER_MAX);
        goto out;
    }
    db_result_free(res);
    res = NULL;
    if (e == DB_OK && crypto_uuid(id) != 0) e = DB_ERR_INTERNAL;
    if (e == DB_OK)
        e = db_exec(db, SQL_INSERT,
                    DB_ARGS(DBP_TEXT(id), DBP_TEXT(name), DBP_TEXT(description ? description : ""),
                            DBP_TEXT(r->principal.subject), DBP_TEXT(r->principal.tenant_id),
                            DBP_INT(util_now_ms())),
                    NULL);
    if (e == DB_ERR_CONSTRAINT) {
        rc = http_send_error(r, 409, "conflict", "you already have an application named \"%s\"",
                             name);
        goto out;
    }
    if (e == DB_OK) e = db_query(db, SQL_GET, DB_ARGS(DBP_TEXT(id)), &res);
    if (e != DB_OK || db_rows(res) != 1) {
        rc = http_send_db_error(r, e != DB_OK ? e : DB_ERR_INTERNAL);
        goto out;
    }
    publish(r, "application.created", id, name);
    rc = http_send_json_take(r, 201, app_json(res, 0));
out:
    db_result_free(res);
    cJSON_Delete(body);
    return rc;
}

int applications_handle_get(struct req *r)
{
    struct db_result *res = NULL;
    int rc = require_owner_caller(r);
    if (rc || (rc = load_own(r, &res)) != 0) return rc;
    rc = http_send_json_take(r, 200, app_json(res, 0));
    db_result_free(res);
    return rc;
}

int applications_handle_update(struct req *r)
{
    int rc = require_owner_caller(r);
    if (rc) return rc;
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    struct db_result *res = NULL, *after = NULL;
    const char *name = NULL, *description = NULL;
    struct db *db = db_thread();
    if ((rc = load_own(r, &res)) != 0) goto out;
    if ((rc = parse_body(r, body, false, &name, &description)) != 0) goto out;
    const char *id = db_get(res, 0, 0);
    if (name && (rc = check_name_free(r, name, id)) != 0) goto out;
    enum db_err e = db_exec(db, SQL_UPDATE,
                            DB_ARGS(DBP_TEXT(id), DBP_TEXT(name ? name : db_get(res, 0, 1)),
                                    DBP_TEXT(description ? description : db_get(res, 0, 2)),
                                    DBP_INT(util_now_ms())),
                            NULL);
    if (e == DB_ERR_CONSTRAINT) {
        rc = http_send_error(r, 409, "conflict", "you already have an application named \"%s\"",
                             name ? name : "");
        goto out;
    }
    if (e == DB_OK) e = db_query(db, SQL_GET, DB_ARGS(DBP_TEXT(id)), &after);
    if (e != DB_OK || db_rows(after) != 1) {
        rc = http_send_db_error(r, e != DB_OK ? e : DB_ERR_INTERNAL);
        goto out;
    }
    publish(r, "application.updated", id, db_get(after, 0, 1));
    rc = http_send_json_take(r, 200, app_json(after, 0));
out:
    db_result_free(res);
    db_result_free(after);
    cJSON_Delete(body);
    return rc;
}

int applications_handle_delete(struct req *r)
{
    struct db_result *res = NULL;
    int rc = require_owner_caller(r);
    if (rc || (rc = load_own(r, &res)) != 0) return rc;
    struct db *db = db_thread();
    const char *id = db_get(res, 0, 0);
    enum db_err e = (enum db_err)subscriptions_cancel_application(r, db, id);
    if (e == DB_OK) e = db_exec(db, SQL_DELETE, DB_ARGS(DBP_TEXT(id)), NULL);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    publish(r, "application.deleted", id, db_get(res, 0, 1));
    log_info("application %s deleted by %s", id, r->principal.subject);
    rc = http_send_no_content(r);
out:
    db_result_free(res);
    return rc;
}
