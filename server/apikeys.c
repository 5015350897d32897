/*
 * apikeys.c — API keys. Two sources:
 *  - auth.keys_file: a YAML list of {name, key | sha256, role, tenant},
 *    loaded once at start (keys held only as SHA-256);
 *  - the database: keys "pk_<8-char id>_<secret>" created through the API or
 *    the CLI, stored as SHA-256 with expiry, last use and revocation.
 * Every comparison of secrets is constant-time.
 *
 * Threading: the file table is written by apikeys_load_file before the
 * server starts and read-only afterwards; database work uses db_thread().
 */
#define _GNU_SOURCE
#include "portico/apikeys.h"

#include <cJSON.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "portico/config.h"
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

#define FILE_KEYS_MAX 1024

struct file_key {
    char name[AUTH_NAME_MAX + 1];
    char sha256[CRYPTO_SHA256_HEX_LEN + 1];
    enum role role;
    char tenant[AUTH_TENANT_MAX + 1];
};

static struct file_key *file_keys;
static size_t file_key_count;

void apikeys_free_file(void)
{
    free(file_keys);
    file_keys = NULL;
    file_key_count = 0;
}

static bool is_lower_hex64(const char *s)
{
    if (strlen(s) != CRYPTO_SHA256_HEX_LEN) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && !(*s >= 'a' && *s <= 'f')) return false;
    return true;
}

/* Validates one list entry into k; returns the number of problems printed. */
static int load_entry(yaml_document_t *doc, yaml_node_t *item, size_t idx, const char *path,
                      FILE *err, struct file_key *k)
{
    int problems = 0;
    unsigned long line = (unsigned long)item->start_mark.line + 1;
    const char *name = NULL, *key = NULL, *sha = NULL, *role = NULL, *tenant = "default";
    if (item->type != YAML_MAPPING_NODE) {
        fprintf(err, "%s:%lu: keys[%zu]: must be a mapping {name, key or sha256, role, tenant}\n",
                path, line, idx);
        return 1;
    }
    for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
         p++) {
        yaml_node_t *kn = yaml_document_get_node(doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(doc, p->value);
        if (!kn || !vn || kn->type != YAML_SCALAR_NODE) continue;
        const char *f = (const char *)kn->data.scalar.value;
        unsigned long fl = (unsigned long)vn->start_mark.line + 1;
        if (vn->type != YAML_SCALAR_NODE) {
            fprintf(err, "%s:%lu: keys[%zu].%s: must be a single value\n", path, fl, idx, f);
            problems++;
            continue;
        }
        const char *v = (const char *)vn->data.scalar.value;
        if (strcmp(f, "name") == 0)
            name = v;
        else if (strcmp(f, "key") == 0)
            key = v;
        else if (strcmp(f, "sha256") == 0)
            sha = v;
        else if (strcmp(f, "role") == 0)
            role = v;
        else if (strcmp(f, "tenant") == 0)
            tenant = v;
        else {
            fprintf(err, "%s:%lu: keys[%zu].%s: unknown key\n", path, fl, idx, f);
            problems++;
        }
    }
    if (!name || !name[0] || strlen(name) > AUTH_NAME_MAX || util_has_control(name, false)) {
        fprintf(err, "%s:%lu: keys[%zu].name: is required (1..%d characters)\n", path, line, idx,
                AUTH_NAME_MAX);
        problems++;
    }
    if ((key != NULL) == (sha != NULL)) {
        fprintf(err, "%s:%lu: keys[%zu]: give exactly one of key or sha256\n", path, line, idx);
        problems++;
    } else if (key && (strlen(key) < AUTH_KEY_MIN_LEN || strlen(key) > AUTH_KEY_MAX_LEN)) {
        fprintf(err, "%s:%lu: keys[%zu].key: must be %d to %d characters\n", path, line, idx,
                AUTH_KEY_MIN_LEN, AUTH_KEY_MAX_LEN);
        problems++;
    } else if (sha && !is_lower_hex64(sha)) {
        fprintf(err, "%s:%lu: keys[%zu].sha256: must be 64 lowercase hex characters\n", path, line,
                idx);
        problems++;
    }
    if (rbac_role_parse(role) == ROLE_NONE) {
        fprintf(err, "%s:%lu: keys[%zu].role: must be cpi-admin, tenant-admin, devops or viewer\n",
                path, line, idx);
        problems++;
    }
    if (!tenant_id_valid(tenant)) {
        fprintf(err, "%s:%lu: keys[%zu].tenant: 1..%d letters, digits, '-', '_' or '.'\n", path,
                line, idx, AUTH_TENANT_MAX);
        problems++;
    }
    if (problems) return problems;
    util_copy(k->name, sizeof k->name, name);
    if (key)
        crypto_sha256_hex(key, strlen(key), k->sha256);
    else
        util_copy(k->sha256, sizeof k->sha256, sha);
    k->role = rbac_role_parse(role);
    util_copy(k->tenant, sizeof k->tenant, tenant);
    return 0;
}

