/*
 * apidoc.c — GET /v1/openapi.json: Portico's own OpenAPI document.
 *
 * docs/openapi.yaml is converted to JSON at build time
 * (scripts/yaml2json.mjs) and embedded as "openapi.json" in the assets_docs
 * table, so serving it is a lookup: no parsing at run time, and the ETag is
 * the embedder's content hash. Clients revalidate (Cache-Control: no-cache)
 * and get 304 when their If-None-Match still matches.
 *
 * Threading: reads static const tables only.
 */
#include "portico/apidoc.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "portico/assets.h"
#include "portico/http.h"

static const char APIDOC_PATH[] = "openapi.json";

/* True when the If-None-Match header lists etag (exactly, or "*"). */
static bool apidoc_etag_matches(const char *inm, const char *etag)
{
    if (!inm) return false;
    size_t n = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (*p == '\0') break;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len > 0 && p[len - 1] == ' ') len--;
        if (len == 1 && p[0] == '*') return true;
        /* A weak validator W/"x" matches too (If-None-Match uses weak comparison). */
        if (len == n + 2 && strncmp(p, "W/", 2) == 0 && strncmp(p + 2, etag, n) == 0) return true;
        if (len == n && strncmp(p, etag, n) == 0) return true;
        if (!end) break;
        p = end + 1;
    }
    return false;
}

int apidoc_handle_get(struct req *r)
{
    const struct embedded_file *f = assets_find(assets_docs, assets_docs_count, APIDOC_PATH);
    if (!f) return http_send_error(r, 404, "not_found", "the OpenAPI document is not built in");
    char headers[256];
    int n = snprintf(headers, sizeof headers, "ETag: %s\r\nCache-Control: no-cache\r\n", f->etag);
    if (n < 0 || (size_t)n >= sizeof headers)
        return http_send_error(r, 500, "internal", "internal error (request %s)", r->request_id);
    if (apidoc_etag_matches(http_header(r, "If-None-Match"), f->etag))
        return http_send(r, 304, NULL, NULL, 0, headers);
    return http_send(r, 200, "application/json", f->data, f->len, headers);
}
