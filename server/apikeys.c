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
#include "portico/http.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/rbac.h"
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

static bool valid_tenant(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > AUTH_TENANT_MAX) return false;
    for (; *t; t++)
        if (!isalnum((unsigned char)*t) && *t != '-' && *t != '_' && *t != '.') return false;
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
        if (strcmp(f, "name") == 0) name = v;
        else if (strcmp(f, "key") == 0) key = v;
        else if (strcmp(f, "sha256") == 0) sha = v;
        else if (strcmp(f, "role") == 0) role = v;
        else if (strcmp(f, "tenant") == 0) tenant = v;
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
    if (!valid_tenant(tenant)) {
        fprintf(err, "%s:%lu: keys[%zu].tenant: 1..%d letters, digits, '-', '_' or '.'\n", path,
                line, idx, AUTH_TENANT_MAX);
        problems++;
    }
    if (problems) return problems;
    util_copy(k->name, sizeof k->name, name);
    if (key) crypto_sha256_hex(key, strlen(key), k->sha256);
    else util_copy(k->sha256, sizeof k->sha256, sha);
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
        if (pr) problems += pr;
        else file_key_count++;
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

/* ---- to be completed: creation, listing, revocation -------------------- */

int apikeys_create(const char *name, const char *role, const char *tenant, long long expires_at_ms,
                   const char *created_by, char *key_out, char *id_out)
{
    (void)name, (void)role, (void)tenant, (void)expires_at_ms, (void)created_by, (void)key_out,
        (void)id_out;
    return DB_ERR_INTERNAL;
}

int apikeys_handle_list(struct req *r)
{
    return http_send_error(r, 501, "not_implemented", "not implemented yet");
}

int apikeys_handle_create(struct req *r)
{
    return http_send_error(r, 501, "not_implemented", "not implemented yet");
}

int apikeys_handle_delete(struct req *r)
{
    return http_send_error(r, 501, "not_implemented", "not implemented yet");
}