int apikeys_load_file(const char *path, FILE *err)
{
    apikeys_free_file();
    if (!path || !path[0]) return 0;
    int problems = 0;
    char msg[256];
    char *raw = NULL, *text = NULL;
    yaml_parser_t parser;
    yaml_document_t doc;
    bool parser_ok = false, doc_ok = false;

    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(err, "%s: auth.keys_file: cannot open\n", path);
        return -1;
    }
    raw = malloc(CONFIG_FILE_MAX_BYTES + 1);
    size_t n = raw ? fread(raw, 1, CONFIG_FILE_MAX_BYTES, f) : 0;
    fclose(f);
    if (!raw) return -1;
    raw[n] = '\0';
    text = config_interpolate(raw, msg, sizeof msg);
    if (!text) {
        fprintf(err, "%s:%s\n", path, strncmp(msg, "line ", 5) == 0 ? msg + 5 : msg);
        problems++;
        goto out;
    }
    parser_ok = yaml_parser_initialize(&parser);
    if (!parser_ok) goto out;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    if (!yaml_parser_load(&parser, &doc)) {
        fprintf(err, "%s:%lu: YAML syntax error: %s\n", path,
                (unsigned long)parser.problem_mark.line + 1, parser.problem ? parser.problem : "?");
        problems++;
        goto out;
    }
    doc_ok = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) goto out;
    if (root->type != YAML_SEQUENCE_NODE) {
        fprintf(err, "%s:1: the keys file must be a list of {name, key or sha256, role, tenant}\n",
                path);
        problems++;
        goto out;
    }
    size_t count = (size_t)(root->data.sequence.items.top - root->data.sequence.items.start);
    if (count > FILE_KEYS_MAX) {
        fprintf(err, "%s: at most %d keys\n", path, FILE_KEYS_MAX);
        problems++;
        goto out;
    }
    file_keys = calloc(count ? count : 1, sizeof *file_keys);
    if (!file_keys) goto out;
    for (size_t i = 0; i < count; i++) {
        yaml_node_t *item = yaml_document_get_node(&doc, root->data.sequence.items.start[i]);
        if (!item) continue;
        int pr = load_entry(&doc, item, i, path, err, &file_keys[file_key_count]);
        if (pr)
            problems += pr;
        else
            file_key_count++;
    }
out:
    if (doc_ok) yaml_document_delete(&doc);
    if (parser_ok) yaml_parser_delete(&parser);
    free(raw);
    free(text);
    if (problems) {
        apikeys_free_file();
        return -1;
    }
    return 0;
}

static const char SQL_LOOKUP[] =
    "SELECT id, name, key_hash, role, tenant_id, expires_at, revoked_at, last_used_at "
    "FROM api_keys WHERE prefix = $1";
static const char SQL_TOUCH[] = "UPDATE api_keys SET last_used_at = $1 WHERE id = $2";

