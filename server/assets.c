/*
 * assets.c — serves the embedded web UI: / → /portal/, the two entries with
 * deep-link fallback to their index.html, hashed assets as immutable, ETag
 * and 304, precompressed gzip when the client accepts it.
 * Threading: read-only static tables.
 */
#define _GNU_SOURCE
#include "portico/assets.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portico/http.h"
#include "portico/util.h"

const struct embedded_file *assets_find(const struct embedded_file *table, size_t count,
                                        const char *path)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (!table[mid].path) return NULL;
        int c = strcmp(path, table[mid].path);
        if (c == 0) return &table[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

static bool accepts_gzip(const char *ae)
{
    const char *p = ae ? strcasestr(ae, "gzip") : NULL;
    if (!p) return false;
    p += 4;
    while (*p == ' ') p++;
    if (*p != ';') return true;
    const char *q = strcasestr(p, "q=");
    const char *comma = strchr(p, ',');
    if (!q || (comma && q > comma)) return true;
    return strtod(q + 2, NULL) > 0.0;
}

/* True when If-None-Match lists etag (or "*"). */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm) return false;
    if (strcmp(inm, "*") == 0) return true;
    size_t n = strlen(etag);
    const char *p = inm;
    while ((p = strstr(p, etag)) != NULL) {
        char after = p[n];
        if (after == '\0' || after == ',' || after == ' ') return true;
        p += n;
    }
    return false;
}

static bool has_extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *last = slash ? slash + 1 : path;
    return strchr(last, '.') != NULL;
}

static int serve(struct req *r, const struct embedded_file *f)
{
    bool immutable = strncmp(f->path, "assets/", 7) == 0;
    bool gz = f->gz && accepts_gzip(http_header(r, "Accept-Encoding"));
    char etag[64];
    size_t el = strlen(f->etag);
    if (gz && el >= 2 && el + 4 < sizeof etag) {
        /* A distinct strong validator for the gzip representation. */
        memcpy(etag, f->etag, el - 1);
        memcpy(etag + el - 1, "-gz\"", 5);
    } else {
        util_copy(etag, sizeof etag, f->etag);
    }
    char headers[512];
    snprintf(headers, sizeof headers,
             "ETag: %s\r\nCache-Control: %s\r\nVary: Accept-Encoding\r\n%s", etag,
             immutable ? "public, max-age=31536000, immutable" : "no-cache",
             gz ? "Content-Encoding: gzip\r\n" : "");
    if (etag_matches(http_header(r, "If-None-Match"), etag)) {
        snprintf(headers, sizeof headers,
                 "ETag: %s\r\nCache-Control: %s\r\nVary: Accept-Encoding\r\n", etag,
                 immutable ? "public, max-age=31536000, immutable" : "no-cache");
        /* A 304 carries the headers of the representation it validates (the
         * browser merges them into its cached copy): same type, same CSP. */
        return http_send(r, 304, f->content_type, NULL, 0, headers);
    }
    return http_send(r, 200, f->content_type, gz ? f->gz : f->data, gz ? f->gz_len : f->len,
                     headers);
}

static int redirect(struct req *r, const char *to)
{
    char headers[256];
    snprintf(headers, sizeof headers, "Location: %s\r\n", to);
    return http_send(r, 302, "text/plain; charset=utf-8", "", 0, headers);
}

int assets_handle(struct req *r)
{
    const char *p = r->path;
    if (strcmp(p, "/") == 0) return redirect(r, "/portal/");
    if (strcmp(p, "/portal") == 0) return redirect(r, "/portal/");
    if (strcmp(p, "/console") == 0) return redirect(r, "/console/");

    char key[HTTP_PATH_MAX + 16];
    size_t n = strlen(p);
    if (p[n - 1] == '/')
        snprintf(key, sizeof key, "%sindex.html", p + 1);
    else
        util_copy(key, sizeof key, p + 1);
    const struct embedded_file *f = assets_find(assets_ui, assets_ui_count, key);
    if (f) return serve(r, f);

    const char *entry = NULL;
    if (strncmp(p, "/portal/", 8) == 0)
        entry = "portal/index.html";
    else if (strncmp(p, "/console/", 9) == 0)
        entry = "console/index.html";
    if (entry && !has_extension(p)) {
        f = assets_find(assets_ui, assets_ui_count, entry);
        if (f) return serve(r, f);
    }
    return http_send_error(r, 404, "not_found", "no such file");
}
