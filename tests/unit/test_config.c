#define _GNU_SOURCE
/*
 * test_config.c — configuration: interpolation, env overrides, defaults,
 * every validation error's "file:line: key: reason" text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../server/config.c"

#include <unistd.h>

static char tmpfile_path[256];

static const char *write_tmp(const char *text)
{
    snprintf(tmpfile_path, sizeof tmpfile_path, "/tmp/portico-test-config-%d.yaml", (int)getpid());
    FILE *f = fopen(tmpfile_path, "w");
    fputs(text, f);
    fclose(f);
    return tmpfile_path;
}

/* Loads text; returns rc and the error output (static buffer). */
static int load_text(const char *text, struct config *cfg, char *errbuf, size_t n)
{
    FILE *err = fmemopen(errbuf, n, "w");
    int rc = config_load(write_tmp(text), cfg, err);
    fclose(err);
    return rc;
}

static void test_defaults(void **state)
{
    (void)state;
    struct config cfg;
    char err[2048] = "";
    assert_int_equal(load_text("profile: dev\n", &cfg, err, sizeof err), 0);
    assert_string_equal(cfg.server.listen, "127.0.0.1:8080");
    assert_int_equal(cfg.server.threads, 64);
    assert_int_equal(cfg.server.max_body_bytes, 1048576);
    assert_string_equal(cfg.database.sqlite_path, "var/portico.db");
    assert_false(cfg.auth.allow_anonymous);
    assert_string_equal(cfg.auth.anonymous_role, "viewer");
    assert_true(cfg.session.cookie_secure);
    assert_int_equal(cfg.session.ttl_seconds, 28800);
    assert_string_equal(cfg.oidc.scopes, "openid profile email");
    assert_string_equal(cfg.oidc.token_auth_method, "client_secret_basic");
    assert_string_equal(cfg.oidc.roles_claim, "realm_access.roles");
    assert_int_equal(cfg.oidc.clock_skew_seconds, 30);
    assert_int_equal(cfg.gateways.offline_after_seconds, 90);
    assert_true(cfg.gateways.degraded_error_rate > 0.0499 &&
                cfg.gateways.degraded_error_rate < 0.0501);
    assert_int_equal(cfg.gateways.max_event_streams, 32);
    assert_true(cfg.audit.enabled);
    assert_int_equal(cfg.audit.buffer_depth, 4096);
    assert_false(cfg.demo.seed);
    /* dev without a secret: one is generated */
    assert_true(cfg.cookie_secret_generated);
    assert_true(strlen(cfg.session.cookie_secret) >= 32);
    assert_string_equal(cfg.server.public_url, "http://127.0.0.1:8080");
    config_free(&cfg);
}

