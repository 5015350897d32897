/*
 * test_audit.c — unit tests for the audit module's pure parts: query
 * redaction, UTF-8 cleaning, status filter parsing, LIKE escaping, and the
 * ring buffer (full → dropped and counted). The writer thread is not started.
 * Threading: single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../server/audit.c"

static void redact(const char *in, char *out, size_t n)
{
    redact_query(in, out, n);
}

static void test_redaction_keeps_ordinary_values(void **state)
{
    (void)state;
    char out[AUDIT_QUERY_MAX];
    redact("q=x&api_key=secret", out, sizeof out);
    assert_string_equal(out, "q=x&api_key=REDACTED");
    redact("page=2&page_size=10&monkey=1&keys=3", out, sizeof out);
    assert_string_equal(out, "page=2&page_size=10&monkey=1&keys=3");
    redact(NULL, out, sizeof out);
    assert_string_equal(out, "");
    redact("", out, sizeof out);
    assert_string_equal(out, "");
}

static void test_redaction_covers_every_secret_name(void **state)
{
    (void)state;
    static const char *const names[] = {"api_key",    "key",           "token",   "access_token",
                                        "id_token",   "code",          "state",   "password",
                                        "secret",     "client_secret", "session", "refresh_token",
                                        "csrf_token", "db_password"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char in[128], want[128], out[AUDIT_QUERY_MAX];
        snprintf(in, sizeof in, "a=1&%s=hunter2&b=2", names[i]);
        snprintf(want, sizeof want, "a=1&%s=REDACTED&b=2", names[i]);
        redact(in, out, sizeof out);
        assert_string_equal(out, want);
        assert_null(strstr(out, "hunter2"));
    }
}

static void test_redaction_decodes_and_folds_names(void **state)
{
    (void)state;
    char out[AUDIT_QUERY_MAX];
    redact("API_KEY=abc&Api%5Fkey=def&Token=x", out, sizeof out);
    assert_string_equal(out, "API_KEY=REDACTED&Api%5Fkey=REDACTED&Token=REDACTED");
    /* Repeated parameters and empty segments. */
    redact("code=1&code=2&&x=%41", out, sizeof out);
    assert_string_equal(out, "code=REDACTED&code=REDACTED&x=%41");
    /* A name without a value has nothing to hide. */
    redact("token&x=1", out, sizeof out);
    assert_string_equal(out, "token&x=1");
    /* An empty secret value is still marked. */
    redact("password=", out, sizeof out);
    assert_string_equal(out, "password=REDACTED");
}

static void test_redaction_truncates_safely(void **state)
{
    (void)state;
    char in[5000], out[64];
    memset(in, 'a', sizeof in);
    memcpy(in, "q=", 2);
    in[sizeof in - 1] = '\0';
    redact(in, out, sizeof out);
    assert_int_equal(strlen(out), sizeof out - 1);
    /* A secret after the cut never appears, even partly. */
    char in2[200];
    snprintf(in2, sizeof in2, "%s&token=supersecretvalue",
             "q=0123456789012345678901234567890123456789012345");
    redact(in2, out, sizeof out);
    assert_null(strstr(out, "super"));
    /* Raw bytes that are not UTF-8 become '?'. */
    redact("q=\xff\xfe", out, sizeof out);
    assert_string_equal(out, "q=??");
}

static void test_copy_clean(void **state)
{
    (void)state;
    char out[8];
    copy_clean(out, sizeof out, "abc\x01\x7f");
    assert_string_equal(out, "abc??");
    /* "é" is two bytes: never cut in half. */
    copy_clean(out, 5, "abc\xc3\xa9");
    assert_string_equal(out, "abc");
    copy_clean(out, 6, "abc\xc3\xa9");
    assert_string_equal(out, "abc\xc3\xa9");
    /* Overlong and truncated sequences. */
    copy_clean(out, sizeof out,
               "\xc0\xaf"
               "x\xe2\x82");
    assert_string_equal(out, "??x??");
    copy_clean(out, sizeof out, NULL);
    assert_string_equal(out, "");
}