/* "pk_<8 id chars>_<secret>" → the visible prefix "pk_<id>". */
static bool db_key_prefix(const char *key, char prefix[16])
{
    if (strncmp(key, "pk_", 3) != 0 || strlen(key) < 3 + 8 + 1 + 16 || key[11] != '_') return false;
    for (int i = 3; i < 11; i++)
        if (!isalnum((unsigned char)key[i])) return false;
    memcpy(prefix, key, 11);
    prefix[11] = '\0';
    return true;
}

int apikeys_lookup(const char *key, struct principal *p)
{
    char hash[CRYPTO_SHA256_HEX_LEN + 1];
    crypto_sha256_hex(key, strlen(key), hash);
    const struct file_key *found = NULL;
    /* Scan every file key without an early exit. */
    for (size_t i = 0; i < file_key_count; i++)
        if (crypto_streq(hash, file_keys[i].sha256) && !found) found = &file_keys[i];
    if (found) {
        memset(p, 0, sizeof *p);
        p->type = AUTH_API_KEY;
        p->role = found->role;
        snprintf(p->subject, sizeof p->subject, "apikey:%s", found->name);
        util_copy(p->name, sizeof p->name, found->name);
        util_copy(p->tenant_id, sizeof p->tenant_id, found->tenant);
        util_copy(p->file_key_sha256, sizeof p->file_key_sha256, found->sha256);
        p->file_key = true;
        return 0;
    }
    char prefix[16];
    if (!db_key_prefix(key, prefix)) return 1;
    struct db *db = db_thread();
    struct db_result *res = NULL;
    enum db_err e = db_query(db, SQL_LOOKUP, DB_ARGS(DBP_TEXT(prefix)), &res);
    if (e != DB_OK) return -(int)e;
    int rc = 1;
    if (db_rows(res) == 1 && crypto_streq(hash, db_get(res, 0, 2))) {
        int64_t now = util_now_ms();
        bool expired = !db_is_null(res, 0, 5) && db_get_int(res, 0, 5) <= now;
        bool revoked = !db_is_null(res, 0, 6);
        enum role role = rbac_role_parse(db_get(res, 0, 3));
        if (!expired && !revoked && role != ROLE_NONE) {
            memset(p, 0, sizeof *p);
            p->type = AUTH_API_KEY;
            p->role = role;
            snprintf(p->subject, sizeof p->subject, "apikey:%s", db_get(res, 0, 1));
            util_copy(p->name, sizeof p->name, db_get(res, 0, 1));
            util_copy(p->tenant_id, sizeof p->tenant_id, db_get(res, 0, 4));
            util_copy(p->key_id, sizeof p->key_id, db_get(res, 0, 0));
            /* last_used_at to the minute: avoids a write on every request. */
            if (db_is_null(res, 0, 7) || now - db_get_int(res, 0, 7) > 60000)
                db_exec(db, SQL_TOUCH, DB_ARGS(DBP_INT(now), DBP_TEXT(p->key_id)), NULL);
            rc = 0;
        }
    }
    db_result_free(res);
    return rc;
}

void apikeys_file_key_ref(const char *secret, const char *sha256_hex,
                          char out[CRYPTO_SHA256_HEX_LEN + 1])
{
    crypto_hmac_sha256_hex(secret, strlen(secret), sha256_hex, strlen(sha256_hex), out);
}

bool apikeys_file_key_current(const char *name, const char *role, const char *tenant,
                              const char *secret, const char *ref)
{
    if (!name || !role || !tenant || !secret || !ref || !ref[0]) return false;
    enum role want = rbac_role_parse(role);
    bool ok = false;
    for (size_t i = 0; i < file_key_count; i++) {
        const struct file_key *k = &file_keys[i];
        if (strcmp(k->name, name) != 0 || k->role != want || strcmp(k->tenant, tenant) != 0)
            continue;
        char mine[CRYPTO_SHA256_HEX_LEN + 1];
        apikeys_file_key_ref(secret, k->sha256, mine);
        ok |= crypto_streq(mine, ref);
    }
    return ok;
}

/* ---- creation ----------------------------------------------------------- */

#define KEY_ID_CHARS 8
#define KEY_SECRET_BYTES 32 /* 256-bit secrets */
#define KEY_CREATE_TRIES 4  /* retries when the random id collides */

