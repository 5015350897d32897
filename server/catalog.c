/*
 * catalog.c — the API catalog: management (/v1/apis, /v1/apis/import) and
 * the portal (/v1/portal/apis) with literal-safe search, facets and ranking.
 *
 * Visibility (portal): an API is listed when it is published or deprecated
 * and portal_visible. Public APIs of every tenant are visible to every
 * caller, anonymous ones included; internal APIs only to signed-in callers
 * of the same tenant (a cpi-admin sees all). Anything else is invisible: not
 * listed, not counted in facets, 404 on detail.
 * Management is tenant-scoped: a caller sees and edits only its tenant's APIs
 * (other tenants' ids are 404) unless it holds PERM_ALL_TENANTS (cpi-admin).
 *
 * Search: search.c defines the semantics; this file turns them into SQL
 * (search_text LIKE $n ESCAPE '\' per word; search_text is lower-cased and
 * its fields are joined by "\n"). The in-process index (search_index.c)
 * answers the same portal queries faster and falls back to this SQL.
 *
 * Threading: stateless; each handler uses its thread's db_thread().
 */
#define _GNU_SOURCE
#include "portico/catalog.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/http.h"
#include "portico/json.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/openapi.h"
#include "portico/rbac.h"
#include "portico/search.h"
#include "portico/search_index.h"
#include "portico/subscriptions.h"
#include "portico/tenant.h"
#include "portico/util.h"

#define CATALOG_ERR_MAX 256
#define CATALOG_OWNER_MAX 200
#define Q_BUF (4 * SEARCH_QUERY_MAX + 64)

/* ---- SQL ---------------------------------------------------------------- */

/* Column order is fixed: see api_from_row. */
#define COLS                                                                                       \
    "a.id, a.tenant_id, a.name, a.version, a.description, a.category, a.tags_json, a.status, "     \
    "a.portal_visible, a.audience, a.owner, a.created_at, a.updated_at"
enum {
    C_ID,
    C_TENANT,
    C_NAME,
    C_VERSION,
    C_DESCRIPTION,
    C_CATEGORY,
    C_TAGS,
    C_STATUS,
    C_VISIBLE,
    C_AUDIENCE,
    C_OWNER,
    C_CREATED,
    C_UPDATED,
    C_OPENAPI,
    C_FORMAT,
    C_SUB_MODE, /* detail only: subscription mode and plans (subscriptions.c) */
    C_PLANS,
};

static const char SQL_GET[] = "SELECT " COLS ", a.openapi, a.openapi_format, "
                              "a.subscription_mode, a.plans_json FROM apis a WHERE a.id = $1";
static const char SQL_OPS[] = "SELECT method, path, operation_id, summary, tags_json "
                              "FROM api_operations WHERE api_id = $1 ORDER BY seq";
static const char SQL_FIND[] =
    "SELECT id FROM apis WHERE tenant_id = $1 AND name = $2 AND version = $3";
static const char SQL_INSERT[] =
    "INSERT INTO apis (id, tenant_id, name, name_lower, version, description, category, "
    "tags_json, status, portal_visible, audience, owner, openapi, openapi_format, search_text, "
    "created_at, updated_at, subscription_mode, plans_json) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)";
static const char SQL_UPDATE[] =
    "UPDATE apis SET tenant_id = $2, name = $3, name_lower = $4, version = $5, "
    "description = $6, category = $7, tags_json = $8, status = $9, portal_visible = $10, "
    "audience = $11, owner = $12, openapi = $13, openapi_format = $14, search_text = $15, "
    "created_at = $16, updated_at = $17, subscription_mode = $18, plans_json = $19 WHERE id = $1";
static const char SQL_DEL_TAGS[] = "DELETE FROM api_tags WHERE api_id = $1";
static const char SQL_ADD_TAG[] = "INSERT INTO api_tags (api_id, tag) VALUES ($1, $2)";
static const char SQL_DEL_OPS[] = "DELETE FROM api_operations WHERE api_id = $1";
static const char SQL_ADD_OP[] =
    "INSERT INTO api_operations (api_id, seq, method, path, operation_id, summary, tags_json) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)";
static const char SQL_DELETE[] = "DELETE FROM apis WHERE id = $1";
/* The search index's change log only needs its recent tail: an index that
 * is further behind than this reloads everything (search_index.c). */
static const char SQL_PRUNE_CHANGES[] =
    "DELETE FROM api_changes WHERE rev < (SELECT rev FROM search_state WHERE id = 1) - 10000";
static const char SQL_DELETE_TENANT[] = "DELETE FROM apis WHERE id = $1 AND tenant_id = $2";

/* List queries are assembled from these fixed fragments with db_where:
 * every value is a bound parameter ('?' becomes the next $N). */
static const char SQL_COUNT_HEAD[] = "SELECT COUNT(*) FROM apis a WHERE ";
static const char SQL_ITEMS_HEAD[] = "SELECT " COLS;
static const char SQL_RANK[] = ", CASE WHEN a.name_lower = ? THEN 0"
                               " WHEN a.name_lower LIKE ? ESCAPE '\\' THEN 1"
                               " WHEN a.name_lower LIKE ? ESCAPE '\\' THEN 2 ELSE 3 END AS rk";
#define SQL_RANK_PARAMS 3
static const char SQL_NO_RANK[] = ", 0 AS rk";
static const char SQL_ITEMS_FROM[] = " FROM apis a WHERE ";
static const char SQL_ORDER_RANK[] = " ORDER BY rk, a.name_lower, a.id";
static const char SQL_ORDER_NAME[] = " ORDER BY a.name_lower, a.id";
static const char SQL_ORDER_UPDATED[] = " ORDER BY a.updated_at DESC, a.name_lower, a.id";
static const char SQL_LIMIT_OFFSET[] = " LIMIT ? OFFSET ?";
static const char SQL_CATS_HEAD[] = "SELECT a.category, COUNT(*) FROM apis a WHERE ";
static const char SQL_CATS_TAIL[] = " AND a.category <> '' GROUP BY a.category";
static const char SQL_TAGS_HEAD[] =
    "SELECT t.tag, COUNT(*) FROM api_tags t JOIN apis a ON a.id = t.api_id WHERE ";
static const char SQL_TAGS_TAIL[] = " GROUP BY t.tag";

static const char SQL_W_PORTAL[] =
    "a.status IN ('published', 'deprecated') AND a.portal_visible = 1";
static const char SQL_W_PUBLIC_ONLY[] = " AND a.audience = 'public'";
static const char SQL_W_PUBLIC_OR_TENANT[] = " AND (a.audience = 'public' OR a.tenant_id = ?)";
static const char SQL_W_TENANT[] = "a.tenant_id = ?";
static const char SQL_W_ALL[] = "1 = 1";
static const char SQL_W_STATUS[] = " AND a.status = ?";
static const char SQL_W_CATEGORY[] = " AND a.category = ?";
static const char SQL_W_TAG[] =
    " AND EXISTS (SELECT 1 FROM api_tags ft WHERE ft.api_id = a.id AND ft.tag = ?)";
static const char SQL_W_WORD[] = " AND a.search_text LIKE ? ESCAPE '\\'";

/* ---- the API object ----------------------------------------------------- */

