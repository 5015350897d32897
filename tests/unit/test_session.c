/*
 * test_session.c — unit tests for server/session.c: cookie lines in both
 * cookie_secure modes, token shape checks, the HMAC row key, create/lookup/
 * expiry/purge on a throwaway SQLite database, sessions ending with their
 * API key; and the configuration rules for the cookie secret and TTL.
 * Threading: single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../server/session.c"
#include "../../server/signin.c" /* failed_subject moved with the sign-in flow */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit_db.h"

#define SECRET "unit-cookie-secret-0123456789abcdef0123"

/* ---- pure parts ----------------------------------------------------------- */

static void test_cookie_lines(void **state)
{
    (void)state;
    char out[256];
    assert_true(build_cookie(false, "tok", 28800, out, sizeof out));
    assert_string_equal(out, "Set-Cookie: portico_session=tok; Path=/; HttpOnly; SameSite=Lax; "
                             "Max-Age=28800\r\n");
    assert_true(build_cookie(true, "tok", 60, out, sizeof out));
    assert_string_equal(out, "Set-Cookie: __Host-portico_session=tok; Path=/; HttpOnly; "
                             "SameSite=Lax; Max-Age=60; Secure\r\n");
    assert_true(build_cookie(true, "", 0, out, sizeof out));
    assert_string_equal(out, "Set-Cookie: __Host-portico_session=; Path=/; HttpOnly; "
                             "SameSite=Lax; Max-Age=0; Secure\r\n");
    char small[16] = "untouched";
    assert_false(build_cookie(false, "tok", 1, small, sizeof small));
    assert_string_equal(small, "untouched");
    assert_string_equal(cookie_name_for(true), "__Host-portico_session");
    assert_string_equal(cookie_name_for(false), "portico_session");
}