static const char SQL_NAME_TAKEN[] =
    "SELECT 1 FROM api_keys WHERE tenant_id = $1 AND name = $2 AND revoked_at IS NULL";
static const char SQL_INSERT[] =
    "INSERT INTO api_keys (id, name, prefix, key_hash, role, tenant_id, created_by, created_at, "
    "expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/* A random visible id of KEY_ID_CHARS lowercase letters and digits
 * (rejection sampling keeps every character equally likely). 0 on success. */
static int random_key_id(char out[KEY_ID_CHARS + 1])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = 0;
    while (n < KEY_ID_CHARS) {
        unsigned char buf[16];
        if (crypto_random(buf, sizeof buf) != 0) return -1;
        for (size_t i = 0; i < sizeof buf && n < KEY_ID_CHARS; i++)
            if (buf[i] < 252) out[n++] = alphabet[buf[i] % 36];
    }
    out[n] = '\0';
    return 0;
}

/* "<tag>_<id>_<base64url secret>" into out; false when out is too small. */
static bool format_key(const char *tag, const char *id, const unsigned char *secret,
                       size_t secret_len, char *out, size_t n)
{
    char b64[(KEY_SECRET_BYTES + 2) / 3 * 4 + 1];
    if (secret_len > KEY_SECRET_BYTES) return false;
    crypto_b64url_encode(secret, secret_len, b64);
    int w = snprintf(out, n, "%s_%s_%s", tag, id, b64);
    return w > 0 && (size_t)w < n;
}

int apikeys_mint(const char *tag, char key_out[APIKEYS_KEY_MAX],
                 char prefix_out[APIKEYS_PREFIX_MAX], char hash_out[CRYPTO_SHA256_HEX_LEN + 1])
{
    char kid[KEY_ID_CHARS + 1], key[APIKEYS_KEY_MAX], prefix[APIKEYS_PREFIX_MAX];
    unsigned char secret[KEY_SECRET_BYTES];
    if (strlen(tag) > 4 || random_key_id(kid) != 0 || crypto_random(secret, sizeof secret) != 0)
        return -1;
    if (!format_key(tag, kid, secret, sizeof secret, key, sizeof key)) return -1;
    snprintf(prefix, sizeof prefix, "%s_%s", tag, kid);
    crypto_sha256_hex(key, strlen(key), hash_out);
    memcpy(key_out, key, sizeof key);
    memcpy(prefix_out, prefix, sizeof prefix);
    return 0;
}

/* 1 when an active key (or a keys-file key) of tenant already has this name,
 * 0 when not, or a negated db_err. */
static int name_taken(struct db *db, const char *tenant, const char *name)
{
    for (size_t i = 0; i < file_key_count; i++)
        if (strcmp(file_keys[i].name, name) == 0 && strcmp(file_keys[i].tenant, tenant) == 0)
            return 1;
    struct db_result *res = NULL;
    enum db_err e = db_query(db, SQL_NAME_TAKEN, DB_ARGS(DBP_TEXT(tenant), DBP_TEXT(name)), &res);
    if (e != DB_OK) return -(int)e;
    int taken = db_rows(res) > 0;
    db_result_free(res);
    return taken;
}