static void test_live_needs_secret(void **state)
{
    (void)state;
    struct config cfg;
    char err[2048] = "";
    assert_int_equal(load_text("profile: live\n", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "session.cookie_secret: is required with profile live"));
    assert_int_equal(load_text("session:\n  cookie_secret: short\n", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: session.cookie_secret: must be at least 32 bytes"));
}

static void test_interpolation(void **state)
{
    (void)state;
    struct config cfg;
    char err[2048] = "";
    setenv("PT_LISTEN", "127.0.0.1:9999", 1);
    unsetenv("PT_UNSET");
    assert_int_equal(load_text("profile: dev\nserver:\n  listen: ${PT_LISTEN}\n"
                               "  public_url: ${PT_UNSET:-http://example.test}\n"
                               "# ${NOT_EXPANDED_IN_COMMENT}\n",
                               &cfg, err, sizeof err),
                     0);
    assert_string_equal(cfg.server.listen, "127.0.0.1:9999");
    assert_int_equal(cfg.listen_port, 9999);
    assert_string_equal(cfg.server.public_url, "http://example.test");
    config_free(&cfg);

    memset(err, 0, sizeof err);
    assert_int_equal(
        load_text("profile: dev\nserver:\n  listen: ${PT_UNSET}\n", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, ":3: ${PT_UNSET} is not set"));

    char msg[128];
    char *out = config_interpolate("a: $${literal}\n", msg, sizeof msg);
    assert_non_null(out);
    assert_string_equal(out, "a: ${literal}\n");
    free(out);
    assert_null(config_interpolate("a: ${BAD-NAME}\n", msg, sizeof msg));
    assert_non_null(strstr(msg, "line 1"));
    assert_null(config_interpolate("a: ${OPEN\n", msg, sizeof msg));
}

static void test_env_overrides_win(void **state)
{
    (void)state;
    struct config cfg;
    char err[2048] = "";
    setenv("PORTICO_SERVER_THREADS", "12", 1);
    setenv("PORTICO_GATEWAYS_API_KEYS", "k1,k2", 1);
    assert_int_equal(
        load_text("profile: dev\nserver:\n  threads: 99\ngateways:\n  api_keys: file\n", &cfg, err,
                  sizeof err),
        0);
    assert_int_equal(cfg.server.threads, 12);
    assert_string_equal(cfg.gateways.api_keys, "k1,k2");
    config_free(&cfg);
    setenv("PORTICO_SERVER_THREADS", "zero", 1);
    assert_int_equal(load_text("profile: dev\n", &cfg, err, sizeof err), -1);
    assert_non_null(
        strstr(err, "env PORTICO_SERVER_THREADS: server.threads: must be a whole number"));
    unsetenv("PORTICO_SERVER_THREADS");
    unsetenv("PORTICO_GATEWAYS_API_KEYS");
}

static void test_gateway_keys_default_from_env(void **state)
{
    (void)state;
    struct config cfg;
    char err[1024] = "";
    setenv("GATEWAY_API_KEYS", "from-env", 1);
    assert_int_equal(load_text("profile: dev\n", &cfg, err, sizeof err), 0);
    assert_string_equal(cfg.gateways.api_keys, "from-env");
    config_free(&cfg);
    unsetenv("GATEWAY_API_KEYS");
}

static void test_every_problem_reported(void **state)
{
    (void)state;
    struct config cfg;
    char err[4096] = "";
    const char *text = "profile: test\n"              /* 1 */
                       "server:\n"                    /* 2 */
                       "  listen: nonsense\n"         /* 3 */
                       "  threads: 2\n"               /* 4 */
                       "  max_body_bytes: lots\n"     /* 5 */
                       "  colour: blue\n"             /* 6 */
                       "gateways:\n"                  /* 7 */
                       "  degraded_error_rate: 1.5\n" /* 8 */
                       "  offline_after_seconds: 0\n" /* 9 */
                       "auth:\n"                      /* 10 */
                       "  allow_anonymous: maybe\n"   /* 11 */
                       "  anonymous_role: root\n"     /* 12 */
                       "nosection:\n"                 /* 13 */
                       "  x: 1\n";                    /* 14 */
    assert_int_equal(load_text(text, &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, ":1: profile: must be one of dev|live"));
    assert_non_null(strstr(err, ":4: server.threads: must be a whole number from 4 to 1024"));
    assert_non_null(strstr(err, ":5: server.max_body_bytes: must be a whole number"));
    assert_non_null(strstr(err, ":6: server.colour: unknown key"));
    assert_non_null(strstr(err, ":8: gateways.degraded_error_rate: must be a number from 0 to 1"));
    assert_non_null(
        strstr(err, ":9: gateways.offline_after_seconds: must be a whole number from 1 to 86400"));
    assert_non_null(strstr(err, ":11: auth.allow_anonymous: must be true or false"));
    assert_non_null(strstr(err, ":12: auth.anonymous_role: must be one of"));
    assert_non_null(strstr(err, ":14: nosection.x: unknown key"));
}

static void test_cross_rules(void **state)
{
    (void)state;
    struct config cfg;
    char err[2048] = "";
    assert_int_equal(
        load_text("profile: dev\nserver:\n  listen: nonsense\n", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, ":3: server.listen: must be host:port"));
    assert_int_equal(
        load_text("profile: dev\ndatabase:\n  url: mysql://x\n", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "database.url: must be empty (SQLite) or start with postgres://"));
    assert_int_equal(
        load_text("profile: live\nsession:\n  cookie_secret: 0123456789abcdef0123456789abcdef\n"
                  "demo:\n  seed: true\n",
                  &cfg, err, sizeof err),
        -1);
    assert_non_null(strstr(err, "needs profile dev"));
    assert_int_equal(
        load_text("profile: dev\noidc:\n  issuer: http://idp\n", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "oidc.client_id: is required when oidc.issuer is set"));
    assert_int_equal(load_text("server: [1, 2]\n", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "server: expected a mapping of keys"));
    assert_int_equal(load_text("profile: dev\nserver:\n  listen: [a\n", &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "YAML syntax error"));
}

static void test_missing_file(void **state)
{
    (void)state;
    struct config cfg;
    char err[512] = "";
    FILE *f = fmemopen(err, sizeof err, "w");
    assert_int_equal(config_load("/nonexistent/portico.yaml", &cfg, f), -1);
    fclose(f);
    assert_non_null(strstr(err, "/nonexistent/portico.yaml: cannot open"));
}

static void test_print_redacts(void **state)
{
    (void)state;
    struct config cfg;
    char err[1024] = "", out[8192] = "";
    assert_int_equal(
        load_text("profile: dev\nsession:\n  cookie_secret: super-secret-value-0123456789abcdef\n"
                  "gateways:\n  api_keys: gw-secret\n",
                  &cfg, err, sizeof err),
        0);
    FILE *f = fmemopen(out, sizeof out, "w");
    config_print(&cfg, f);
    fclose(f);
    assert_null(strstr(out, "super-secret-value"));
    assert_null(strstr(out, "gw-secret"));
    assert_non_null(strstr(out, "cookie_secret: \"<redacted>\""));
    assert_non_null(strstr(out, "listen: \"127.0.0.1:8080\""));
    config_free(&cfg);
}

static void test_env_name_and_port(void **state)
{
    (void)state;
    char env[64];
    config_env_name("server.listen", env, sizeof env);
    assert_string_equal(env, "PORTICO_SERVER_LISTEN");
    config_env_name("oidc.client_id", env, sizeof env);
    assert_string_equal(env, "PORTICO_OIDC_CLIENT_ID");
    struct config cfg;
    char err[512] = "";
    assert_int_equal(
        load_text("profile: dev\nserver:\n  listen: 127.0.0.1:0\n", &cfg, err, sizeof err), 0);
    config_set_bound_port(&cfg, 4321);
    assert_string_equal(cfg.server.public_url, "http://127.0.0.1:4321");
    char origin[64];
    config_public_origin(&cfg, origin, sizeof origin);
    assert_string_equal(origin, "http://127.0.0.1:4321");
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_live_needs_secret),
        cmocka_unit_test(test_interpolation),
        cmocka_unit_test(test_env_overrides_win),
        cmocka_unit_test(test_gateway_keys_default_from_env),
        cmocka_unit_test(test_every_problem_reported),
        cmocka_unit_test(test_cross_rules),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_print_redacts),
        cmocka_unit_test(test_env_name_and_port),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(tmpfile_path);
    return rc;
}