static void test_token_shape(void **state)
{
    (void)state;
    assert_true(token_well_formed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_true(token_well_formed("abc-_09ZZabc-_09ZZabc-_09ZZabc-_09ZZabc-_09"));
    assert_false(token_well_formed(""));
    assert_false(token_well_formed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));   /* 42 */
    assert_false(token_well_formed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")); /* 44 */
    assert_false(token_well_formed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
    assert_false(token_well_formed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+"));
    assert_false(token_well_formed("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA "));
}

static void test_token_hash_is_keyed(void **state)
{
    (void)state;
    char a[65], b[65], c[65], want[65];
    token_hash(SECRET, "tok", a);
    token_hash(SECRET, "tok", b);
    token_hash(SECRET "x", "tok", c);
    crypto_hmac_sha256_hex(SECRET, strlen(SECRET), "tok", 3, want);
    assert_string_equal(a, b);
    assert_string_equal(a, want);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 64);
}

static void test_failed_subject(void **state)
{
    (void)state;
    char out[64];
    failed_subject("pk_abcdefgh_secretsecretsecret", out, sizeof out);
    assert_string_equal(out, "apikey:pk_abcdefgh");
    failed_subject("some-file-key-0123456789", out, sizeof out);
    assert_string_equal(out, "apikey:unknown");
    failed_subject("pk_ABCDEFGH_secret", out, sizeof out);
    assert_string_equal(out, "apikey:unknown");
}

/* ---- configuration rules for sessions --------------------------------------- */

static int load_yaml(const char *yaml, struct config *cfg, char *errbuf, size_t n)
{
    char path[128];
    snprintf(path, sizeof path, "%s/c.yaml", tmpdir);
    write_file(path, yaml);
    FILE *err = fmemopen(errbuf, n, "w");
    int rc = config_load(path, cfg, err);
    fclose(err);
    return rc;
}

static void test_config_secret_rules(void **state)
{
    (void)state;
    util_copy(tmpdir, sizeof tmpdir, "/tmp/portico-unit-session-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    struct config cfg;
    char err[1024];

    memset(err, 0, sizeof err);
    assert_int_equal(load_yaml("profile: live\n", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "session.cookie_secret: is required with profile live"));

    memset(err, 0, sizeof err);
    assert_int_equal(
        load_yaml("profile: dev\nsession:\n  cookie_secret: too-short\n", &cfg, err, sizeof err),
        -1);
    assert_non_null(strstr(err, "session.cookie_secret: must be at least 32 bytes"));

    memset(err, 0, sizeof err);
    assert_int_equal(load_yaml("profile: dev\n", &cfg, err, sizeof err), 0);
    assert_true(cfg.cookie_secret_generated);
    assert_true(strlen(cfg.session.cookie_secret) >= SESSION_SECRET_MIN);
    char first[128];
    util_copy(first, sizeof first, cfg.session.cookie_secret);
    config_free(&cfg);
    assert_int_equal(load_yaml("profile: dev\n", &cfg, err, sizeof err), 0);
    assert_string_not_equal(first, cfg.session.cookie_secret); /* random each start */
    config_free(&cfg);

    assert_int_equal(
        load_yaml("profile: live\nsession:\n  cookie_secret: " SECRET "\n", &cfg, err, sizeof err),
        0);
    assert_false(cfg.cookie_secret_generated);
    assert_string_equal(cfg.session.cookie_secret, SECRET);
    assert_true(cfg.session.cookie_secure); /* default */
    assert_int_equal(cfg.session.ttl_seconds, 28800);
    config_free(&cfg);

    assert_int_equal(load_yaml("profile: dev\nsession:\n  ttl_seconds: 1\n", &cfg, err, sizeof err),
                     0);
    config_free(&cfg);
    memset(err, 0, sizeof err);
    assert_int_equal(load_yaml("profile: dev\nsession:\n  ttl_seconds: 0\n", &cfg, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "session.ttl_seconds"));
    rm_tmp();
}

/* ---- database ------------------------------------------------------------------ */

/* The keys-file key behind principal_for's sessions: "file-key-<name>-0123456789". */
static void file_key_of(const char *name, char *out, size_t n)
{
    snprintf(out, n, "file-key-%s-0123456789", name);
}

/* Writes a keys file with the names (role viewer unless devops_name) and
 * loads it; the sessions of principal_for stand only while it holds them. */
static void load_keys_file(const char *const *names, size_t count, const char *devops_name,
                           const char *role_override)
{
    char path[] = "/tmp/portico-unit-keys-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    for (size_t i = 0; i < count; i++) {
        char key[128];
        file_key_of(names[i], key, sizeof key);
        const char *role = strcmp(names[i], devops_name) == 0 ? "devops" : "viewer";
        if (role_override) role = role_override;
        fprintf(f, "- name: %s\n  key: %s\n  role: %s\n  tenant: acme\n", names[i], key, role);
    }
    fclose(f);
    assert_int_equal(apikeys_load_file(path, stderr), 0);
    unlink(path);
}

static const char *const FILE_NAMES[] = {"unit", "exp", "a", "b", "x"};

static void principal_for(struct principal *p, const char *subject, enum role role)
{
    char key[128];
    memset(p, 0, sizeof *p);
    p->type = AUTH_API_KEY;
    p->role = role;
    util_copy(p->subject, sizeof p->subject, subject);
    util_copy(p->name, sizeof p->name, subject + 7);
    util_copy(p->tenant_id, sizeof p->tenant_id, "acme");
    file_key_of(subject + 7, key, sizeof key);
    crypto_sha256_hex(key, strlen(key), p->file_key_sha256);
    p->file_key = true;
}

/* The token from "Set-Cookie: name=<token>; ..." into out. */
static void token_of(const char *line, char *out, size_t n)
{
    const char *eq = strchr(line, '=');
    const char *semi = strchr(line, ';');
    assert_non_null(eq);
    assert_non_null(semi);
    size_t len = (size_t)(semi - eq - 1);
    assert_true(len < n);
    memcpy(out, eq + 1, len);
    out[len] = '\0';
}

static long count_sessions(void)
{
    struct db_result *res = NULL;
    assert_int_equal(db_query(db_thread(), "SELECT COUNT(*) FROM sessions", DB_NOARGS, &res),
                     DB_OK);
    long n = (long)db_get_int(res, 0, 0);
    db_result_free(res);
    return n;
}

static void test_create_and_lookup(void **state)
{
    (void)state;
    struct session_opts o = {SECRET, false, 3600};
    struct principal p, q;
    char line[256], token[64];
    int64_t now = util_now_ms();
    principal_for(&p, "apikey:unit", ROLE_DEVOPS);
    assert_int_equal(create_with(&o, &p, NULL, now, line, sizeof line), DB_OK);
    assert_int_equal(p.type, AUTH_SESSION);
    assert_int_equal(strlen(p.csrf_token), SESSION_TOKEN_B64_LEN);
    assert_int_equal(strncmp(line, "Set-Cookie: portico_session=", 28), 0);
    assert_non_null(strstr(line, "; Path=/; HttpOnly; SameSite=Lax; Max-Age=3600\r\n"));
    token_of(line, token, sizeof token);
    assert_true(token_well_formed(token));

    /* The database holds the HMAC, never the token. */
    char hash[65];
    token_hash(SECRET, token, hash);
    struct db_result *res = NULL;
    assert_int_equal(db_query(db_thread(),
                              "SELECT id_hash, expires_at - created_at, auth_type FROM sessions "
                              "WHERE id_hash = $1",
                              DB_ARGS(DBP_TEXT(hash)), &res),
                     DB_OK);
    assert_int_equal(db_rows(res), 1);
    assert_int_equal(db_get_int(res, 0, 1), 3600 * 1000);
    assert_string_equal(db_get(res, 0, 2), "api_key");
    db_result_free(res);
    assert_int_equal(db_query(db_thread(), "SELECT 1 FROM sessions WHERE id_hash = $1",
                              DB_ARGS(DBP_TEXT(token)), &res),
                     DB_OK);
    assert_int_equal(db_rows(res), 0);
    db_result_free(res);

    assert_int_equal(lookup_with(&o, token, now + 1000, &q), 0);
    assert_int_equal(q.type, AUTH_SESSION);
    assert_int_equal(q.role, ROLE_DEVOPS);
    assert_string_equal(q.subject, "apikey:unit");
    assert_string_equal(q.tenant_id, "acme");
    assert_string_equal(q.csrf_token, p.csrf_token);
    assert_string_equal(q.session_hash, hash);

    /* Another secret cannot find it; a tampered token neither. */
    struct session_opts other = {SECRET "-other", false, 3600};
    assert_int_equal(lookup_with(&other, token, now, &q), 1);
    token[5] = token[5] == 'A' ? 'B' : 'A';
    assert_int_equal(lookup_with(&o, token, now, &q), 1);
}

static void test_expiry_and_purge(void **state)
{
    (void)state;
    struct session_opts o = {SECRET, true, 60};
    struct principal p, q;
    char line[256], token[64];
    int64_t now = util_now_ms();
    principal_for(&p, "apikey:exp", ROLE_VIEWER);
    assert_int_equal(create_with(&o, &p, NULL, now, line, sizeof line), DB_OK);
    assert_int_equal(strncmp(line, "Set-Cookie: __Host-portico_session=", 35), 0);
    assert_non_null(strstr(line, "; Max-Age=60; Secure\r\n"));
    token_of(line, token, sizeof token);
    long before = count_sessions();
    assert_int_equal(lookup_with(&o, token, now + 59999, &q), 0);
    assert_int_equal(lookup_with(&o, token, now + 60000, &q), 1); /* absolute TTL */
    assert_int_equal(count_sessions(), before - 1);               /* and deleted */
    assert_int_equal(lookup_with(&o, token, now, &q), 1);

    /* Purge removes only expired rows. */
    principal_for(&p, "apikey:a", ROLE_VIEWER);
    assert_int_equal(create_with(&o, &p, NULL, now - 120000, line, sizeof line), DB_OK);
    principal_for(&p, "apikey:b", ROLE_VIEWER);
    assert_int_equal(create_with(&o, &p, NULL, now, line, sizeof line), DB_OK);
    token_of(line, token, sizeof token);
    assert_true(purge_before(now) >= 1);
    assert_int_equal(lookup_with(&o, token, now, &q), 0);
    assert_int_equal(purge_before(now), 0);
}

static void test_bad_secret_refused(void **state)
{
    (void)state;
    struct session_opts o = {"short", false, 60};
    struct principal p, q;
    char line[256] = "untouched";
    principal_for(&p, "apikey:x", ROLE_VIEWER);
    assert_int_not_equal(create_with(&o, &p, NULL, util_now_ms(), line, sizeof line), DB_OK);
    assert_string_equal(line, "untouched");
    assert_int_equal(p.type, AUTH_API_KEY);
    assert_int_equal(lookup_with(&o, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0, &q), 1);
    struct session_opts none = {NULL, false, 60};
    assert_int_not_equal(create_with(&none, &p, NULL, util_now_ms(), line, sizeof line), DB_OK);
    char tiny[16];
    struct session_opts good = {SECRET, false, 60};
    assert_int_not_equal(create_with(&good, &p, NULL, util_now_ms(), tiny, sizeof tiny), DB_OK);
}

static void test_session_ends_with_its_key(void **state)
{
    (void)state;
    struct session_opts o = {SECRET, false, 3600};
    struct principal p, q;
    char line[256], token[64], key[128], id[40];
    assert_int_equal(apikeys_create("sess-key", "tenant-admin", "acme", 0, "t", key, id), 0);
    assert_int_equal(apikeys_lookup(key, &p), 0);
    assert_string_equal(p.key_id, id);
    assert_int_equal(create_with(&o, &p, "an-id-token", util_now_ms(), line, sizeof line), DB_OK);
    token_of(line, token, sizeof token);
    assert_int_equal(lookup_with(&o, token, util_now_ms(), &q), 0);
    assert_string_equal(q.key_id, id);
    assert_int_equal(q.role, ROLE_TENANT_ADMIN);
    /* Revoked (even if its sessions were not deleted): the session ends. */
    assert_int_equal(db_exec(db_thread(), "UPDATE api_keys SET revoked_at = 1 WHERE id = $1",
                             DB_ARGS(DBP_TEXT(id)), NULL),
                     DB_OK);
    assert_int_equal(lookup_with(&o, token, util_now_ms(), &q), 1);

    /* Expired key: same. */
    assert_int_equal(
        apikeys_create("sess-key2", "viewer", "acme", util_now_ms() + 5000, "t", key, id), 0);
    assert_int_equal(apikeys_lookup(key, &p), 0);
    assert_int_equal(create_with(&o, &p, NULL, util_now_ms(), line, sizeof line), DB_OK);
    token_of(line, token, sizeof token);
    assert_int_equal(lookup_with(&o, token, util_now_ms(), &q), 0);
    assert_int_equal(lookup_with(&o, token, util_now_ms() + 6000, &q), 1);
}

static void test_session_ends_with_its_file_key(void **state)
{
    (void)state;
    struct session_opts o = {SECRET, false, 3600};
    struct principal p, q;
    char line[256], token[64];
    principal_for(&p, "apikey:x", ROLE_VIEWER);
    assert_int_equal(create_with(&o, &p, NULL, util_now_ms(), line, sizeof line), DB_OK);
    token_of(line, token, sizeof token);
    assert_int_equal(lookup_with(&o, token, util_now_ms(), &q), 0);
    assert_true(q.file_key);
    /* The file now gives x another role (as after a restart): the session ends. */
    load_keys_file(FILE_NAMES, 5, "unit", "tenant-admin");
    assert_int_equal(lookup_with(&o, token, util_now_ms(), &q), 1);

    load_keys_file(FILE_NAMES, 5, "unit", NULL);
    principal_for(&p, "apikey:x", ROLE_VIEWER); /* create_with made p a session */
    assert_int_equal(create_with(&o, &p, NULL, util_now_ms(), line, sizeof line), DB_OK);
    token_of(line, token, sizeof token);
    assert_int_equal(lookup_with(&o, token, util_now_ms(), &q), 0);
    /* x left the file: the session ends. */
    load_keys_file(FILE_NAMES, 4, "unit", NULL);
    assert_int_equal(lookup_with(&o, token, util_now_ms(), &q), 1);
    load_keys_file(FILE_NAMES, 5, "unit", NULL);
    /* Another key under the same name is not the same key. */
    principal_for(&p, "apikey:x", ROLE_VIEWER);
    crypto_sha256_hex("another-key-0123456789", 22, p.file_key_sha256);
    assert_int_equal(create_with(&o, &p, NULL, util_now_ms(), line, sizeof line), DB_OK);
    token_of(line, token, sizeof token);
    assert_int_equal(lookup_with(&o, token, util_now_ms(), &q), 1);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_cookie_lines),        cmocka_unit_test(test_token_shape),
        cmocka_unit_test(test_token_hash_is_keyed), cmocka_unit_test(test_failed_subject),
        cmocka_unit_test(test_config_secret_rules),
    };
    const struct CMUnitTest db[] = {
        cmocka_unit_test(test_create_and_lookup),
        cmocka_unit_test(test_expiry_and_purge),
        cmocka_unit_test(test_bad_secret_refused),
        cmocka_unit_test(test_session_ends_with_its_key),
        cmocka_unit_test(test_session_ends_with_its_file_key),
    };
    load_keys_file(FILE_NAMES, 5, "unit", NULL);
    int failed = cmocka_run_group_tests_name("session", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("session (sqlite)", db, setup_db, teardown_db);
    return failed ? 1 : 0;
}