int apikeys_create(const char *name, const char *role, const char *tenant, long long expires_at_ms,
                   const char *created_by, char *key_out, char *id_out)
{
    if (!name || !name[0] || util_utf8_len(name, strlen(name)) > AUTH_NAME_MAX ||
        !util_utf8_valid(name, strlen(name)) || util_has_control(name, false))
        return -1;
    if (rbac_role_parse(role) == ROLE_NONE || !tenant || !tenant_id_valid(tenant)) return -1;

    struct db *db = db_thread();
    enum db_err e = DB_ERR_INTERNAL;
    int taken = name_taken(db, tenant, name);
    if (taken != 0) return taken > 0 ? APIKEYS_NAME_TAKEN : -taken;
    for (int attempt = 0; attempt < KEY_CREATE_TRIES; attempt++) {
        char id[CRYPTO_UUID_LEN + 1], prefix[APIKEYS_PREFIX_MAX], key[APIKEYS_KEY_MAX];
        char hash[CRYPTO_SHA256_HEX_LEN + 1];
        if (crypto_uuid(id) != 0 || apikeys_mint("pk", key, prefix, hash) != 0)
            return DB_ERR_INTERNAL;
        e = db_exec(db, SQL_INSERT,
                    DB_ARGS(DBP_TEXT(id), DBP_TEXT(name), DBP_TEXT(prefix), DBP_TEXT(hash),
                            DBP_TEXT(role), DBP_TEXT(tenant),
                            DBP_TEXT(created_by ? created_by : ""), DBP_INT(util_now_ms()),
                            expires_at_ms > 0 ? DBP_INT(expires_at_ms) : DBP_NULL),
                    NULL);
        if (e == DB_OK) {
            memcpy(key_out, key, strlen(key) + 1);
            memcpy(id_out, id, sizeof id);
            return DB_OK;
        }
        if (e != DB_ERR_CONSTRAINT) break; /* only an id collision is worth a retry */
        if (name_taken(db, tenant, name) > 0) return APIKEYS_NAME_TAKEN; /* lost a race */
    }
    return (int)e;
}

/* ---- the HTTP API ------------------------------------------------------- */

#define KEY_COLS                                                                                   \
    "id, name, prefix, role, tenant_id, created_by, created_at, expires_at, last_used_at, "        \
    "revoked_at"

static const char SQL_GET[] = "SELECT " KEY_COLS " FROM api_keys WHERE id = $1";
/* A caller sees only keys whose role it could mint ($1..$4: those role
 * names, unused slots ''), and only its own tenant's unless cross-tenant. */
#define KEY_ROLES "role IN ($1, $2, $3, $4)"
static const char SQL_LIST_ALL[] = "SELECT " KEY_COLS " FROM api_keys WHERE " KEY_ROLES
                                   " ORDER BY created_at DESC, id LIMIT $5 OFFSET $6";
static const char SQL_COUNT_ALL[] = "SELECT COUNT(*) FROM api_keys WHERE " KEY_ROLES;
static const char SQL_LIST_TENANT[] =
    "SELECT " KEY_COLS " FROM api_keys WHERE " KEY_ROLES " AND tenant_id = $5 "
    "ORDER BY created_at DESC, id LIMIT $6 OFFSET $7";
static const char SQL_COUNT_TENANT[] =
    "SELECT COUNT(*) FROM api_keys WHERE " KEY_ROLES " AND tenant_id = $5";
static const char SQL_REVOKE[] =
    "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
static const char SQL_DELETE_KEY_SESSIONS[] = "DELETE FROM sessions WHERE key_id = $1";

static void add_time_col(cJSON *o, const char *name, const struct db_result *res, size_t row,
                         int col)
{
    json_add_time(o, name, db_is_null(res, row, col) ? -1 : db_get_int(res, row, col));
}

/* One key as JSON (never the hash). Caller frees with cJSON_Delete. */
static cJSON *key_json(const struct db_result *res, size_t row)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "id", db_get(res, row, 0));
    cJSON_AddStringToObject(o, "name", db_get(res, row, 1));
    cJSON_AddStringToObject(o, "prefix", db_get(res, row, 2));
    cJSON_AddStringToObject(o, "role", db_get(res, row, 3));
    cJSON_AddStringToObject(o, "tenant_id", db_get(res, row, 4));
    cJSON_AddStringToObject(o, "created_by", db_get(res, row, 5));
    add_time_col(o, "created_at", res, row, 6);
    add_time_col(o, "expires_at", res, row, 7);
    add_time_col(o, "last_used_at", res, row, 8);
    cJSON_AddBoolToObject(o, "revoked", !db_is_null(res, row, 9));
    add_time_col(o, "revoked_at", res, row, 9);
    return o;
}

#define KEY_ROLE_SLOTS 4

