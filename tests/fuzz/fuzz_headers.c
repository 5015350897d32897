/*
 * fuzz_headers.c — request header and query parsing as Portico uses it:
 * the session cookie (civetweb's mg_get_cookie, as auth_resolve calls it),
 * query parameters (mg_get_var2 through http_query_param, then the paging
 * number check), Content-Type media matching (media_is), Accept-Encoding
 * (accepts_gzip) and If-None-Match (etag_matches) for assets.
 * The input is split at the first NUL bytes into: cookie header, query
 * string, content type, accept-encoding, if-none-match.
 * Properties: a value returned as found is NUL-terminated and shorter than
 * its buffer; the documented return codes only.
 * Threading: single-threaded (libFuzzer).
 */
#include "../../server/assets.c"
#include "../../server/http.c"
#include "../../server/dispatch.c" /* media_is moved with the pipeline */

#include "portico/session.h"

#include "fuzz_common.h"

/* Next NUL-separated field of the input (the rest when no NUL is left). */
static const char *next_field(const char **p, const char *end)
{
    const char *start = *p;
    if (start >= end) return "";
    const char *nul = memchr(start, '\0', (size_t)(end - start));
    *p = nul ? nul + 1 : end;
    return start;
}

static void check_found(int n, const char *buf, size_t cap)
{
    if (n >= 0) {
        CHECK((size_t)n < cap);
        CHECK(strnlen(buf, cap) == (size_t)n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 32 * 1024) return -1;
    char *all = fuzz_cstr(data, size);
    const char *p = all, *end = all + size;
    const char *cookie = next_field(&p, end);
    const char *query = next_field(&p, end);
    const char *ctype = next_field(&p, end);
    const char *ae = next_field(&p, end);
    const char *inm = next_field(&p, end);

    /* Cookies: as auth_resolve (256-byte token) and a tiny buffer. */
    char token[256], tiny[4];
    int n = mg_get_cookie(cookie, session_cookie_name(), token, sizeof token);
    CHECK(n >= -4);
    check_found(n, token, sizeof token);
    n = mg_get_cookie(cookie, "__Host-portico_session", tiny, sizeof tiny);
    check_found(n, tiny, sizeof tiny);
    n = mg_get_cookie(cookie, "portico_oidc", token, sizeof token);
    check_found(n, token, sizeof token);

    /* Query parameters, through the wrapper handlers use. */
    struct req r;
    memset(&r, 0, sizeof r);
    r.query = query;
    static const char *const names[] = {"page", "page_size", "q", "status", "from", ""};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        for (int nth = 0; nth < 3; nth++) {
            char val[HTTP_QUERY_VALUE_MAX], small[32];
            int m = http_query_param(&r, names[i], nth, val, sizeof val);
            CHECK(m >= -2);
            check_found(m, val, sizeof val);
            m = http_query_param(&r, names[i], nth, small, sizeof small);
            CHECK(m >= -2);
            check_found(m, small, sizeof small);
            long long v;
            if (m >= 0 && util_parse_int(small, 1, PAGE_MAX, &v) == 0)
                CHECK(v >= 1 && v <= PAGE_MAX);
        }
    }
    r.query = NULL;
    char v2[8];
    CHECK(http_query_param(&r, "page", 0, v2, sizeof v2) == -1);

    /* Media types, Accept-Encoding, If-None-Match. */
    (void)media_is(ctype, "application/json");
    (void)media_is(ctype, "application/yaml");
    (void)accepts_gzip(ae);
    (void)accepts_gzip(NULL);
    (void)etag_matches(inm, "\"0123456789abcdef\"");
    (void)etag_matches(inm, "\"0123456789abcdef-gz\"");
    (void)etag_matches(NULL, "\"x\"");
    (void)has_extension(inm);
    free(all);
    return 0;
}
