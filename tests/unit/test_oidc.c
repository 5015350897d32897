/*
 * test_oidc.c — unit tests for the pure parts of the OIDC module: return_to
 * validation (open redirects), the signed portico_oidc cookie (round trip,
 * tampering, expiry, another secret), role mapping (exact names, role_map,
 * highest privilege wins) and URL encoding. No network, no threads.
 * Threading: single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../server/oidc.c"

static struct config test_cfg;

static int setup(void **state)
{
    (void)state;
    memset(&test_cfg, 0, sizeof test_cfg);
    test_cfg.session.cookie_secret = "unit-test-cookie-secret-0123456789abcdef";
    test_cfg.session.cookie_secure = true;
    test_cfg.oidc.roles_claim = "realm_access.roles";
    config_set_active(&test_cfg);
    role_map_count = 0;
    return 0;
}

static void test_return_to(void **state)
{
    (void)state;
    static const char *const good[] = {
        "/", "/console/", "/console/gateways?status=online", "/portal/apis/x#ops", "/a//b", "/é"};
    static const char *const bad[] = {"",
                                      "//evil.com",
                                      "/\\evil.com",
                                      "\\\\evil.com",
                                      "https://evil.com",
                                      "javascript:alert(1)",
                                      "evil.com",
                                      " /console/",
                                      "/console/\r\nSet-Cookie: x=y",
                                      "/a\\b",
                                      "/\t/evil.com",
                                      "/\x7f",
                                      "/\xff\xfe"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!return_to_ok(good[i])) fail_msg("should accept %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (return_to_ok(bad[i])) fail_msg("should refuse %s", bad[i]);
    char longest[OIDC_RETURN_TO_MAX + 2];
    memset(longest, 'a', sizeof longest);
    longest[0] = '/';
    longest[OIDC_RETURN_TO_MAX] = '\0';
    assert_true(return_to_ok(longest));
    longest[OIDC_RETURN_TO_MAX] = 'a';
    longest[OIDC_RETURN_TO_MAX + 1] = '\0';
    assert_false(return_to_ok(longest));
}

static struct flow sample_flow(int64_t expires_ms)
{
    struct flow f;
    memset(&f, 0, sizeof f);
    random_token(f.state);
    random_token(f.nonce);
    random_token(f.verifier);
    util_copy(f.return_to, sizeof f.return_to, "/console/apis?q=a b");
    f.expires_ms = expires_ms;
    return f;
}

static void test_flow_cookie_roundtrip(void **state)
{
    (void)state;
    struct flow f = sample_flow(util_now_ms() + 60000), g;
    char value[OIDC_COOKIE_MAX];
    assert_int_equal(flow_encode(&f, value, sizeof value), 0);
    /* Only cookie-safe characters. */
    assert_int_equal(
        strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
        strlen(value));
    assert_int_equal(flow_decode(value, &g), 0);
    assert_string_equal(g.state, f.state);
    assert_string_equal(g.nonce, f.nonce);
    assert_string_equal(g.verifier, f.verifier);
    assert_string_equal(g.return_to, f.return_to);
    assert_int_equal(g.expires_ms, f.expires_ms);
}

static void test_flow_cookie_tampering(void **state)
{
    (void)state;
    struct flow f = sample_flow(util_now_ms() + 60000), g;
    char value[OIDC_COOKIE_MAX], copy[OIDC_COOKIE_MAX];
    assert_int_equal(flow_encode(&f, value, sizeof value), 0);
    /* Any changed character in the payload or the MAC is refused. */
    size_t n = strlen(value);
    for (size_t i = 0; i < n; i += 7) {
        memcpy(copy, value, n + 1);
        if (copy[i] == '.') continue;
        copy[i] = copy[i] == 'A' ? 'B' : 'A';
        assert_int_equal(flow_decode(copy, &g), -1);
    }
    assert_int_equal(flow_decode("", &g), -1);
    assert_int_equal(flow_decode(".", &g), -1);
    assert_int_equal(flow_decode("abc", &g), -1);
    /* Signed with another secret. */
    test_cfg.session.cookie_secret = "another-cookie-secret-0123456789abcdef00";
    assert_int_equal(flow_decode(value, &g), -1);
    test_cfg.session.cookie_secret = "unit-test-cookie-secret-0123456789abcdef";
    assert_int_equal(flow_decode(value, &g), 0);
    /* A validly signed cookie with a bad return_to is still refused. */
    util_copy(f.return_to, sizeof f.return_to, "//evil.com");
    assert_int_equal(flow_encode(&f, value, sizeof value), 0);
    assert_int_equal(flow_decode(value, &g), -1);
}