/* The role names the caller may mint, padded with "" to KEY_ROLE_SLOTS. */
static void mintable_roles(const struct req *r, const char *names[KEY_ROLE_SLOTS])
{
    int n = rbac_roles_within(r->principal.role, names, KEY_ROLE_SLOTS);
    for (int i = n; i < KEY_ROLE_SLOTS; i++) names[i] = "";
}

/* True when the caller may see and revoke a key of this role and tenant. */
static bool key_manageable(const struct req *r, const char *role, const char *tenant)
{
    if (!rbac_role_within(rbac_role_parse(role), r->principal.role)) return false;
    return tenant_all(&r->principal) || strcmp(tenant, r->principal.tenant_id) == 0;
}

int apikeys_handle_list(struct req *r)
{
    long page, page_size;
    if (http_paging(r, &page, &page_size) != 0) return r->status;
    struct db *db = db_thread();
    struct db_result *rows = NULL, *count = NULL;
    cJSON *out = NULL;
    enum db_err e;
    int64_t offset = (int64_t)(page - 1) * page_size;
    const char *ro[KEY_ROLE_SLOTS];
    mintable_roles(r, ro);
#define RO DBP_TEXT(ro[0]), DBP_TEXT(ro[1]), DBP_TEXT(ro[2]), DBP_TEXT(ro[3])
    if (tenant_all(&r->principal)) {
        e = db_query(db, SQL_LIST_ALL, DB_ARGS(RO, DBP_INT(page_size), DBP_INT(offset)), &rows);
        if (e == DB_OK) e = db_query(db, SQL_COUNT_ALL, DB_ARGS(RO), &count);
    } else {
        const char *t = r->principal.tenant_id;
        e = db_query(db, SQL_LIST_TENANT,
                     DB_ARGS(RO, DBP_TEXT(t), DBP_INT(page_size), DBP_INT(offset)), &rows);
        if (e == DB_OK) e = db_query(db, SQL_COUNT_TENANT, DB_ARGS(RO, DBP_TEXT(t)), &count);
    }
#undef RO
    int rc;
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    out = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(out, "items");
    for (size_t i = 0; i < db_rows(rows); i++) cJSON_AddItemToArray(items, key_json(rows, i));
    json_add_paging(out, (db_rows(count) ? db_get_int(count, 0, 0) : 0), page, page_size);
    rc = http_send_json_take(r, 200, out);
out:
    db_result_free(rows);
    db_result_free(count);
    return rc;
}

/* Validates the create body into the out-parameters; sends 400 and returns
 * its status on a bad field, 0 when valid. */
static int parse_create(struct req *r, const cJSON *body, const char **name, const char **role,
                        const char **tenant, int64_t *expires_ms)
{
    char err[JSON_ERR_MAX];
    if (json_only_keys(body, "name|role|tenant_id|expires_at", err) != 0 ||
        json_string(body, "name", 1, AUTH_NAME_MAX, true, name, err) != 0 ||
        json_enum(body, "role", "cpi-admin|tenant-admin|devops|viewer", true, role, err) != 0 ||
        json_string(body, "tenant_id", 1, AUTH_TENANT_MAX, false, tenant, err) < 0)
        return http_send_error(r, 400, "invalid_field", "%s", err);
    if (util_has_control(*name, false))
        return http_send_error(r, 400, "invalid_field",
                               "name: must not contain control characters");
    if (*tenant && !tenant_id_valid(*tenant))
        return http_send_error(r, 400, "invalid_field",
                               "tenant_id: 1..%d letters, digits, '-', '_' or '.'",
                               AUTH_TENANT_MAX);
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(body, "expires_at");
    *expires_ms = 0;
    if (exp && !cJSON_IsNull(exp)) {
        int64_t ms;
        if (!cJSON_IsString(exp) || util_time_parse(exp->valuestring, &ms) != 0)
            return http_send_error(r, 400, "invalid_field",
                                   "expires_at: must be an RFC 3339 time such as "
                                   "2026-11-22T08:00:00Z");
        if (ms <= util_now_ms())
            return http_send_error(r, 400, "invalid_field", "expires_at: must be in the future");
        *expires_ms = ms;
    }
    return 0;
}

