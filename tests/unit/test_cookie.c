/*
 * test_cookie.c — the strict Cookie header parser (exact, case-sensitive
 * names; a name inside another cookie's value never matches; duplicates with
 * different values conflict) and the fixed-size digest compare of secrets.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../server/cookie.c"
#include "portico/crypto.h"

#define S "__Host-portico_session"

static enum cookie_result get(const char *header, char *out, size_t n)
{
    return cookie_get(header, S, out, n);
}

static void test_found(void **state)
{
    (void)state;
    char v[64];
    assert_int_equal(get(S "=abc", v, sizeof v), COOKIE_FOUND);
    assert_string_equal(v, "abc");
    assert_int_equal(get("a=1; " S "=abc; b=2", v, sizeof v), COOKIE_FOUND);
    assert_string_equal(v, "abc");
    assert_int_equal(get("a=1;" S "=abc", v, sizeof v), COOKIE_FOUND);
    assert_string_equal(v, "abc");
    assert_int_equal(get(" \t" S "=abc \t;", v, sizeof v), COOKIE_FOUND);
    assert_string_equal(v, "abc");
    assert_int_equal(get(S "=\"abc\"", v, sizeof v), COOKIE_FOUND);
    assert_string_equal(v, "abc");
    assert_int_equal(get(S "=", v, sizeof v), COOKIE_FOUND);
    assert_string_equal(v, "");
    /* The same value twice is one cookie. */
    assert_int_equal(get(S "=abc; " S "=abc", v, sizeof v), COOKIE_FOUND);
    assert_string_equal(v, "abc");
}

static void test_absent(void **state)
{
    (void)state;
    char v[64];
    assert_int_equal(get(NULL, v, sizeof v), COOKIE_ABSENT);
    assert_int_equal(get("", v, sizeof v), COOKIE_ABSENT);
    assert_int_equal(get("a=1; b=2", v, sizeof v), COOKIE_ABSENT);
    /* Names are exact and case-sensitive. */
    assert_int_equal(get("__HOST-portico_session=abc", v, sizeof v), COOKIE_ABSENT);
    assert_int_equal(get("x" S "=abc", v, sizeof v), COOKIE_ABSENT);
    assert_int_equal(get(S "x=abc", v, sizeof v), COOKIE_ABSENT);
    assert_int_equal(get(S " =abc", v, sizeof v), COOKIE_ABSENT);
    assert_int_equal(get(S, v, sizeof v), COOKIE_ABSENT);
    /* A name inside another cookie's value is not a cookie. */
    assert_int_equal(get("other=" S "=abc", v, sizeof v), COOKIE_ABSENT);
    assert_int_equal(get("other=\"x, " S "=abc\"", v, sizeof v), COOKIE_ABSENT);
    assert_string_equal(v, "");
}

static void test_conflict_and_invalid(void **state)
{
    (void)state;
    char v[8];
    assert_int_equal(get(S "=abc; " S "=abd", v, sizeof v), COOKIE_CONFLICT);
    assert_string_equal(v, "");
    assert_int_equal(get(S "=abc; x=1; " S "=", v, sizeof v), COOKIE_CONFLICT);
    assert_int_equal(get(S "=abc; " S "=a b", v, sizeof v), COOKIE_CONFLICT);
    assert_int_equal(get(S "=a b", v, sizeof v), COOKIE_INVALID);
    assert_int_equal(get(S "=a\\b", v, sizeof v), COOKIE_INVALID);
    assert_int_equal(get(S "=12345678", v, sizeof v), COOKIE_INVALID); /* does not fit */
    assert_int_equal(get(S "=1234567", v, sizeof v), COOKIE_FOUND);
    assert_int_equal(cookie_get(S "=a", "", v, sizeof v), COOKIE_ABSENT);
}

static void test_secret_eq(void **state)
{
    (void)state;
    assert_true(crypto_secret_eq("gateway-key-0123456789", "gateway-key-0123456789"));
    assert_false(crypto_secret_eq("gateway-key-0123456789", "gateway-key-012345678"));
    assert_false(crypto_secret_eq("gateway-key-012345678", "gateway-key-0123456789"));
    assert_false(crypto_secret_eq("gateway-key-0123456789", "Gateway-key-0123456789"));
    assert_false(crypto_secret_eq("", "x"));
    assert_true(crypto_secret_eq("", ""));
    assert_false(crypto_secret_eq(NULL, "x"));
    assert_false(crypto_secret_eq("x", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_found),
        cmocka_unit_test(test_absent),
        cmocka_unit_test(test_conflict_and_invalid),
        cmocka_unit_test(test_secret_eq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