struct api {
    char id[CRYPTO_UUID_LEN + 1];
    char tenant_id[AUTH_TENANT_MAX + 1];
    char *name, *version, *description, *category, *status, *audience, *owner;
    bool portal_visible;
    cJSON *tags;          /* array of strings */
    char *openapi;        /* the document as stored, or NULL */
    char *openapi_format; /* "json", "yaml", "text" or NULL */
    cJSON *ops;           /* [{method, path, operation_id, summary, tags}] */
    bool ops_changed;
    char *subscription; /* "auto", "approval" or "closed" */
    cJSON *plans;       /* [{name, requests_per_minute}], checked by subscriptions.c */
    int64_t created_at, updated_at;
};

static void api_cleanup(struct api *a)
{
    free(a->name);
    free(a->version);
    free(a->description);
    free(a->category);
    free(a->status);
    free(a->audience);
    free(a->owner);
    cJSON_Delete(a->tags);
    free(a->openapi);
    free(a->openapi_format);
    cJSON_Delete(a->ops);
    free(a->subscription);
    cJSON_Delete(a->plans);
    memset(a, 0, sizeof *a);
}

/* Replaces *slot with a copy of s; false on OOM. */
static bool set_str(char **slot, const char *s)
{
    char *c = util_strdup(s ? s : "");
    if (!c) return false;
    free(*slot);
    *slot = c;
    return true;
}

static bool api_defaults(struct api *a)
{
    memset(a, 0, sizeof *a);
    a->portal_visible = true;
    a->tags = cJSON_CreateArray();
    a->ops = cJSON_CreateArray();
    a->plans = cJSON_CreateArray();
    return a->plans && set_str(&a->subscription, SUBSCRIPTIONS_MODE_DEFAULT) &&
           set_str(&a->name, "") && set_str(&a->version, "") && set_str(&a->description, "") &&
           set_str(&a->category, "") && set_str(&a->status, "draft") &&
           set_str(&a->audience, "public") && set_str(&a->owner, "") && a->tags && a->ops;
}

static cJSON *parse_array_or_empty(const char *text)
{
    cJSON *j = text ? json_parse(text, strlen(text)) : NULL;
    if (cJSON_IsArray(j)) return j;
    cJSON_Delete(j);
    return cJSON_CreateArray();
}

/* Fills a from row `row` of a COLS (+ openapi) result. false on OOM. */
static bool api_from_row(const struct db_result *res, size_t row, bool with_doc, struct api *a)
{
    memset(a, 0, sizeof *a);
    util_copy(a->id, sizeof a->id, db_get(res, row, C_ID));
    util_copy(a->tenant_id, sizeof a->tenant_id, db_get(res, row, C_TENANT));
    a->portal_visible = db_get_int(res, row, C_VISIBLE) != 0;
    a->created_at = db_get_int(res, row, C_CREATED);
    a->updated_at = db_get_int(res, row, C_UPDATED);
    a->tags = parse_array_or_empty(db_get(res, row, C_TAGS));
    bool ok = set_str(&a->name, db_get(res, row, C_NAME)) &&
              set_str(&a->version, db_get(res, row, C_VERSION)) &&
              set_str(&a->description, db_get(res, row, C_DESCRIPTION)) &&
              set_str(&a->category, db_get(res, row, C_CATEGORY)) &&
              set_str(&a->status, db_get(res, row, C_STATUS)) &&
              set_str(&a->audience, db_get(res, row, C_AUDIENCE)) &&
              set_str(&a->owner, db_get(res, row, C_OWNER)) && a->tags;
    if (ok && with_doc) {
        if (!db_is_null(res, row, C_OPENAPI))
            ok = set_str(&a->openapi, db_get(res, row, C_OPENAPI));
        if (ok && !db_is_null(res, row, C_FORMAT))
            ok = set_str(&a->openapi_format, db_get(res, row, C_FORMAT));
        a->plans = ok ? parse_array_or_empty(db_get(res, row, C_PLANS)) : NULL;
        ok = ok && a->plans && set_str(&a->subscription, db_get(res, row, C_SUB_MODE));
    }
    return ok;
}

/* Loads an API with its operations. Returns DB_OK and *found. */
static enum db_err api_load(struct db *db, const char *id, struct api *a, bool *found)
{
    struct db_result *res = NULL, *ops = NULL;
    *found = false;
    memset(a, 0, sizeof *a);
    if (!crypto_is_uuid(id)) return DB_OK;
    enum db_err e = db_query(db, SQL_GET, DB_ARGS(DBP_TEXT(id)), &res);
    if (e != DB_OK || db_rows(res) == 0) goto out;
    if (!api_from_row(res, 0, true, a)) {
        e = DB_ERR_INTERNAL;
        goto out;
    }
    e = db_query(db, SQL_OPS, DB_ARGS(DBP_TEXT(id)), &ops);
    if (e != DB_OK) goto out;
    a->ops = cJSON_CreateArray();
    for (size_t i = 0; a->ops && i < db_rows(ops); i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o) break;
        cJSON_AddItemToArray(a->ops, o);
        cJSON_AddStringToObject(o, "method", db_get(ops, i, 0));
        cJSON_AddStringToObject(o, "path", db_get(ops, i, 1));
        cJSON_AddStringToObject(o, "operation_id", db_get(ops, i, 2));
        cJSON_AddStringToObject(o, "summary", db_get(ops, i, 3));
        cJSON_AddItemToObject(o, "tags", parse_array_or_empty(db_get(ops, i, 4)));
    }
    if (!a->ops) {
        e = DB_ERR_INTERNAL;
        goto out;
    }
    *found = true;
out:
    if (!*found) api_cleanup(a);
    db_result_free(res);
    db_result_free(ops);
    return e;
}

/* The JSON shape of an API; detail adds operations and openapi. Caller
 * frees with cJSON_Delete. NULL on OOM. */
static cJSON *api_to_json(const struct api *a, bool detail)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "id", a->id);
    cJSON_AddStringToObject(o, "tenant_id", a->tenant_id);
    cJSON_AddStringToObject(o, "name", a->name);
    cJSON_AddStringToObject(o, "version", a->version);
    cJSON_AddStringToObject(o, "description", a->description);
    cJSON_AddStringToObject(o, "category", a->category);
    cJSON_AddItemToObject(o, "tags", cJSON_Duplicate(a->tags, true));
    cJSON_AddStringToObject(o, "status", a->status);
    cJSON_AddBoolToObject(o, "portal_visible", a->portal_visible);
    cJSON_AddStringToObject(o, "audience", a->audience);
    cJSON_AddStringToObject(o, "owner", a->owner);
    json_add_time(o, "created_at", a->created_at);
    json_add_time(o, "updated_at", a->updated_at);
    if (detail) {
        cJSON_AddItemToObject(o, "operations", cJSON_Duplicate(a->ops, true));
        cJSON *doc = NULL;
        if (a->openapi && a->openapi_format && strcmp(a->openapi_format, "json") == 0)
            doc = json_parse(a->openapi, strlen(a->openapi));
        if (!doc && a->openapi) doc = cJSON_CreateString(a->openapi);
        if (!doc) doc = cJSON_CreateNull();
        cJSON_AddItemToObject(o, "openapi", doc);
        cJSON_AddStringToObject(o, "openapi_format", a->openapi_format ? a->openapi_format : "");
        cJSON_AddStringToObject(o, "subscription", a->subscription ? a->subscription : "");
        cJSON_AddItemToObject(o, "plans",
                              a->plans ? cJSON_Duplicate(a->plans, true) : cJSON_CreateArray());
    }
    return o;
}

