/*
 * test_apikeys.c — unit tests for server/apikeys.c: the key format and its
 * parsing, the keys file loader (file:line errors), and create/lookup on a
 * throwaway SQLite database (expiry, revocation, tampering).
 * Threading: single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../server/apikeys.c"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit_db.h"

static void test_random_key_id(void **state)
{
    (void)state;
    char a[KEY_ID_CHARS + 1], b[KEY_ID_CHARS + 1];
    assert_int_equal(random_key_id(a), 0);
    assert_int_equal(random_key_id(b), 0);
    assert_int_equal(strlen(a), 8);
    for (int i = 0; i < 8; i++)
        assert_true((a[i] >= 'a' && a[i] <= 'z') || (a[i] >= '0' && a[i] <= '9'));
    assert_string_not_equal(a, b);
}

static void test_format_key(void **state)
{
    (void)state;
    unsigned char zero[KEY_SECRET_BYTES] = {0};
    char key[128];
    assert_true(format_key("pk", "abcdefgh", zero, sizeof zero, key, sizeof key));
    assert_string_equal(key, "pk_abcdefgh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_int_equal(strlen(key), 3 + 8 + 1 + 43);
    char small[20];
    assert_false(format_key("pk", "abcdefgh", zero, sizeof zero, small, sizeof small));
    unsigned char ff[KEY_SECRET_BYTES];
    memset(ff, 0xff, sizeof ff);
    assert_true(format_key("pk", "z9z9z9z9", ff, sizeof ff, key, sizeof key));
    assert_string_equal(key, "pk_z9z9z9z9___________________________________________8");
}

static void test_mint(void **state)
{
    (void)state;
    char key[APIKEYS_KEY_MAX], prefix[APIKEYS_PREFIX_MAX], hash[CRYPTO_SHA256_HEX_LEN + 1];
    char key2[APIKEYS_KEY_MAX], prefix2[APIKEYS_PREFIX_MAX], hash2[CRYPTO_SHA256_HEX_LEN + 1];
    assert_int_equal(apikeys_mint("sk", key, prefix, hash), 0);
    assert_int_equal(strlen(key), 3 + 8 + 1 + 43);
    assert_memory_equal(key, "sk_", 3);
    assert_int_equal(key[11], '_');
    assert_int_equal(strlen(prefix), 11);
    assert_memory_equal(key, prefix, 11);
    char expect[CRYPTO_SHA256_HEX_LEN + 1];
    crypto_sha256_hex(key, strlen(key), expect);
    assert_string_equal(hash, expect);
    assert_int_equal(apikeys_mint("sk", key2, prefix2, hash2), 0);
    assert_string_not_equal(key, key2);
    assert_string_not_equal(hash, hash2);
    assert_int_equal(apikeys_mint("toolong", key2, prefix2, hash2), -1);
}

static void test_db_key_prefix(void **state)
{
    (void)state;
    char prefix[16];
    assert_true(db_key_prefix("pk_abcdefgh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", prefix));
    assert_string_equal(prefix, "pk_abcdefgh");
    assert_false(db_key_prefix("pk_abcdefgh", prefix));
    assert_false(db_key_prefix("pk_abcdefg_AAAAAAAAAAAAAAAAAAAA", prefix));
    assert_false(db_key_prefix("pk_abcd-fgh_AAAAAAAAAAAAAAAAAAAA", prefix));
    assert_false(db_key_prefix("xx_abcdefgh_AAAAAAAAAAAAAAAAAAAA", prefix));
    assert_false(db_key_prefix("pk_abcdefgh_short", prefix));
    assert_false(db_key_prefix("", prefix));
}

static void test_valid_tenant_and_hex(void **state)
{
    (void)state;
    assert_true(tenant_id_valid("acme"));
    assert_true(tenant_id_valid("a-b_c.d1"));
    assert_false(tenant_id_valid(""));
    assert_false(tenant_id_valid("bad tenant"));
    assert_false(tenant_id_valid("x/y"));
    char longt[80];
    memset(longt, 'a', sizeof longt - 1);
    longt[sizeof longt - 1] = '\0';
    assert_false(tenant_id_valid(longt));
    assert_true(is_lower_hex64("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_false(
        is_lower_hex64("0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_false(is_lower_hex64("abc"));
}

static void test_keys_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/portico-unit-keys-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/keys.yaml", dir);
    char *buf = NULL;
    size_t len = 0;
    FILE *err = open_memstream(&buf, &len);

    write_file(path, "- name: ok\n  key: a-good-key-0123456789\n  role: viewer\n  tenant: acme\n"
                     "- name: bad\n  key: short\n  role: root\n");
    assert_int_equal(apikeys_load_file(path, err), -1);
    fflush(err);
    assert_non_null(strstr(buf, "keys.yaml:5: keys[1].key: must be"));
    assert_non_null(strstr(buf, "keys.yaml:5: keys[1].role:"));
    assert_int_equal(file_key_count, 0);

    char sha[CRYPTO_SHA256_HEX_LEN + 1], yaml[512];
    crypto_sha256_hex("hashed-key-0123456789", 21, sha);
    snprintf(yaml, sizeof yaml,
             "- name: ok\n  key: a-good-key-0123456789\n  role: viewer\n  tenant: acme\n"
             "- name: hashed\n  sha256: %s\n  role: cpi-admin\n",
             sha);
    write_file(path, yaml);
    assert_int_equal(apikeys_load_file(path, err), 0);
    struct principal p;
    assert_int_equal(apikeys_lookup("a-good-key-0123456789", &p), 0);
    assert_int_equal(p.type, AUTH_API_KEY);
    assert_int_equal(p.role, ROLE_VIEWER);
    assert_string_equal(p.subject, "apikey:ok");
    assert_string_equal(p.tenant_id, "acme");
    assert_int_equal(apikeys_lookup("hashed-key-0123456789", &p), 0);
    assert_int_equal(p.role, ROLE_CPI_ADMIN);
    assert_string_equal(p.tenant_id, "default");
    assert_int_equal(apikeys_lookup("a-good-key-012345678", &p), 1);
    apikeys_free_file();

    fclose(err);
    free(buf);
    unlink(path);
    rmdir(dir);
}

static void test_create_and_lookup(void **state)
{
    (void)state;
    char key[128], id[40];
    assert_int_equal(apikeys_create("unit", "devops", "acme", 0, "test", key, id), 0);
    assert_true(crypto_is_uuid(id));
    assert_int_equal(strlen(key), 55);
    struct principal p;
    assert_int_equal(apikeys_lookup(key, &p), 0);
    assert_int_equal(p.type, AUTH_API_KEY);
    assert_int_equal(p.role, ROLE_DEVOPS);
    assert_string_equal(p.subject, "apikey:unit");
    assert_string_equal(p.tenant_id, "acme");
    assert_string_equal(p.key_id, id);

    /* Only the hash is stored. */
    struct db_result *res = NULL;
    assert_int_equal(db_query(db_thread(),
                              "SELECT key_hash, prefix, last_used_at FROM api_keys WHERE id = $1",
                              DB_ARGS(DBP_TEXT(id)), &res),
                     DB_OK);
    char hash[CRYPTO_SHA256_HEX_LEN + 1];
    crypto_sha256_hex(key, strlen(key), hash);
    assert_string_equal(db_get(res, 0, 0), hash);
    assert_memory_equal(db_get(res, 0, 1), key, 11);
    assert_false(db_is_null(res, 0, 2)); /* touched by the lookup */
    db_result_free(res);

    char tampered[128];
    util_copy(tampered, sizeof tampered, key);
    tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
    assert_int_equal(apikeys_lookup(tampered, &p), 1);

    assert_int_equal(db_exec(db_thread(), "UPDATE api_keys SET revoked_at = 1 WHERE id = $1",
                             DB_ARGS(DBP_TEXT(id)), NULL),
                     DB_OK);
    assert_int_equal(apikeys_lookup(key, &p), 1);
}

