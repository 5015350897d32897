/*
 * fuzz_path.c — request path handling: http_path_normalize on a decoded
 * path, then http_route_match against every route in the table and the
 * embedded-asset lookup, as the dispatcher does.
 * Properties: a normalised path starts with '/', has no empty, "." or ".."
 * segment, no backslash or control character, fits the buffer and is a
 * fixed point (normalising it again gives the same path); route captures
 * are non-empty, NUL-terminated, slash-free and at most
 * HTTP_ROUTE_PARAMS_MAX.
 * Threading: single-threaded (libFuzzer).
 */
#include "portico/assets.h"
#include "portico/http.h"
#include "portico/routes.h"

#include "fuzz_common.h"

static void check_normalised(const char *p, size_t cap)
{
    size_t n = strlen(p);
    CHECK(n > 0 && n < cap);
    CHECK(p[0] == '/');
    CHECK(strstr(p, "//") == NULL);
    CHECK(strchr(p, '\\') == NULL);
    for (const char *c = p; *c; c++) CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
    const char *seg = p;
    while (*seg) {
        seg++;
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        CHECK(!(len == 1 && seg[0] == '.'));
        CHECK(!(len == 2 && seg[0] == '.' && seg[1] == '.'));
        if (!end) break;
        seg = end;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 3 * HTTP_PATH_MAX) return -1;
    char *in = fuzz_cstr(data, size);
    char out[HTTP_PATH_MAX], again[HTTP_PATH_MAX];
    /* A small buffer exercises the length checks. */
    char small[16];
    if (http_path_normalize(in, small, sizeof small) == 0) check_normalised(small, sizeof small);

    if (http_path_normalize(in, out, sizeof out) == 0) {
        check_normalised(out, sizeof out);
        CHECK(http_path_normalize(out, again, sizeof again) == 0);
        CHECK(strcmp(out, again) == 0);

        size_t count;
        const struct route *t = routes_table(&count);
        for (size_t i = 0; i < count; i++) {
            char params[HTTP_ROUTE_PARAMS_MAX][HTTP_ROUTE_PARAM_MAX];
            int np = -1;
            if (!http_route_match(t[i].pattern, out, params, &np)) continue;
            CHECK(np >= 0 && np <= HTTP_ROUTE_PARAMS_MAX);
            for (int k = 0; k < np; k++) {
                size_t len = strnlen(params[k], HTTP_ROUTE_PARAM_MAX);
                CHECK(len > 0 && len < HTTP_ROUTE_PARAM_MAX);
                CHECK(strchr(params[k], '/') == NULL);
            }
        }
        if (out[1] != '\0') {
            const struct embedded_file *f = assets_find(assets_ui, assets_ui_count, out + 1);
            if (f) CHECK(strcmp(f->path, out + 1) == 0);
        }
    }
    /* The raw input as a pattern too: patterns are trusted, but matching must
     * stay in bounds whatever they hold. */
    if (size < 512) {
        char params[HTTP_ROUTE_PARAMS_MAX][HTTP_ROUTE_PARAM_MAX];
        int np = 0;
        (void)http_route_match(in, "/v1/apis/0123/x/y/z/w/v", params, &np);
        CHECK(np >= 0 && np <= HTTP_ROUTE_PARAMS_MAX);
    }
    free(in);
    return 0;
}