/* ---- validation --------------------------------------------------------- */

static const char FIELDS[] =
    "name|version|description|category|tags|status|portal_visible|audience|owner|openapi|tenant_id|"
    "subscription|plans";
static const char READ_ONLY[] = "id|created_at|updated_at|operations|openapi_format";

static bool in_list(const char *list, const char *s)
{
    size_t n = strlen(s);
    for (const char *p = list;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, s, n) == 0) return true;
        if (!bar) return false;
        p = bar + 1;
    }
}

/* A text field: json_string plus "no control characters". */
static int text_field(const cJSON *body, const char *field, size_t min, size_t max, bool required,
                      bool allow_ws, const char **out, char *err)
{
    int rc = json_string(body, field, min, max, required, out, err);
    if (rc == 0 && util_has_control(*out, allow_ws)) {
        snprintf(err, CATALOG_ERR_MAX, "%s: must not contain control characters", field);
        return -1;
    }
    return rc;
}

/* Sets the document fields of a from the `openapi` value (object, string or
 * null). -1 with err when it is of the wrong type or has too many
 * operations. */
static int apply_openapi(const cJSON *v, struct api *a, char *err)
{
    cJSON *doc = NULL, *ops = NULL;
    char *text = NULL;
    const char *format = NULL;
    int rc = -1;
    if (!v || cJSON_IsNull(v)) {
        ops = cJSON_CreateArray();
    } else if (cJSON_IsObject(v)) {
        text = json_print(v);
        format = "json";
        ops = openapi_operations(v);
    } else if (cJSON_IsString(v)) {
        int is_yaml = 0;
        char perr[256];
        const char *s = v->valuestring;
        doc = openapi_parse(s, strlen(s), &is_yaml, perr);
        if (cJSON_IsObject(doc)) {
            format = is_yaml ? "yaml" : "json";
            text = is_yaml ? util_strdup(s) : json_print(doc);
            ops = openapi_operations(doc);
        } else {
            format = "text";
            text = util_strdup(s);
            ops = cJSON_CreateArray();
        }
    } else {
        snprintf(err, CATALOG_ERR_MAX, "openapi: must be an object or a string (JSON or YAML)");
        goto out;
    }
    if (!ops || (format && !text)) {
        snprintf(err, CATALOG_ERR_MAX, "openapi: out of memory");
        goto out;
    }
    if (cJSON_GetArraySize(ops) > CATALOG_OPERATIONS_MAX) {
        snprintf(err, CATALOG_ERR_MAX, "openapi: at most %d operations", CATALOG_OPERATIONS_MAX);
        goto out;
    }
    free(a->openapi);
    free(a->openapi_format);
    cJSON_Delete(a->ops);
    a->openapi = text;
    a->openapi_format = format ? util_strdup(format) : NULL;
    a->ops = ops;
    a->ops_changed = true;
    text = NULL;
    ops = NULL;
    rc = 0;
out:
    cJSON_Delete(doc);
    cJSON_Delete(ops);
    free(text);
    return rc;
}

/* Validates body (management shape) and applies it to a. `create` makes
 * name and version required. tenant_id is handled by the caller. Returns 0,
 * or -1 with err naming the field. */
static int api_apply(const cJSON *body, struct api *a, bool create, char *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, body)
    {
        if (it->string && in_list(READ_ONLY, it->string)) {
            snprintf(err, CATALOG_ERR_MAX, "%s: is read-only", it->string);
            return -1;
        }
    }
    if (json_only_keys(body, FIELDS, err) != 0) return -1;
    const char *s;
    int rc;
    if ((rc = text_field(body, "name", 1, CATALOG_NAME_MAX, create, false, &s, err)) < 0) return -1;
    if (rc == 0 && !set_str(&a->name, s)) goto oom;
    if ((rc = text_field(body, "version", 1, CATALOG_VERSION_MAX, create, false, &s, err)) < 0)
        return -1;
    if (rc == 0 && !set_str(&a->version, s)) goto oom;
    if ((rc = text_field(body, "description", 0, CATALOG_DESCRIPTION_MAX, false, true, &s, err)) <
        0)
        return -1;
    if (rc == 0 && !set_str(&a->description, s)) goto oom;
    if ((rc = text_field(body, "category", 0, CATALOG_CATEGORY_MAX, false, false, &s, err)) < 0)
        return -1;
    if (rc == 0 && !set_str(&a->category, s)) goto oom;
    if ((rc = text_field(body, "owner", 0, CATALOG_OWNER_MAX, false, false, &s, err)) < 0)
        return -1;
    if (rc == 0 && !set_str(&a->owner, s)) goto oom;
    if ((rc = json_enum(body, "status", "draft|published|deprecated", false, &s, err)) < 0)
        return -1;
    if (rc == 0 && !set_str(&a->status, s)) goto oom;
    if ((rc = json_enum(body, "audience", "public|internal", false, &s, err)) < 0) return -1;
    if (rc == 0 && !set_str(&a->audience, s)) goto oom;
    bool b;
    if ((rc = json_bool(body, "portal_visible", false, &b, err)) < 0) return -1;
    if (rc == 0) a->portal_visible = b;
    const cJSON *tags;
    if ((rc = json_string_array(body, "tags", CATALOG_TAGS_MAX, 1, CATALOG_TAG_MAX, false, &tags,
                                err)) < 0)
        return -1;
    if (rc == 0) {
        cJSON *copy = cJSON_CreateArray();
        if (!copy) goto oom;
        const cJSON *t;
        cJSON_ArrayForEach(t, tags)
        {
            if (util_has_control(t->valuestring, false)) {
                cJSON_Delete(copy);
                snprintf(err, CATALOG_ERR_MAX, "tags: must not contain control characters");
                return -1;
            }
            bool dup = false;
            const cJSON *c;
            cJSON_ArrayForEach(c, copy) dup = dup || strcmp(c->valuestring, t->valuestring) == 0;
            if (!dup) cJSON_AddItemToArray(copy, cJSON_CreateString(t->valuestring));
        }
        cJSON_Delete(a->tags);
        a->tags = copy;
    }
    const cJSON *doc = cJSON_GetObjectItemCaseSensitive(body, "openapi");
    if (doc && apply_openapi(doc, a, err) != 0) return -1;
    if (subscriptions_apply_settings(body, &a->subscription, &a->plans, err) != 0) return -1;
    return 0;
oom:
    snprintf(err, CATALOG_ERR_MAX, "out of memory");
    return -1;
}

/* ---- storing ------------------------------------------------------------ */

