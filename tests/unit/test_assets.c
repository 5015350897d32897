/*
 * test_assets.c — embedded table lookup, gzip negotiation, ETag matching,
 * deep-link rules.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../server/assets.c"

static const struct embedded_file table[] = {
    {"assets/app-1.js", (const unsigned char *)"a", 1, NULL, 0, "text/javascript", "\"1\""},
    {"console/index.html", (const unsigned char *)"c", 1, NULL, 0, "text/html", "\"2\""},
    {"portal/index.html", (const unsigned char *)"p", 1, NULL, 0, "text/html", "\"3\""},
};

static void test_find(void **state)
{
    (void)state;
    assert_ptr_equal(assets_find(table, 3, "assets/app-1.js"), &table[0]);
    assert_ptr_equal(assets_find(table, 3, "portal/index.html"), &table[2]);
    assert_null(assets_find(table, 3, "portal/missing.html"));
    assert_null(assets_find(table, 3, ""));
    assert_null(assets_find(table, 0, "portal/index.html"));
}

static void test_embedded_tables_sorted(void **state)
{
    (void)state;
    for (size_t i = 1; i < assets_ui_count; i++)
        assert_true(strcmp(assets_ui[i - 1].path, assets_ui[i].path) < 0);
    for (size_t i = 1; i < assets_sql_count; i++)
        assert_true(strcmp(assets_sql[i - 1].path, assets_sql[i].path) < 0);
    assert_non_null(assets_find(assets_ui, assets_ui_count, "portal/index.html"));
    assert_non_null(assets_find(assets_ui, assets_ui_count, "console/index.html"));
    assert_non_null(assets_find(assets_sql, assets_sql_count, "sqlite/001_init.sql"));
    assert_non_null(assets_find(assets_sql, assets_sql_count, "postgres/001_init.sql"));
    for (size_t i = 0; i < assets_ui_count; i++) {
        assert_true(assets_ui[i].etag[0] == '"');
        if (assets_ui[i].gz) assert_true(assets_ui[i].gz_len < assets_ui[i].len);
    }
}

static void test_accepts_gzip(void **state)
{
    (void)state;
    assert_true(accepts_gzip("gzip"));
    assert_true(accepts_gzip("gzip, deflate, br"));
    assert_true(accepts_gzip("br;q=1.0, gzip;q=0.8"));
    assert_false(accepts_gzip("gzip;q=0"));
    assert_false(accepts_gzip("gzip; q=0.000"));
    assert_false(accepts_gzip("identity"));
    assert_false(accepts_gzip(NULL));
}

static void test_etag_matches(void **state)
{
    (void)state;
    assert_true(etag_matches("\"abc\"", "\"abc\""));
    assert_true(etag_matches("\"x\", \"abc\"", "\"abc\""));
    assert_true(etag_matches("*", "\"abc\""));
    assert_false(etag_matches("\"abcd\"", "\"abc\""));
    assert_false(etag_matches(NULL, "\"abc\""));
}

static void test_has_extension(void **state)
{
    (void)state;
    assert_true(has_extension("/portal/app.js"));
    assert_false(has_extension("/portal/apis/123"));
    assert_false(has_extension("/portal/v1.2/apis"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),          cmocka_unit_test(test_embedded_tables_sorted),
        cmocka_unit_test(test_accepts_gzip),  cmocka_unit_test(test_etag_matches),
        cmocka_unit_test(test_has_extension),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
