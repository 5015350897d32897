/*
 * test_gateways.c — the gateway status rules and their reason sentences,
 * name derivation, mode normalisation and types, LIKE escaping and ETag
 * matching (server/gateways.c is included to reach its statics).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../server/gateways.c"

static struct config test_cfg(void)
{
    struct config c;
    memset(&c, 0, sizeof c);
    c.gateways.offline_after_seconds = 90;
    c.gateways.degraded_error_rate = 0.05;
    return c;
}

#define NOW 1800000000000LL

static void test_online_recent_heartbeat(void **state)
{
    (void)state;
    struct config c = test_cfg();
    char reason[128];
    assert_string_equal(
        gateways_status(&c, false, NOW - 3000, true, 0.01, NOW, reason, sizeof reason), "online");
    assert_string_equal(reason, "heartbeat 3 s ago");
    /* No error rate reported yet: online. */
    assert_string_equal(gateways_status(&c, false, NOW - 500, false, 0, NOW, reason, sizeof reason),
                        "online");
    assert_string_equal(reason, "heartbeat 0 s ago");
}

static void test_offline_after_window(void **state)
{
    (void)state;
    struct config c = test_cfg();
    char reason[128];
    assert_string_equal(
        gateways_status(&c, false, NOW - 97000, true, 0.0, NOW, reason, sizeof reason), "offline");
    assert_string_equal(reason, "no heartbeat for 97 s");
    /* Exactly the window is still live; one millisecond more is not. */
    assert_string_equal(gateways_status(&c, false, NOW - 90000, true, 0.0, NOW, NULL, 0), "online");
    assert_true(gateways_live(&c, NOW - 90000, NOW));
    assert_string_equal(gateways_status(&c, false, NOW - 90001, true, 0.0, NOW, NULL, 0),
                        "offline");
    assert_false(gateways_live(&c, NOW - 90001, NOW));
    /* Never heard from. */
    assert_string_equal(gateways_status(&c, false, -1, false, 0, NOW, reason, sizeof reason),
                        "offline");
    assert_string_equal(reason, "no heartbeat received");
    assert_false(gateways_live(&c, -1, NOW));
    /* Offline wins over a high error rate. */
    assert_string_equal(gateways_status(&c, false, NOW - 100000, true, 0.5, NOW, NULL, 0),
                        "offline");
}

static void test_degraded(void **state)
{
    (void)state;
    struct config c = test_cfg();
    char reason[128];
    assert_string_equal(
        gateways_status(&c, false, NOW - 1000, true, 0.08, NOW, reason, sizeof reason), "degraded");
    assert_string_equal(reason, "error rate 8.0% above 5.0%");
    /* At the threshold is not above it. */
    assert_string_equal(gateways_status(&c, false, NOW - 1000, true, 0.05, NOW, NULL, 0), "online");
}

static void test_maintenance_wins(void **state)
{
    (void)state;
    struct config c = test_cfg();
    char reason[128];
    assert_string_equal(
        gateways_status(&c, true, NOW - 1000, true, 0.9, NOW, reason, sizeof reason),
        "maintenance");
    assert_string_equal(reason, "in maintenance");
    assert_string_equal(gateways_status(&c, true, -1, false, 0, NOW, NULL, 0), "maintenance");
}

static void test_clock_ahead(void **state)
{
    (void)state;
    struct config c = test_cfg();
    char reason[128];
    /* A heartbeat stamped by a replica whose clock runs ahead. */
    assert_string_equal(
        gateways_status(&c, false, NOW + 2000, false, 0, NOW, reason, sizeof reason), "online");
    assert_string_equal(reason, "heartbeat 0 s ago");
}

static void test_mode_normalisation(void **state)
{
    (void)state;
    char m[GATEWAY_MODE_MAX + 1];
    static const char *const ok[][2] = {
        {"edge-mcp", "edge-mcp"}, {"EDGE_MCP", "edge-mcp"}, {"edgemcp", "edge-mcp"},
        {"mcp", "edge-mcp"},      {"MCP", "edge-mcp"},      {"Sidecar", "sidecar"},
        {"proxy", "proxy"},       {"shadow", "shadow"},     {"connect", "connect"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(gateways_normalize_mode(ok[i][0], m, sizeof m), 0);
        assert_string_equal(m, ok[i][1]);
    }
    static const char *const bad[] = {
        "", "kong", "edge mcp", "edge--mcp", "sidecars", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(gateways_normalize_mode(bad[i], m, sizeof m), -1);
    assert_int_equal(gateways_normalize_mode(NULL, m, sizeof m), -1);
}

static void test_types(void **state)
{
    (void)state;
    assert_string_equal(gateways_type_for_mode("edge-mcp"), "stoa_edge_mcp");
    assert_string_equal(gateways_type_for_mode("sidecar"), "stoa_sidecar");
    assert_string_equal(gateways_type_for_mode("proxy"), "stoa_proxy");
    assert_string_equal(gateways_type_for_mode("shadow"), "stoa_shadow");
    assert_string_equal(gateways_type_for_mode("connect"), "stoa");
    assert_null(gateways_type_for_mode("mcp"));
}

static void test_name_derivation(void **state)
{
    (void)state;
    char name[GATEWAY_NAME_MAX + 1];
    assert_true(gateways_derive_name("stoa-gw-abc123", "edge-mcp", "prod", name, sizeof name));
    assert_string_equal(name, "stoa-gw-abc123-edgemcp-prod");
    assert_true(gateways_derive_name("kong-sidecar-xyz", "sidecar", "staging", name, sizeof name));
    assert_string_equal(name, "kong-sidecar-xyz-sidecar-staging");
    assert_true(gateways_derive_name("Host_A.Example", "edge-mcp", "dev_1", name, sizeof name));
    assert_string_equal(name, "host_a.example-edgemcp-dev_1");
    char small[8];
    assert_false(gateways_derive_name("stoa-gw-abc123", "proxy", "prod", small, sizeof small));
}

static void test_like_pattern(void **state)
{
    (void)state;
    char *p = like_pattern("a%b_c\\d", 7);
    assert_string_equal(p, "%a\\%b\\_c\\\\d%");
    free(p);
    p = like_pattern("", 0);
    assert_string_equal(p, "%%");
    free(p);
}

static void test_etag_matching(void **state)
{
    (void)state;
    assert_true(etag_matches("\"abc\"", "\"abc\""));
    assert_true(etag_matches("W/\"abc\"", "\"abc\""));
    assert_true(etag_matches("\"x\", \"abc\"", "\"abc\""));
    assert_true(etag_matches("*", "\"abc\""));
    assert_false(etag_matches("\"abcd\"", "\"abc\""));
    assert_false(etag_matches("", "\"abc\""));
    assert_false(etag_matches(NULL, "\"abc\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_online_recent_heartbeat),
        cmocka_unit_test(test_offline_after_window),
        cmocka_unit_test(test_degraded),
        cmocka_unit_test(test_maintenance_wins),
        cmocka_unit_test(test_clock_ahead),
        cmocka_unit_test(test_mode_normalisation),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_name_derivation),
        cmocka_unit_test(test_like_pattern),
        cmocka_unit_test(test_etag_matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
