/*
 * fuzz_utf8.c — text helpers on untrusted input: util_utf8_valid,
 * util_utf8_len, util_utf8_lower (search and name comparisons),
 * util_has_control, util_trim, util_time_parse (audit from/to),
 * util_parse_int / util_parse_double (paging, config numbers).
 * Properties: lower-casing keeps the byte length and keeps valid UTF-8
 * valid and is idempotent; a parsed time formats and parses back to the
 * same instant; parsed numbers are inside the requested range.
 * Threading: single-threaded (libFuzzer).
 */
#include <limits.h>
#include <math.h>

#include "portico/util.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024) return -1;
    char *s = fuzz_cstr(data, size);
    size_t n = strlen(s); /* the helpers take C strings */

    bool valid = util_utf8_valid(s, n);
    size_t chars = util_utf8_len(s, n);
    CHECK(chars <= n);
    (void)util_utf8_valid((const char *)data, size);

    char *lower = util_utf8_lower(s);
    CHECK(lower != NULL);
    CHECK(strlen(lower) == n);
    if (valid) {
        CHECK(util_utf8_valid(lower, n));
        CHECK(util_utf8_len(lower, n) == chars);
        char *twice = util_utf8_lower(lower);
        CHECK(twice && strcmp(twice, lower) == 0);
        free(twice);
    }
    free(lower);

    (void)util_has_control(s, true);
    bool ctl = util_has_control(s, false);
    if (!ctl) CHECK(util_has_control(s, true) == false);

    int64_t ms;
    if (util_time_parse(s, &ms) == 0) {
        char buf[32];
        /* Years 0..9999 format back to RFC 3339. */
        if (ms >= -62167219200000LL && ms <= 253402300799999LL) {
            util_time_format(ms, buf);
            int64_t back;
            CHECK(util_time_parse(buf, &back) == 0);
            CHECK(back == ms);
        }
    }

    long long v;
    if (util_parse_int(s, 1, 1000000, &v) == 0) CHECK(v >= 1 && v <= 1000000);
    if (util_parse_int(s, LLONG_MIN, LLONG_MAX, &v) == 0) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", v);
        long long w;
        CHECK(util_parse_int(buf, LLONG_MIN, LLONG_MAX, &w) == 0 && w == v);
    }
    double d;
    if (util_parse_double(s, 0, 1, &d) == 0) CHECK(isfinite(d) && d >= 0 && d <= 1);

    char *t = fuzz_cstr(data, size);
    util_trim(t);
    size_t tl = strlen(t);
    CHECK(tl <= n);
    free(t);
    free(s);
    return 0;
}