static void test_status_filter(void **state)
{
    (void)state;
    int lo = 0, hi = 0;
    assert_int_equal(parse_status_filter("404", &lo, &hi), 0);
    assert_int_equal(lo, 404);
    assert_int_equal(hi, 404);
    assert_int_equal(parse_status_filter("4xx", &lo, &hi), 0);
    assert_int_equal(lo, 400);
    assert_int_equal(hi, 499);
    assert_int_equal(parse_status_filter("5XX", &lo, &hi), 0);
    assert_int_equal(lo, 500);
    assert_int_equal(hi, 599);
    assert_int_equal(parse_status_filter("200", &lo, &hi), 0);
    assert_int_equal(lo, 200);
    static const char *const bad[] = {"",    "4",   "40",  "4044", "4x",  "4xy",  "x4x", "6xx",
                                      "0xx", "600", "099", "abc",  "-40", " 404", "40 ", "+40"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lo = hi = -7;
        assert_int_equal(parse_status_filter(bad[i], &lo, &hi), -1);
        assert_int_equal(lo, -7); /* untouched on failure */
    }
    assert_int_equal(parse_status_filter(NULL, &lo, &hi), -1);
}

static void test_like_prefix_escapes(void **state)
{
    (void)state;
    char *p = db_like_pattern("", "/v1/a%b_c\\d", 11, "%"); /* the audit path filter */
    assert_non_null(p);
    assert_string_equal(p, "/v1/a\\%b\\_c\\\\d%");
    free(p);
    p = db_like_pattern("", "", 0, "%");
    assert_string_equal(p, "%");
    free(p);
}

static struct req fake_req(const char *path, const char *query)
{
    struct req r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    util_copy(r.path, sizeof r.path, path);
    util_copy(r.request_id, sizeof r.request_id, "00000000-0000-4000-8000-000000000000");
    r.query = query;
    r.status = 200;
    r.principal.type = AUTH_API_KEY;
    r.principal.role = ROLE_TENANT_ADMIN;
    util_copy(r.principal.subject, sizeof r.principal.subject, "apikey:t");
    util_copy(r.principal.tenant_id, sizeof r.principal.tenant_id, "acme");
    return r;
}

static void test_ring_full_drops_and_counts(void **state)
{
    (void)state;
    assert_int_equal(ring_setup(3), 0);
    atomic_store(&enabled, true);
    uint64_t before = audit_dropped_total();
    struct req r = fake_req("/v1/apis", "q=1&secret=s");
    for (int i = 0; i < 5; i++) audit_record_request(&r);
    assert_int_equal(audit_pending(), 3);
    assert_int_equal(audit_dropped_total() - before, 2);

    /* What was queued is a full copy, redacted. */
    struct audit_event *ev = ring.slots[ring.head];
    assert_string_equal(ev->kind, "request");
    assert_string_equal(ev->path, "/v1/apis");
    assert_string_equal(ev->query, "q=1&secret=REDACTED");
    assert_string_equal(ev->principal, "apikey:t");
    assert_string_equal(ev->auth_type, "api_key");
    assert_string_equal(ev->role, "tenant-admin");
    assert_string_equal(ev->tenant_id, "acme");
    assert_int_equal(ev->status, 200);

    /* The writer consuming frees space again. */
    ring_consume(2);
    assert_int_equal(audit_pending(), 1);
    audit_record_request(&r);
    audit_record_request(&r);
    assert_int_equal(audit_pending(), 3);
    assert_int_equal(audit_dropped_total() - before, 2);
    audit_record_request(&r);
    assert_int_equal(audit_dropped_total() - before, 3);

    atomic_store(&enabled, false);
    audit_record_request(&r); /* disabled: neither queued nor counted */
    assert_int_equal(audit_pending(), 3);
    assert_int_equal(audit_dropped_total() - before, 3);
    ring_teardown();
}

static void test_auth_event_and_unauthenticated_principal(void **state)
{
    (void)state;
    assert_int_equal(ring_setup(4), 0);
    atomic_store(&enabled, true);
    struct req r = fake_req("/auth/apikey", NULL);
    r.method = "POST";
    audit_record_auth(&r, "sign_in_failed", "apikey:unknown");
    struct req anon = fake_req("/v1/whoami", NULL);
    memset(&anon.principal, 0, sizeof anon.principal); /* AUTH_NONE: a 401 */
    anon.status = 401;
    audit_record_request(&anon);
    assert_int_equal(audit_pending(), 2);
    struct audit_event *a = ring.slots[ring.head];
    assert_string_equal(a->kind, "auth");
    assert_string_equal(a->action, "sign_in_failed");
    assert_string_equal(a->principal, "apikey:unknown");
    assert_string_equal(a->method, "POST");
    assert_string_equal(a->path, "/auth/apikey");
    struct audit_event *b = ring.slots[(ring.head + 1) % ring.depth];
    assert_string_equal(b->principal, "");
    assert_string_equal(b->auth_type, "none");
    assert_string_equal(b->role, "");
    assert_string_equal(b->tenant_id, "");
    assert_string_equal(b->action, "");
    atomic_store(&enabled, false);
    ring_teardown();
}

