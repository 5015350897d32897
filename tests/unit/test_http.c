/*
 * test_http.c — path normalisation, route pattern matching, route table
 * sanity (every route reachable, fixed segments before captures).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../server/http.c"
#include "../../server/dispatch.c" /* media_is moved with the pipeline */
#include "portico/routes.h"

static void test_normalize_ok(void **state)
{
    (void)state;
    char out[64];
    struct {
        const char *in, *want;
    } cases[] = {
        {"/", "/"},
        {"/v1/apis", "/v1/apis"},
        {"//v1///apis", "/v1/apis"},
        {"/portal/", "/portal/"},
        {"/portal//x/", "/portal/x/"},
        {"/a/.b/c..d", "/a/.b/c..d"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(http_path_normalize(cases[i].in, out, sizeof out), 0);
        assert_string_equal(out, cases[i].want);
    }
}

static void test_normalize_rejects(void **state)
{
    (void)state;
    char out[64];
    const char *bad[] = {
        "",      "v1",     "/a/../b", "/..",        "/a/./b",
        "/a\\b", "/a\x01", "/a/..",   "/a/%2e%2e/b" /* still encoded: allowed, but harmless */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0] - 1; i++)
        assert_int_equal(http_path_normalize(bad[i], out, sizeof out), -1);
    assert_int_equal(http_path_normalize(bad[8], out, sizeof out), 0);
    char tiny[4];
    assert_int_equal(http_path_normalize("/abcdef", tiny, sizeof tiny), -1);
    assert_int_equal(http_path_normalize(NULL, out, sizeof out), -1);
}

static void test_route_match(void **state)
{
    (void)state;
    char params[HTTP_ROUTE_PARAMS_MAX][HTTP_ROUTE_PARAM_MAX];
    int n = -1;
    assert_true(http_route_match("/v1/apis", "/v1/apis", params, &n));
    assert_int_equal(n, 0);
    assert_true(http_route_match("/v1/apis/{id}", "/v1/apis/abc", params, &n));
    assert_int_equal(n, 1);
    assert_string_equal(params[0], "abc");
    assert_true(http_route_match("/v1/internal/gateways/{id}/heartbeat",
                                 "/v1/internal/gateways/x-1/heartbeat", params, &n));
    assert_string_equal(params[0], "x-1");
    assert_false(http_route_match("/v1/apis/{id}", "/v1/apis/", params, &n));
    assert_false(http_route_match("/v1/apis/{id}", "/v1/apis/a/b", params, &n));
    assert_false(http_route_match("/v1/apis", "/v1/apis/", params, &n));
    assert_false(http_route_match("/v1/apis", "/v1/apisx", params, &n));
    char longid[200];
    memset(longid, 'a', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    char path[256];
    snprintf(path, sizeof path, "/v1/apis/%s", longid);
    assert_false(http_route_match("/v1/apis/{id}", path, params, &n));
}

static void test_route_table(void **state)
{
    (void)state;
    size_t count;
    const struct route *t = routes_table(&count);
    assert_true(count > 20);
    char params[HTTP_ROUTE_PARAMS_MAX][HTTP_ROUTE_PARAM_MAX];
    int n;
    for (size_t i = 0; i < count; i++) {
        assert_non_null(t[i].handler);
        assert_non_null(t[i].name);
        /* No route is shadowed by an earlier one with the same method. */
        for (size_t j = 0; j < i; j++) {
            if (strcmp(t[i].method, t[j].method) != 0) continue;
            assert_false(http_route_match(t[j].pattern, t[i].pattern, params, &n) &&
                         strchr(t[i].pattern, '{') == NULL &&
                         strcmp(t[i].pattern, t[j].pattern) == 0);
        }
        /* Gateway routes never rely on user credentials, public ones need no perms. */
        if (t[i].flags & ROUTE_PUBLIC) assert_int_equal(t[i].perms, PERM_NONE);
        if (strncmp(t[i].pattern, "/v1/internal/", 13) == 0)
            assert_true(t[i].flags & ROUTE_GATEWAY);
    }
    /* The fixed /v1/gateways/events is matched before /v1/gateways/{id}. */
    size_t events = count, byid = count;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(t[i].pattern, "/v1/gateways/events") == 0) events = i;
        if (strcmp(t[i].pattern, "/v1/gateways/{id}") == 0 && strcmp(t[i].method, "GET") == 0)
            byid = i;
    }
    assert_true(events < byid);
}

static void test_media_is(void **state)
{
    (void)state;
    assert_true(media_is("application/json", "application/json"));
    assert_true(media_is("application/json; charset=utf-8", "application/json"));
    assert_true(media_is("Application/JSON", "application/json"));
    assert_false(media_is("application/jsonx", "application/json"));
    assert_false(media_is("text/plain", "application/json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_ok), cmocka_unit_test(test_normalize_rejects),
        cmocka_unit_test(test_route_match),  cmocka_unit_test(test_route_table),
        cmocka_unit_test(test_media_is),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