static char *api_search_text(const struct api *a)
{
    size_t nops = (size_t)cJSON_GetArraySize(a->ops);
    size_t ntags = (size_t)cJSON_GetArraySize(a->tags);
    size_t n = 0, cap = 6 + ntags + 3 * nops;
    const char **f = calloc(cap, sizeof *f);
    if (!f) return NULL;
    f[n++] = a->name;
    f[n++] = a->description;
    f[n++] = a->version;
    f[n++] = a->id;
    const cJSON *it;
    cJSON_ArrayForEach(it, a->tags) f[n++] = it->valuestring;
    f[n++] = a->category;
    cJSON_ArrayForEach(it, a->ops)
    {
        const cJSON *v;
        v = cJSON_GetObjectItemCaseSensitive(it, "path");
        f[n++] = cJSON_IsString(v) ? v->valuestring : NULL;
        v = cJSON_GetObjectItemCaseSensitive(it, "operation_id");
        f[n++] = cJSON_IsString(v) ? v->valuestring : NULL;
        v = cJSON_GetObjectItemCaseSensitive(it, "summary");
        f[n++] = cJSON_IsString(v) ? v->valuestring : NULL;
    }
    char *text = search_text_build(f, n);
    free(f);
    return text;
}

static const char *op_str(const cJSON *op, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(op, field);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Writes a (insert when `insert`, else update) with its tags and, when they
 * changed, its operations, in one transaction. */
static enum db_err api_store(struct db *db, struct api *a, bool insert)
{
    char *name_lower = util_utf8_lower(a->name);
    char *tags_json = json_print(a->tags);
    char *search_text = api_search_text(a);
    char *plans_json = json_print(a->plans);
    enum db_err e = DB_ERR_INTERNAL;
    bool in_tx = false;
    if (!name_lower || !tags_json || !search_text || !plans_json) goto out;
    if ((e = db_begin(db)) != DB_OK) goto out;
    in_tx = true;
    e = db_exec(db, insert ? SQL_INSERT : SQL_UPDATE,
                DB_ARGS(DBP_TEXT(a->id), DBP_TEXT(a->tenant_id), DBP_TEXT(a->name),
                        DBP_TEXT(name_lower), DBP_TEXT(a->version), DBP_TEXT(a->description),
                        DBP_TEXT(a->category), DBP_TEXT(tags_json), DBP_TEXT(a->status),
                        DBP_BOOL(a->portal_visible), DBP_TEXT(a->audience), DBP_TEXT(a->owner),
                        DBP_TEXT(a->openapi), DBP_TEXT(a->openapi_format), DBP_TEXT(search_text),
                        DBP_INT(a->created_at), DBP_INT(a->updated_at), DBP_TEXT(a->subscription),
                        DBP_TEXT(plans_json)),
                NULL);
    if (e != DB_OK) goto out;
    if ((e = db_exec(db, SQL_DEL_TAGS, DB_ARGS(DBP_TEXT(a->id)), NULL)) != DB_OK) goto out;
    const cJSON *it;
    cJSON_ArrayForEach(it, a->tags)
    {
        e = db_exec(db, SQL_ADD_TAG, DB_ARGS(DBP_TEXT(a->id), DBP_TEXT(it->valuestring)), NULL);
        if (e != DB_OK) goto out;
    }
    if (a->ops_changed || insert) {
        if ((e = db_exec(db, SQL_DEL_OPS, DB_ARGS(DBP_TEXT(a->id)), NULL)) != DB_OK) goto out;
        int seq = 0;
        cJSON_ArrayForEach(it, a->ops)
        {
            char *otags = json_print(cJSON_GetObjectItemCaseSensitive(it, "tags"));
            e = db_exec(db, SQL_ADD_OP,
                        DB_ARGS(DBP_TEXT(a->id), DBP_INT(seq), DBP_TEXT(op_str(it, "method")),
                                DBP_TEXT(op_str(it, "path")), DBP_TEXT(op_str(it, "operation_id")),
                                DBP_TEXT(op_str(it, "summary")), DBP_TEXT(otags ? otags : "[]")),
                        NULL);
            free(otags);
            if (e != DB_OK) goto out;
            seq++;
        }
    }
    e = db_commit(db);
    in_tx = false;
    if (e == DB_OK && !insert) subscriptions_sync_plans(db, a->id, a->plans);
    if (e == DB_OK && db_exec(db, SQL_PRUNE_CHANGES, DB_NOARGS, NULL) != DB_OK)
        log_warn("catalog: cannot prune api_changes: %s", db_errmsg(db));
out:
    if (in_tx) db_rollback(db);
    free(name_lower);
    free(tags_json);
    free(search_text);
    free(plans_json);
    return e;
}

/* Finds the id of (tenant, name, version) into id_out ("" when none). */
static enum db_err find_by_name(struct db *db, const char *tenant, const char *name,
                                const char *version, char id_out[CRYPTO_UUID_LEN + 1])
{
    struct db_result *res = NULL;
    id_out[0] = '\0';
    enum db_err e =
        db_query(db, SQL_FIND, DB_ARGS(DBP_TEXT(tenant), DBP_TEXT(name), DBP_TEXT(version)), &res);
    if (e == DB_OK && db_rows(res) > 0) util_copy(id_out, CRYPTO_UUID_LEN + 1, db_get(res, 0, 0));
    db_result_free(res);
    return e;
}

/* Create-or-update by (tenant, name, version). Returns 0 (with *created),
 * -1 with err on a validation problem, or a positive db_err. */
static int upsert(struct db *db, const cJSON *body, const char *tenant_id, cJSON **out, char *err,
                  bool *created)
{
    struct api a;
    bool found = false;
    int rc = -1;
    const char *name = NULL, *version = NULL;
    char id[CRYPTO_UUID_LEN + 1];
    memset(&a, 0, sizeof a);
    if (!cJSON_IsObject(body)) {
        snprintf(err, CATALOG_ERR_MAX, "api: must be an object");
        return -1;
    }
    if (text_field(body, "name", 1, CATALOG_NAME_MAX, true, false, &name, err) != 0 ||
        text_field(body, "version", 1, CATALOG_VERSION_MAX, true, false, &version, err) != 0)
        return -1;
    enum db_err e = find_by_name(db, tenant_id, name, version, id);
    if (e != DB_OK) return (int)e;
    if (id[0]) {
        if ((e = api_load(db, id, &a, &found)) != DB_OK) return (int)e;
    }
    if (!found) {
        if (!api_defaults(&a) || crypto_uuid(a.id) != 0) {
            snprintf(err, CATALOG_ERR_MAX, "out of memory");
            goto out;
        }
        util_copy(a.tenant_id, sizeof a.tenant_id, tenant_id);
        a.created_at = util_now_ms();
    }
    if (api_apply(body, &a, !found, err) != 0) goto out;
    util_copy(a.tenant_id, sizeof a.tenant_id, tenant_id);
    a.updated_at = util_now_ms();
    if (found && a.updated_at <= a.created_at) a.updated_at = a.created_at;
    if ((e = api_store(db, &a, !found)) != DB_OK) {
        rc = (int)e;
        goto out;
    }
    *created = !found;
    if (out) *out = api_to_json(&a, true);
    rc = 0;
out:
    api_cleanup(&a);
    return rc;
}

int catalog_upsert(struct db *db, const cJSON *api, const char *tenant_id, cJSON **out, char *err)
{
    bool created;
    cJSON *obj = NULL;
    int rc = upsert(db, api, tenant_id, out ? &obj : NULL, err, &created);
    if (rc == 0 && out) *out = obj;
    return rc;
}

/* ---- helpers for handlers ------------------------------------------------ */

static bool signed_in(const struct req *r)
{
    return r->principal.type != AUTH_ANONYMOUS && r->principal.type != AUTH_NONE;
}

static bool portal_visible(const struct req *r, const struct api *a)
{
    if (strcmp(a->status, "published") != 0 && strcmp(a->status, "deprecated") != 0) return false;
    if (!a->portal_visible) return false;
    if (strcmp(a->audience, "public") == 0) return true;
    if (!signed_in(r)) return false;
    return tenant_all(&r->principal) || strcmp(a->tenant_id, r->principal.tenant_id) == 0;
}

static bool mgmt_visible(const struct req *r, const struct api *a)
{
    return tenant_all(&r->principal) || strcmp(a->tenant_id, r->principal.tenant_id) == 0;
}

int catalog_portal_ref(struct req *r, const char *id, struct catalog_ref *out, bool *visible)
{
    struct api a;
    bool found;
    *visible = false;
    enum db_err e = api_load(db_thread(), id, &a, &found);
    if (e != DB_OK || !found) return (int)e;
    if (portal_visible(r, &a)) {
        char *plans = json_print(a.plans);
        if (!plans) {
            api_cleanup(&a);
            return DB_ERR_INTERNAL;
        }
        util_copy(out->id, sizeof out->id, a.id);
        util_copy(out->tenant_id, sizeof out->tenant_id, a.tenant_id);
        util_copy(out->subscription, sizeof out->subscription, a.subscription);
        out->plans_json = plans;
        *visible = true;
    }
    api_cleanup(&a);
    return DB_OK;
}

static int send_not_found(struct req *r)
{
    return http_send_error(r, 404, "not_found", "no such API");
}

/* Loads r->params[0] for the caller; sends 404/db errors itself and
 * returns the status, or 0 with *a loaded. */
static int load_for(struct req *r, struct api *a, bool portal)
{
    bool found;
    enum db_err e = api_load(db_thread(), r->params[0], a, &found);
    if (e != DB_OK) return http_send_db_error(r, e);
    if (!found) return send_not_found(r);
    if (portal ? !portal_visible(r, a) : !mgmt_visible(r, a)) {
        api_cleanup(a);
        return send_not_found(r);
    }
    return 0;
}

/* ---- list queries -------------------------------------------------------- */

struct facet {
    const char *name;
    long long count;
};

static int facet_cmp(const void *x, const void *y)
{
    const struct facet *a = x, *b = y;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* {name: count} ordered by count (desc), then name; caller frees. */
static cJSON *facet_object(const struct db_result *res)
{
    size_t n = db_rows(res);
    cJSON *o = cJSON_CreateObject();
    struct facet *f = calloc(n ? n : 1, sizeof *f);
    if (!o || !f) {
        free(f);
        cJSON_Delete(o);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        f[i].name = db_get(res, i, 0);
        f[i].count = db_get_int(res, i, 1);
    }
    qsort(f, n, sizeof *f, facet_cmp);
    for (size_t i = 0; i < n; i++)
        if (f[i].name) cJSON_AddNumberToObject(o, f[i].name, (double)f[i].count);
    free(f);
    return o;
}

enum sort_kind { SORT_DEFAULT, SORT_NAME, SORT_UPDATED };

struct list_params {
    struct search_query q;
    char category[CATALOG_CATEGORY_MAX * 4 + 8];
    char tags[CATALOG_TAG_FILTERS_MAX][CATALOG_TAG_MAX * 4 + 8];
    int ntags;
    char status[16];
    enum sort_kind sort;
    long page, page_size;
};

/* After http_query_param said -2 (too long or malformed): true when the
 * value is merely too long, false when it is invalid at any length (an
 * encoded NUL, bad percent-encoding), so the error says which. */
static bool query_param_too_long(const struct req *r, const char *name)
{
    size_t cap = r->query ? strlen(r->query) + 1 : 1;
    char *big = malloc(cap);
    if (!big) return true;
    int n = http_query_param(r, name, 0, big, cap);
    free(big);
    return n >= 0;
}

/* Reads q, category, tag, sort, status (management only), page and
 * page_size. Returns 0, or the status of the 400 it sent. */
static int read_list_params(struct req *r, bool management, struct list_params *lp)
{
    char buf[Q_BUF];
    char err[SEARCH_ERR_MAX];
    memset(lp, 0, sizeof *lp);
    if (http_paging(r, &lp->page, &lp->page_size) != 0) return r->status;
    int n = http_query_param(r, "q", 0, buf, sizeof buf);
    if (n == -2 && !query_param_too_long(r, "q"))
        return http_send_error(r, 400, "invalid_parameter",
                               "q: the value is invalid (it holds a NUL or bad percent-encoding)");
    if (n == -2)
        return http_send_error(r, 400, "invalid_parameter", "q: must be at most %d characters",
                               SEARCH_QUERY_MAX);
    int rc = search_query_parse(n >= 0 ? buf : NULL, n >= 0 ? (size_t)n : 0, &lp->q, err);
    if (rc == -1) return http_send_error(r, 400, "invalid_parameter", "%s", err);
    if (rc != 0) return http_send_error(r, 500, "internal", "out of memory");
    n = http_query_param(r, "category", 0, lp->category, sizeof lp->category);
    if (n == -2 || (n >= 0 && (!util_utf8_valid(lp->category, (size_t)n) ||
                               strlen(lp->category) != (size_t)n)))
        return http_send_error(r, 400, "invalid_parameter",
                               "category: must be valid UTF-8 of at most %d characters",
                               CATALOG_CATEGORY_MAX);
    if (n < 0) lp->category[0] = '\0';
    for (int i = 0;; i++) {
        char *t = lp->tags[lp->ntags < CATALOG_TAG_FILTERS_MAX ? lp->ntags : 0];
        n = http_query_param(r, "tag", i, buf, sizeof buf);
        if (n == -1) break;
        if (n == -2 || !util_utf8_valid(buf, (size_t)n) || strlen(buf) != (size_t)n ||
            (size_t)n >= sizeof lp->tags[0])
            return http_send_error(r, 400, "invalid_parameter",
                                   "tag: must be valid UTF-8 of at most %d characters",
                                   CATALOG_TAG_MAX);
        if (n == 0) continue;
        if (lp->ntags >= CATALOG_TAG_FILTERS_MAX)
            return http_send_error(r, 400, "invalid_parameter", "tag: at most %d tag filters",
                                   CATALOG_TAG_FILTERS_MAX);
        util_copy(t, sizeof lp->tags[0], buf);
        lp->ntags++;
    }
    n = http_query_param(r, "sort", 0, buf, 32);
    if (n >= 0 && strcmp(buf, "name") == 0)
        lp->sort = SORT_NAME;
    else if (n >= 0 && strcmp(buf, "updated") == 0)
        lp->sort = SORT_UPDATED;
    else if (n != -1)
        return http_send_error(r, 400, "invalid_parameter", "sort: must be name or updated");
    if (management) {
        n = http_query_param(r, "status", 0, lp->status, sizeof lp->status);
        if (n == -2 ||
            (n >= 0 && n > 0 && strcmp(lp->status, "draft") != 0 &&
             strcmp(lp->status, "published") != 0 && strcmp(lp->status, "deprecated") != 0))
            return http_send_error(r, 400, "invalid_parameter",
                                   "status: must be draft, published or deprecated");
        if (n < 0) lp->status[0] = '\0';
    }
    return 0;
}

/* Appends the caller's scope and the filters (the WHERE conditions). */
static void add_filters(struct db_where *w, struct req *r, bool management,
                        const struct list_params *lp)
{
    if (management) {
        if (tenant_all(&r->principal))
            db_where_add(w, SQL_W_ALL, NULL, 0);
        else
            DB_WHERE_ADD(w, SQL_W_TENANT, DBP_TEXT(r->principal.tenant_id));
        if (lp->status[0]) DB_WHERE_ADD(w, SQL_W_STATUS, DBP_TEXT(lp->status));
    } else {
        db_where_add(w, SQL_W_PORTAL, NULL, 0);
        if (!signed_in(r))
            db_where_add(w, SQL_W_PUBLIC_ONLY, NULL, 0);
        else if (!tenant_all(&r->principal))
            DB_WHERE_ADD(w, SQL_W_PUBLIC_OR_TENANT, DBP_TEXT(r->principal.tenant_id));
    }
    if (lp->category[0]) DB_WHERE_ADD(w, SQL_W_CATEGORY, DBP_TEXT(lp->category));
    for (int i = 0; i < lp->ntags; i++) DB_WHERE_ADD(w, SQL_W_TAG, DBP_TEXT(lp->tags[i]));
    for (int i = 0; i < lp->q.nwords; i++) DB_WHERE_ADD(w, SQL_W_WORD, DBP_TEXT(lp->q.patterns[i]));
}

/* Runs head + filters + tail. */
static enum db_err run_where(struct db *db, struct req *r, bool management,
                             const struct list_params *lp, const char *head, const char *tail,
                             struct db_result **out)
{
    struct db_where w;
    db_where_init(&w, head);
    add_filters(&w, r, management, lp);
    db_where_add(&w, tail, NULL, 0);
    enum db_err e = db_where_query(db, &w, out);
    db_where_cleanup(&w);
    return e;
}

/* The page of items (rows in COLS order). `nfilters`: the filters' value
 * count (the rank's values must fit beside them). */
static enum db_err run_items(struct db *db, struct req *r, bool management,
                             const struct list_params *lp, int nfilters, struct db_result **out)
{
    struct db_where w;
    db_where_init(&w, SQL_ITEMS_HEAD);
    bool ranked = lp->q.nwords > 0 && lp->sort != SORT_UPDATED &&
                  nfilters + SQL_RANK_PARAMS + 2 <= DB_PARAMS_MAX;
    if (ranked)
        DB_WHERE_ADD(&w, SQL_RANK, DBP_TEXT(lp->q.text), DBP_TEXT(lp->q.name_prefix),
                     DBP_TEXT(lp->q.name_contains));
    else
        db_where_add(&w, SQL_NO_RANK, NULL, 0);
    db_where_add(&w, SQL_ITEMS_FROM, NULL, 0);
    add_filters(&w, r, management, lp);
    db_where_add(&w,
                 lp->sort == SORT_UPDATED ? SQL_ORDER_UPDATED
                 : ranked                 ? SQL_ORDER_RANK
                                          : SQL_ORDER_NAME,
                 NULL, 0);
    DB_WHERE_ADD(&w, SQL_LIMIT_OFFSET, DBP_INT(lp->page_size),
                 DBP_INT((lp->page - 1) * lp->page_size));
    enum db_err e = db_where_query(db, &w, out);
    db_where_cleanup(&w);
    return e;
}

/* Fetches the rows of `ids` (in that order) as list items into items. */
static enum db_err items_by_ids(struct db *db, char (*ids)[CRYPTO_UUID_LEN + 1], size_t nids,
                                cJSON *items);

static int send_list(struct req *r, bool management)
{
    struct list_params lp;
    struct db_where wc;
    struct db_result *count = NULL, *rows = NULL, *cats = NULL, *tags = NULL;
    cJSON *root = NULL;
    int rc;
    memset(&wc, 0, sizeof wc);
    if ((rc = read_list_params(r, management, &lp)) != 0) goto out;
    struct db *db = db_thread();
    root = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(root, "items");
    if (!root || !items) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }

    if (!management) {
        /* The in-process index answers portal queries when it is in step
         * with the database; it returns the same results as the SQL below. */
        struct search_index_request sr = {
            .q = &lp.q,
            .category = lp.category[0] ? lp.category : NULL,
            .ntags = lp.ntags,
            .signed_in = signed_in(r),
            .all_tenants = tenant_all(&r->principal),
            .tenant_id = r->principal.tenant_id,
            .by_updated = lp.sort == SORT_UPDATED,
            .offset = (lp.page - 1) * lp.page_size,
            .limit = lp.page_size,
        };
        for (int i = 0; i < lp.ntags; i++) sr.tags[i] = lp.tags[i];
        struct search_index_result res;
        if (search_index_query(db, &sr, &res) == 0) {
            enum db_err e = items_by_ids(db, res.ids, res.nids, items);
            if (e != DB_OK) {
                search_index_result_cleanup(&res);
                rc = http_send_db_error(r, e);
                goto out;
            }
            json_add_paging(root, res.total, lp.page, lp.page_size);
            cJSON *facets = cJSON_AddObjectToObject(root, "facets");
            cJSON_AddItemToObject(facets, "categories", res.categories);
            cJSON_AddItemToObject(facets, "tags", res.tags);
            res.categories = res.tags = NULL;
            search_index_result_cleanup(&res);
            rc = http_send_json(r, 200, root);
            goto out;
        }
    }

    db_where_init(&wc, SQL_COUNT_HEAD);
    add_filters(&wc, r, management, &lp);
    if (wc.sql.failed || wc.n + 2 > DB_PARAMS_MAX) {
        rc = http_send_error(r, 400, "invalid_parameter", "too many search words and filters");
        goto out;
    }
    enum db_err e;
    if ((e = db_where_query(db, &wc, &count)) != DB_OK ||
        (e = run_items(db, r, management, &lp, wc.n, &rows)) != DB_OK ||
        (e = run_where(db, r, management, &lp, SQL_CATS_HEAD, SQL_CATS_TAIL, &cats)) != DB_OK ||
        (e = run_where(db, r, management, &lp, SQL_TAGS_HEAD, SQL_TAGS_TAIL, &tags)) != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    for (size_t i = 0; i < db_rows(rows); i++) {
        struct api a;
        if (!api_from_row(rows, i, false, &a)) {
            api_cleanup(&a);
            rc = http_send_error(r, 500, "internal", "out of memory");
            goto out;
        }
        cJSON_AddItemToArray(items, api_to_json(&a, false));
        api_cleanup(&a);
    }
    json_add_paging(root, db_get_int(count, 0, 0), lp.page, lp.page_size);
    cJSON *facets = cJSON_AddObjectToObject(root, "facets");
    cJSON_AddItemToObject(facets, "categories", facet_object(cats));
    cJSON_AddItemToObject(facets, "tags", facet_object(tags));
    rc = http_send_json(r, 200, root);
out:
    search_query_cleanup(&lp.q);
    db_where_cleanup(&wc);
    db_result_free(count);
    db_result_free(rows);
    db_result_free(cats);
    db_result_free(tags);
    cJSON_Delete(root);
    return rc;
}

static const char SQL_BY_IDS_HEAD[] = "SELECT " COLS " FROM apis a WHERE a.id IN (";

static enum db_err items_by_ids(struct db *db, char (*ids)[CRYPTO_UUID_LEN + 1], size_t nids,
                                cJSON *items)
{
    if (nids == 0) return DB_OK;
    struct db_where w;
    struct db_result *res = NULL;
    enum db_err e = DB_OK;
    if (nids > PAGE_SIZE_MAX) return DB_ERR_INTERNAL;
    /* Fetched in chunks: the facade binds at most DB_PARAMS_MAX values. */
    for (size_t done = 0; done < nids && e == DB_OK;) {
        size_t chunk = nids - done > DB_PARAMS_MAX ? DB_PARAMS_MAX : nids - done;
        db_where_init(&w, SQL_BY_IDS_HEAD);
        for (size_t i = 0; i < chunk; i++)
            DB_WHERE_ADD(&w, i ? ", ?" : "?", DBP_TEXT(ids[done + i]));
        db_where_add(&w, ")", NULL, 0);
        e = db_where_query(db, &w, &res);
        db_where_cleanup(&w);
        for (size_t i = 0; e == DB_OK && i < chunk; i++) {
            for (size_t k = 0; k < db_rows(res); k++) {
                if (strcmp(db_get(res, k, C_ID), ids[done + i]) != 0) continue;
                struct api a;
                if (api_from_row(res, k, false, &a))
                    cJSON_AddItemToArray(items, api_to_json(&a, false));
                api_cleanup(&a);
                break;
            }
        }
        db_result_free(res);
        res = NULL;
        done += chunk;
    }
    return e;
}

/* ---- handlers ------------------------------------------------------------ */

int catalog_handle_portal_list(struct req *r)
{
    return send_list(r, false);
}

int catalog_handle_list(struct req *r)
{
    return send_list(r, true);
}

int catalog_handle_portal_get(struct req *r)
{
    struct api a;
    int rc = load_for(r, &a, true);
    if (rc) return rc;
    rc = http_send_json_take(r, 200, api_to_json(&a, true));
    api_cleanup(&a);
    return rc;
}

int catalog_handle_get(struct req *r)
{
    struct api a;
    int rc = load_for(r, &a, false);
    if (rc) return rc;
    rc = http_send_json_take(r, 200, api_to_json(&a, true));
    api_cleanup(&a);
    return rc;
}

/* The tenant a write lands in: a cpi-admin's tenant_id field (default
 * "default"), everyone else's own tenant. 0 or the status of the 400 sent. */
static int write_tenant(struct req *r, const cJSON *body, const char *current, char *out, size_t n)
{
    if (!tenant_all(&r->principal)) {
        util_copy(out, n, r->principal.tenant_id);
        return 0;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "tenant_id");
    if (!t || cJSON_IsNull(t)) {
        util_copy(out, n, current ? current : "default");
        return 0;
    }
    if (!cJSON_IsString(t) || !tenant_id_valid(t->valuestring))
        return http_send_error(r, 400, "invalid_field",
                               "tenant_id: 1..%d letters, digits, '-', '_' or '.'",
                               AUTH_TENANT_MAX);
    util_copy(out, n, t->valuestring);
    return 0;
}

static int send_conflict(struct req *r, const struct api *a)
{
    return http_send_error(r, 409, "conflict",
                           "an API with this name and version already exists in tenant %s",
                           a->tenant_id);
}

int catalog_handle_create(struct req *r)
{
    char err[CATALOG_ERR_MAX];
    char other[CRYPTO_UUID_LEN + 1];
    struct api a;
    int rc;
    memset(&a, 0, sizeof a);
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    if (!api_defaults(&a) || crypto_uuid(a.id) != 0) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    if (api_apply(body, &a, true, err) != 0) {
        rc = http_send_error(r, 400, "invalid_field", "%s", err);
        goto out;
    }
    if ((rc = write_tenant(r, body, NULL, a.tenant_id, sizeof a.tenant_id)) != 0) goto out;
    struct db *db = db_thread();
    enum db_err e = find_by_name(db, a.tenant_id, a.name, a.version, other);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (other[0]) {
        rc = send_conflict(r, &a);
        goto out;
    }
    a.created_at = a.updated_at = util_now_ms();
    e = api_store(db, &a, true);
    if (e == DB_ERR_CONSTRAINT)
        rc = send_conflict(r, &a);
    else if (e != DB_OK)
        rc = http_send_db_error(r, e);
    else
        rc = http_send_json_take(r, 201, api_to_json(&a, true));
out:
    api_cleanup(&a);
    cJSON_Delete(body);
    return rc;
}

int catalog_handle_update(struct req *r)
{
    char err[CATALOG_ERR_MAX];
    char other[CRYPTO_UUID_LEN + 1];
    struct api a;
    int rc;
    memset(&a, 0, sizeof a);
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    if ((rc = load_for(r, &a, false)) != 0) goto out;
    /* Publishers (devops) may change only status and portal_visible. */
    if (!rbac_allows(r->principal.role, PERM_CATALOG_WRITE)) {
        const cJSON *it;
        cJSON_ArrayForEach(it, body)
        {
            if (it->string && strcmp(it->string, "status") != 0 &&
                strcmp(it->string, "portal_visible") != 0) {
                rc = http_send_error(r, 403, "forbidden",
                                     "your role (%s) may change only status and portal_visible",
                                     rbac_role_name(r->principal.role));
                goto out;
            }
        }
    }
    if (api_apply(body, &a, false, err) != 0) {
        rc = http_send_error(r, 400, "invalid_field", "%s", err);
        goto out;
    }
    if ((rc = write_tenant(r, body, a.tenant_id, a.tenant_id, sizeof a.tenant_id)) != 0) goto out;
    struct db *db = db_thread();
    enum db_err e = find_by_name(db, a.tenant_id, a.name, a.version, other);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (other[0] && strcmp(other, a.id) != 0) {
        rc = send_conflict(r, &a);
        goto out;
    }
    a.updated_at = util_now_ms();
    e = api_store(db, &a, false);
    if (e == DB_ERR_CONSTRAINT)
        rc = send_conflict(r, &a);
    else if (e != DB_OK)
        rc = http_send_db_error(r, e);
    else
        rc = http_send_json_take(r, 200, api_to_json(&a, true));
out:
    api_cleanup(&a);
    cJSON_Delete(body);
    return rc;
}

int catalog_handle_delete(struct req *r)
{
    long affected = 0;
    if (!crypto_is_uuid(r->params[0])) return send_not_found(r);
    struct db *db = db_thread();
    enum db_err e =
        tenant_all(&r->principal)
            ? db_exec(db, SQL_DELETE, DB_ARGS(DBP_TEXT(r->params[0])), &affected)
            : db_exec(db, SQL_DELETE_TENANT,
                      DB_ARGS(DBP_TEXT(r->params[0]), DBP_TEXT(r->principal.tenant_id)), &affected);
    if (e != DB_OK) return http_send_db_error(r, e);
    if (affected == 0) return send_not_found(r);
    return http_send_no_content(r);
}

/* Builds the management-shape object for an imported document. -1 with err
 * (naming the document field) when the document is not usable. */
static cJSON *import_body(const cJSON *doc, const char *text, bool is_yaml, char *err)
{
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(doc, "info");
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(info, "title");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(info, "version");
    const cJSON *desc = cJSON_GetObjectItemCaseSensitive(info, "description");
    const cJSON *cat = cJSON_GetObjectItemCaseSensitive(doc, "x-category");
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(doc, "tags");
    size_t chars = util_utf8_len(title->valuestring, strlen(title->valuestring));
    if (chars > CATALOG_NAME_MAX || util_has_control(title->valuestring, false)) {
        snprintf(err, CATALOG_ERR_MAX,
                 "info.title: must be 1 to %d characters without control characters",
                 CATALOG_NAME_MAX);
        return NULL;
    }
    chars = util_utf8_len(version->valuestring, strlen(version->valuestring));
    if (chars > CATALOG_VERSION_MAX || util_has_control(version->valuestring, false)) {
        snprintf(err, CATALOG_ERR_MAX,
                 "info.version: must be 1 to %d characters without control characters",
                 CATALOG_VERSION_MAX);
        return NULL;
    }
    if (desc && !cJSON_IsNull(desc) &&
        (!cJSON_IsString(desc) ||
         util_utf8_len(desc->valuestring, strlen(desc->valuestring)) > CATALOG_DESCRIPTION_MAX)) {
        snprintf(err, CATALOG_ERR_MAX,
                 "info.description: must be a string of at most %d characters",
                 CATALOG_DESCRIPTION_MAX);
        return NULL;
    }
    if (cat && !cJSON_IsNull(cat) &&
        (!cJSON_IsString(cat) || util_has_control(cat->valuestring, false) ||
         util_utf8_len(cat->valuestring, strlen(cat->valuestring)) > CATALOG_CATEGORY_MAX)) {
        snprintf(err, CATALOG_ERR_MAX, "x-category: must be a string of at most %d characters",
                 CATALOG_CATEGORY_MAX);
        return NULL;
    }
    if (tags && !cJSON_IsNull(tags) && !cJSON_IsArray(tags)) {
        snprintf(err, CATALOG_ERR_MAX, "tags: must be an array of {name} objects");
        return NULL;
    }
    cJSON *b = cJSON_CreateObject();
    if (!b) goto oom;
    cJSON_AddStringToObject(b, "name", title->valuestring);
    cJSON_AddStringToObject(b, "version", version->valuestring);
    /* cJSON_IsString(NULL) is false: the analyzer cannot see it. */
    if (cJSON_IsString(desc))
        cJSON_AddStringToObject(b, "description",
                                desc->valuestring); // NOLINT(clang-analyzer-core.NullDereference)
    if (cJSON_IsString(cat))
        cJSON_AddStringToObject(b, "category",
                                cat->valuestring); // NOLINT(clang-analyzer-core.NullDereference)
    cJSON *tl = cJSON_AddArrayToObject(b, "tags");
    const cJSON *t;
    int i = 0;
    cJSON_ArrayForEach(t, tags)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(t, "name");
        if (!cJSON_IsObject(t) || !cJSON_IsString(name)) {
            snprintf(err, CATALOG_ERR_MAX, "tags[%d].name: is required (a string)", i);
            cJSON_Delete(b);
            return NULL;
        }
        size_t len = util_utf8_len(name->valuestring, strlen(name->valuestring));
        if (len < 1 || len > CATALOG_TAG_MAX || util_has_control(name->valuestring, false)) {
            snprintf(err, CATALOG_ERR_MAX, "tags[%d].name: must be 1 to %d characters", i,
                     CATALOG_TAG_MAX);
            cJSON_Delete(b);
            return NULL;
        }
        /* The catalog keeps the first CATALOG_TAGS_MAX tags of a document. */
        if (cJSON_GetArraySize(tl) < CATALOG_TAGS_MAX) {
            bool dup = false;
            const cJSON *c;
            cJSON_ArrayForEach(c, tl) dup = dup || strcmp(c->valuestring, name->valuestring) == 0;
            if (!dup) cJSON_AddItemToArray(tl, cJSON_CreateString(name->valuestring));
        }
        i++;
    }
    if (is_yaml)
        cJSON_AddStringToObject(b, "openapi", text);
    else
        cJSON_AddItemToObject(b, "openapi", cJSON_Duplicate(doc, true));
    return b;
oom:
    snprintf(err, CATALOG_ERR_MAX, "out of memory");
    return NULL;
}

int catalog_handle_import(struct req *r)
{
    char err[CATALOG_ERR_MAX];
    char tenant[AUTH_TENANT_MAX + 1];
    int is_yaml = 0, rc;
    bool created = false;
    cJSON *doc = NULL, *body = NULL, *out = NULL;
    if (!r->body || r->body_len == 0)
        return http_send_error(r, 400, "invalid_openapi",
                               "the request body must be an OpenAPI 3 document (JSON or YAML)");
    doc = openapi_parse(r->body, r->body_len, &is_yaml, err);
    if (!doc) {
        rc = http_send_error(r, 400, "invalid_openapi", "%s", err);
        goto out;
    }
    if (openapi_validate(doc, err) != 0) {
        rc = http_send_error(r, 400, "invalid_openapi", "%s", err);
        goto out;
    }
    body = import_body(doc, r->body, is_yaml != 0, err);
    if (!body) {
        rc = http_send_error(r, 400, "invalid_openapi", "%s", err);
        goto out;
    }
    util_copy(tenant, sizeof tenant, r->principal.tenant_id);
    if (tenant_all(&r->principal)) {
        char t[AUTH_TENANT_MAX + 2];
        int n = http_query_param(r, "tenant_id", 0, t, sizeof t);
        if (n >= 0 && !tenant_id_valid(t)) {
            rc = http_send_error(r, 400, "invalid_parameter",
                                 "tenant_id: 1..%d letters, digits, '-', '_' or '.'",
                                 AUTH_TENANT_MAX);
            goto out;
        }
        util_copy(tenant, sizeof tenant, n >= 0 ? t : "default");
    }
    rc = upsert(db_thread(), body, tenant, &out, err, &created);
    if (rc < 0) {
        /* The document's fields map onto the API: name the document's. */
        rc = http_send_error(r, 400, "invalid_openapi", "%s", err);
    } else if (rc == DB_ERR_CONSTRAINT) {
        rc = http_send_error(r, 409, "conflict", "the API changed concurrently; try again");
    } else if (rc > 0) {
        rc = http_send_db_error(r, rc);
    } else {
        rc = http_send_json_take(r, created ? 201 : 200, out);
        out = NULL;
    }
out:
    cJSON_Delete(doc);
    cJSON_Delete(body);
    cJSON_Delete(out);
    return rc;
}