static void test_unauthenticated_flood_is_summarised(void **state)
{
    (void)state;
    limiter_flush(true);
    assert_int_equal(ring_setup(64), 0);
    atomic_store(&enabled, true);
    uint64_t before = audit_dropped_total();
    struct req anon = fake_req("/v1/nothing", NULL);
    memset(&anon.principal, 0, sizeof anon.principal);
    anon.status = 404;
    for (int i = 0; i < 10000; i++) audit_record_request(&anon);
    /* The first AUDIT_LIMITER_BURST are recorded at once (twice that and a
     * summary when a minute ends meanwhile). */
    assert_in_range(audit_pending(), AUDIT_LIMITER_BURST, 2 * AUDIT_LIMITER_BURST + 1);
    size_t single = audit_pending();
    limiter_flush(true);
    assert_int_equal(audit_pending(), single + 1);
    struct audit_event *last = ring.slots[(ring.head + ring.count - 1) % ring.depth];
    assert_true(last->repeat >= 10000 - 2 * AUDIT_LIMITER_BURST - 1);
    assert_true(last->repeat <= 10000 - AUDIT_LIMITER_BURST);
    assert_int_equal(audit_dropped_total() - before, 0);
    /* Authenticated 404s are never summarised. */
    struct req key = fake_req("/v1/nothing", NULL);
    key.status = 404;
    audit_record_request(&key);
    audit_record_request(&key);
    assert_int_equal(audit_pending(), single + 3);
    atomic_store(&enabled, false);
    ring_teardown();
}

static void test_key_principal_names_the_key_id(void **state)
{
    (void)state;
    struct principal p;
    char out[256];
    memset(&p, 0, sizeof p);
    p.type = AUTH_API_KEY;
    util_copy(p.subject, sizeof p.subject, "apikey:ci");
    util_copy(p.key_id, sizeof p.key_id, "0b7c6d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e");
    principal_audit_name(&p, out, sizeof out);
    assert_string_equal(out, "apikey:ci [0b7c6d1e-2f3a-4b5c-8d9e-0f1a2b3c4d5e]");
    p.key_id[0] = '\0';
    p.file_key = true;
    p.type = AUTH_SESSION;
    principal_audit_name(&p, out, sizeof out);
    assert_string_equal(out, "apikey:ci [keys-file]");
    /* A long name is cut, never the id. */
    char small[24];
    p.file_key = false;
    util_copy(p.key_id, sizeof p.key_id, "0b7c6d1e");
    principal_audit_name(&p, small, sizeof small);
    assert_string_equal(small, "apikey:ci [0b7c6d1e]");
    util_copy(p.subject, sizeof p.subject, "apikey:a-very-long-key-name");
    principal_audit_name(&p, small, sizeof small);
    assert_string_equal(small, "apikey:a-ver [0b7c6d1e]");
    p.type = AUTH_JWT;
    p.key_id[0] = '\0';
    principal_audit_name(&p, out, sizeof out);
    assert_string_equal(out, "apikey:a-very-long-key-name");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redaction_keeps_ordinary_values),
        cmocka_unit_test(test_redaction_covers_every_secret_name),
        cmocka_unit_test(test_redaction_decodes_and_folds_names),
        cmocka_unit_test(test_redaction_truncates_safely),
        cmocka_unit_test(test_copy_clean),
        cmocka_unit_test(test_status_filter),
        cmocka_unit_test(test_like_prefix_escapes),
        cmocka_unit_test(test_ring_full_drops_and_counts),
        cmocka_unit_test(test_auth_event_and_unauthenticated_principal),
        cmocka_unit_test(test_unauthenticated_flood_is_summarised),
        cmocka_unit_test(test_key_principal_names_the_key_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