static void test_create_expired_and_invalid(void **state)
{
    (void)state;
    char key[128], id[40];
    assert_int_equal(apikeys_create("old", "viewer", "default", util_now_ms() - 1000, "t", key, id),
                     0);
    struct principal p;
    assert_int_equal(apikeys_lookup(key, &p), 1);
    assert_int_equal(
        apikeys_create("later", "viewer", "default", util_now_ms() + 60000, "t", key, id), 0);
    assert_int_equal(apikeys_lookup(key, &p), 0);
    assert_true(apikeys_create("", "viewer", "default", 0, "t", key, id) < 0);
    assert_true(apikeys_create("x", "root", "default", 0, "t", key, id) < 0);
    assert_true(apikeys_create("x", "viewer", "bad tenant", 0, "t", key, id) < 0);
    assert_true(apikeys_create("a\nb", "viewer", "default", 0, "t", key, id) < 0);
}

int main(void)
{
    log_set_level(LOG_WARN);
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_random_key_id),
        cmocka_unit_test(test_format_key),
        cmocka_unit_test(test_mint),
        cmocka_unit_test(test_db_key_prefix),
        cmocka_unit_test(test_valid_tenant_and_hex),
        cmocka_unit_test(test_keys_file),
    };
    const struct CMUnitTest db[] = {
        cmocka_unit_test(test_create_and_lookup),
        cmocka_unit_test(test_create_expired_and_invalid),
    };
    int failed = cmocka_run_group_tests_name("apikeys", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("apikeys (sqlite)", db, setup_db, teardown_db);
    return failed ? 1 : 0;
}
