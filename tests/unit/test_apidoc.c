/*
 * test_apidoc.c — unit tests for the apidoc module: If-None-Match matching
 * (exact, lists, weak validators, "*", near misses) and the embedded
 * document (present as openapi.json, JSON, OpenAPI 3.0.3 with paths).
 * Threading: single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../server/apidoc.c"

#include <cJSON.h>

static void test_etag_matching(void **state)
{
    (void)state;
    const char *etag = "\"0123abcd\"";
    assert_true(apidoc_etag_matches("\"0123abcd\"", etag));
    assert_true(apidoc_etag_matches("*", etag));
    assert_true(apidoc_etag_matches("\"x\", \"0123abcd\"", etag));
    assert_true(apidoc_etag_matches("\"0123abcd\" , \"y\"", etag));
    assert_true(apidoc_etag_matches("W/\"0123abcd\"", etag));
    assert_false(apidoc_etag_matches(NULL, etag));
    assert_false(apidoc_etag_matches("", etag));
    assert_false(apidoc_etag_matches("\"0123abc\"", etag));
    assert_false(apidoc_etag_matches("\"0123abcde\"", etag));
    assert_false(apidoc_etag_matches("\"0123abcd\"x", etag));
    assert_false(apidoc_etag_matches("x\"0123abcd\"", etag));
    assert_false(apidoc_etag_matches("**", etag));
    assert_false(apidoc_etag_matches(", ,", etag));
}

static void test_embedded_document(void **state)
{
    (void)state;
    const struct embedded_file *f = assets_find(assets_docs, assets_docs_count, APIDOC_PATH);
    assert_non_null(f);
    assert_string_equal(f->content_type, "application/json");
    assert_true(f->len > 1000);
    assert_int_equal(f->etag[0], '"');
    cJSON *doc = cJSON_ParseWithLength((const char *)f->data, f->len);
    assert_non_null(doc);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "openapi");
    assert_true(cJSON_IsString(v));
    assert_string_equal(v->valuestring, "3.0.3");
    const cJSON *paths = cJSON_GetObjectItemCaseSensitive(doc, "paths");
    assert_true(cJSON_IsObject(paths));
    assert_non_null(cJSON_GetObjectItemCaseSensitive(paths, "/v1/openapi.json"));
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_etag_matching),
        cmocka_unit_test(test_embedded_document),
    };
    return cmocka_run_group_tests_name("apidoc", tests, NULL, NULL);
}
