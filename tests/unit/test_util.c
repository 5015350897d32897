/*
 * test_util.c — time formatting/parsing, checked number parsing, UTF-8,
 * case folding, string buffers, and the crypto helpers.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../server/util.c"
#include "portico/crypto.h"

static void test_time(void **state)
{
    (void)state;
    char buf[32];
    util_time_format(1795334400123LL, buf);
    assert_string_equal(buf, "2026-11-22T08:00:00.123Z");
    int64_t ms;
    assert_int_equal(util_time_parse("2026-11-22T08:00:00.123Z", &ms), 0);
    assert_int_equal(ms, 1795334400123LL);
    assert_int_equal(util_time_parse("2026-11-22T09:00:00+01:00", &ms), 0);
    assert_int_equal(ms, 1795334400000LL);
    assert_int_equal(util_time_parse("2026-11-22T08:00:00Z", &ms), 0);
    const char *bad[] = {"",
                         "2026-11-22",
                         "2026-13-01T00:00:00Z",
                         "2026-11-22T08:00:00",
                         "2026-11-22T08:00:00Zjunk",
                         "2026-11-22T25:00:00Z",
                         "yesterday"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(util_time_parse(bad[i], &ms), -1);
}

static void test_parse_int(void **state)
{
    (void)state;
    long long v = 7;
    assert_int_equal(util_parse_int("42", 1, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(util_parse_int("-3", -5, 5, &v), 0);
    assert_int_equal(v, -3);
    const char *bad[] = {"",  "4x", " 4", "4 ", "0x10", "101", "0", "99999999999999999999",
                         "+", "-"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(util_parse_int(bad[i], 1, 100, &v), -1);
    double d;
    assert_int_equal(util_parse_double("0.05", 0, 1, &d), 0);
    assert_int_equal(util_parse_double("1.5", 0, 1, &d), -1);
    assert_int_equal(util_parse_double("nan", 0, 1, &d), -1);
    assert_int_equal(util_parse_double("", 0, 1, &d), -1);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(util_utf8_valid("Café", strlen("Café")));
    assert_false(util_utf8_valid("\xff\xfe", 2));
    assert_false(util_utf8_valid("\xc0\xaf", 2));     /* overlong */
    assert_false(util_utf8_valid("\xed\xa0\x80", 3)); /* surrogate */
    assert_false(util_utf8_valid("\xe2\x82", 2));     /* truncated */
    assert_int_equal(util_utf8_len("Café", strlen("Café")), 4);
    char *l = util_utf8_lower("CAFÉ Über ΑΒΓ ДОМ");
    assert_string_equal(l, "café über αβγ дом");
    free(l);
    assert_true(util_has_control("a\x01", false));
    assert_false(util_has_control("a\tb", true));
    assert_true(util_has_control("a\tb", false));
}

static void test_strbuf(void **state)
{
    (void)state;
    struct strbuf b;
    strbuf_init(&b, 16);
    strbuf_puts(&b, "hello");
    strbuf_printf(&b, " %d", 42);
    assert_string_equal(b.data, "hello 42");
    strbuf_puts(&b, " and much more than the cap");
    assert_true(b.failed);
    assert_null(strbuf_take(&b));
    char dst[4];
    assert_false(util_copy(dst, sizeof dst, "abcdef"));
    assert_string_equal(dst, "abc");
    char t[] = "  x y \n";
    assert_string_equal(util_trim(t), "x y");
}

static void test_crypto(void **state)
{
    (void)state;
    char hex[65];
    crypto_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_hmac_sha256_hex("key", 3, "The quick brown fox jumps over the lazy dog", 43, hex);
    assert_string_equal(hex, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    assert_true(crypto_streq("same", "same"));
    assert_false(crypto_streq("same", "Same"));
    assert_false(crypto_streq("same", "same-longer"));
    assert_false(crypto_streq(NULL, "x"));
    char u1[37], u2[37];
    crypto_uuid(u1);
    crypto_uuid(u2);
    assert_true(crypto_is_uuid(u1));
    assert_string_not_equal(u1, u2);
    assert_int_equal(u1[14], '4');
    assert_false(crypto_is_uuid("not-a-uuid"));
    char enc[64];
    unsigned char dec[64];
    size_t n = crypto_b64url_encode("\xfb\xff", 2, enc);
    assert_string_equal(enc, "-_8");
    assert_int_equal(n, 3);
    assert_int_equal(crypto_b64url_decode(enc, n, dec, sizeof dec), 2);
    assert_memory_equal(dec, "\xfb\xff", 2);
    assert_int_equal(crypto_b64url_decode("a", 1, dec, sizeof dec), -1);
    assert_int_equal(crypto_b64url_decode("a$bc", 4, dec, sizeof dec), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time),   cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_utf8),   cmocka_unit_test(test_strbuf),
        cmocka_unit_test(test_crypto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