int apikeys_handle_create(struct req *r)
{
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    const char *name = NULL, *role = NULL, *tenant = NULL;
    int64_t expires_ms = 0;
    struct db_result *res = NULL;
    int rc = parse_create(r, body, &name, &role, &tenant, &expires_ms);
    if (rc) goto out;

    /* Roles are permission sets, not a ladder: a key may carry only
     * permissions its creator has (a tenant-admin cannot mint devops, which
     * has gateway maintenance). Only a cross-tenant admin mints elsewhere. */
    if (!rbac_role_within(rbac_role_parse(role), r->principal.role)) {
        rc = http_send_error(r, 403, "forbidden",
                             "your role (%s) may not create %s keys: that role has permissions "
                             "yours does not",
                             rbac_role_name(r->principal.role), role);
        goto out;
    }
    if (!tenant_all(&r->principal)) {
        if (tenant && strcmp(tenant, r->principal.tenant_id) != 0) {
            rc = http_send_error(r, 403, "forbidden",
                                 "your role (%s) may create keys only for tenant %s",
                                 rbac_role_name(r->principal.role), r->principal.tenant_id);
            goto out;
        }
    }
    if (!tenant) tenant = r->principal.tenant_id;

    char key[128], id[CRYPTO_UUID_LEN + 1];
    int e = apikeys_create(name, role, tenant, expires_ms, r->principal.subject, key, id);
    if (e == APIKEYS_NAME_TAKEN) {
        rc =
            http_send_error(r, 409, "name_taken",
                            "name: tenant %s already has an active API key with this name", tenant);
        goto out;
    }
    if (e < 0) {
        rc = http_send_error(r, 400, "invalid_field", "name or tenant_id is not valid");
        goto out;
    }
    if (e == DB_OK) e = db_query(db_thread(), SQL_GET, DB_ARGS(DBP_TEXT(id)), &res);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    if (db_rows(res) != 1) {
        rc = http_send_error(r, 500, "internal", "internal error (request %s)", r->request_id);
        goto out;
    }
    cJSON *o = key_json(res, 0);
    if (o) cJSON_AddStringToObject(o, "key", key); /* shown once, never stored */
    rc = http_send_json_take(r, 201, o);
    log_info("API key %s (%s, %s, tenant %s) created by %s", id, name, role, tenant,
             r->principal.subject);
out:
    cJSON_Delete(body);
    db_result_free(res);
    return rc;
}

int apikeys_handle_delete(struct req *r)
{
    const char *id = r->params[0];
    struct db *db = db_thread();
    struct db_result *res = NULL;
    bool in_tx = false;
    int rc;
    if (!crypto_is_uuid(id)) {
        rc = http_send_error(r, 404, "not_found", "no such API key");
        goto out;
    }
    enum db_err e = db_query(db, SQL_GET, DB_ARGS(DBP_TEXT(id)), &res);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    /* Another tenant's key, or one of a role the caller could not mint,
     * answers like a missing one: no existence oracle. */
    if (db_rows(res) != 1 || !key_manageable(r, db_get(res, 0, 3), db_get(res, 0, 4))) {
        rc = http_send_error(r, 404, "not_found", "no such API key");
        goto out;
    }
    e = db_begin(db);
    in_tx = e == DB_OK;
    if (e == DB_OK)
        e = db_exec(db, SQL_REVOKE, DB_ARGS(DBP_INT(util_now_ms()), DBP_TEXT(id)), NULL);
    /* Sessions signed in with this key end with it. */
    if (e == DB_OK) e = db_exec(db, SQL_DELETE_KEY_SESSIONS, DB_ARGS(DBP_TEXT(id)), NULL);
    if (e == DB_OK) e = db_commit(db);
    if (e != DB_OK) {
        rc = http_send_db_error(r, e);
        goto out;
    }
    in_tx = false;
    events_credentials_changed(); /* its open event streams end now */
    log_info("API key %s revoked by %s", id, r->principal.subject);
    rc = http_send_no_content(r);
out:
    if (in_tx) db_rollback(db);
    db_result_free(res);
    return rc;
}