static void test_flow_cookie_expiry(void **state)
{
    (void)state;
    struct flow f = sample_flow(util_now_ms() - 1), g;
    char value[OIDC_COOKIE_MAX];
    assert_int_equal(flow_encode(&f, value, sizeof value), 0);
    assert_int_equal(flow_decode(value, &g), -2);
    assert_string_equal(g.return_to, f.return_to);
}

static enum role roles_of(const char *claims_json)
{
    cJSON *c = cJSON_Parse(claims_json);
    assert_non_null(c);
    bool found;
    enum role r = map_roles(c, &found);
    cJSON_Delete(c);
    return r;
}

static void test_role_mapping(void **state)
{
    (void)state;
    assert_int_equal(
        parse_role_map(" portal-devs = devops ,ops=tenant-admin,,root=cpi-admin", stderr), 0);
    assert_int_equal(role_map_count, 3);
    assert_int_equal(roles_of("{\"realm_access\":{\"roles\":[\"viewer\"]}}"), ROLE_VIEWER);
    assert_int_equal(
        roles_of("{\"realm_access\":{\"roles\":[\"viewer\",\"cpi-admin\",\"devops\"]}}"),
        ROLE_CPI_ADMIN);
    assert_int_equal(roles_of("{\"realm_access\":{\"roles\":[\"portal-devs\"]}}"), ROLE_DEVOPS);
    assert_int_equal(roles_of("{\"realm_access\":{\"roles\":[\"portal-devs\",\"ops\"]}}"),
                     ROLE_TENANT_ADMIN);
    assert_int_equal(roles_of("{\"realm_access\":{\"roles\":[\"root\",\"viewer\"]}}"),
                     ROLE_CPI_ADMIN);
    assert_int_equal(roles_of("{\"realm_access\":{\"roles\":\"devops\"}}"), ROLE_DEVOPS);
    /* Near misses map to nothing. */
    assert_int_equal(
        roles_of("{\"realm_access\":{\"roles\":[\"CPI-ADMIN\",\"admin\",\"viewer \",7]}}"),
        ROLE_NONE);
    assert_int_equal(roles_of("{\"realm_access\":{}}"), ROLE_NONE);
    assert_int_equal(roles_of("{\"roles\":[\"cpi-admin\"]}"), ROLE_NONE);
    /* Another claim path. */
    test_cfg.oidc.roles_claim = "resource_access.portico.roles";
    assert_int_equal(roles_of("{\"resource_access\":{\"portico\":{\"roles\":[\"ops\"]}}}"),
                     ROLE_TENANT_ADMIN);
    test_cfg.oidc.roles_claim = "realm_access.roles";
    /* Bad maps are configuration errors. */
    FILE *devnull = fopen("/dev/null", "w");
    assert_int_equal(parse_role_map("a=superuser", devnull), -1);
    assert_int_equal(parse_role_map("noequals", devnull), -1);
    assert_int_equal(parse_role_map("=viewer", devnull), -1);
    fclose(devnull);
    role_map_count = 0;
}

static void test_url_encode(void **state)
{
    (void)state;
    struct strbuf b;
    strbuf_init(&b, 256);
    url_encode(&b, "a b&c=d/é~-._");
    assert_string_equal(b.data, "a%20b%26c%3Dd%2F%C3%A9~-._");
    strbuf_cleanup(&b);
    strbuf_init(&b, 256);
    location_path(&b, "/x?q=a b&t=%2F\"é");
    assert_string_equal(b.data, "/x?q=a%20b&t=%2F%22%C3%A9");
    strbuf_cleanup(&b);
    strbuf_init(&b, 256);
    html_escape(&b, "<a href=\"x\">'&'</a>");
    assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    strbuf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_return_to, setup),
        cmocka_unit_test_setup(test_flow_cookie_roundtrip, setup),
        cmocka_unit_test_setup(test_flow_cookie_tampering, setup),
        cmocka_unit_test_setup(test_flow_cookie_expiry, setup),
        cmocka_unit_test_setup(test_role_mapping, setup),
        cmocka_unit_test_setup(test_url_encode, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
