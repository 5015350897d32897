/*
 * dispatch.c — the request pipeline, in one fixed order:
 * route lookup (404/405, or the embedded UI) → credential (401) →
 * permission (403) → CSRF and Origin → body size (413) → content type (415)
 * → handler; afterwards metrics and the audit record.
 *
 * http.c owns the transport (civetweb, the request object, response
 * helpers) and calls dispatch_request for each request; this file is the
 * only place that knows the order of the checks.
 *
 * Threading: civetweb worker threads run dispatch_request concurrently.
 * Shared state: the route table (static const) and the active
 * configuration (read-only).
 */
#define _GNU_SOURCE
#include "portico/dispatch.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portico/assets.h"
#include "portico/audit.h"
#include "portico/auth.h"
#include "portico/config.h"
#include "portico/framing.h"
#include "portico/gateways.h"
#include "portico/http.h"
#include "portico/log.h"
#include "portico/metrics.h"
#include "portico/rbac.h"
#include "portico/routes.h"
#include "portico/util.h"

static bool is_unsafe(const char *m)
{
    return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

static bool media_is(const char *ct, const char *type)
{
    size_t n = strlen(type);
    if (strncasecmp(ct, type, n) != 0) return false;
    return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static int check_content_type(struct req *r)
{
    const char *ct = http_header(r, "Content-Type");
    unsigned flags = r->route->flags;
    if (!(flags & (ROUTE_JSON | ROUTE_ANY_BODY))) return 0;
    if (r->body_len == 0 && !ct) return 0; /* handler reports the missing body */
    if (!ct)
        return http_send_error(r, 415, "unsupported_media_type",
                               "Content-Type is required: application/json");
    if (media_is(ct, "application/json")) return 0;
    if ((flags & ROUTE_ANY_BODY) &&
        (media_is(ct, "application/yaml") || media_is(ct, "application/x-yaml") ||
         media_is(ct, "text/yaml") || media_is(ct, "text/x-yaml") ||
         media_is(ct, "application/vnd.oai.openapi") ||
         media_is(ct, "application/vnd.oai.openapi+json")))
        return 0;
    return http_send_error(r, 415, "unsupported_media_type", "Content-Type must be %s",
                           (flags & ROUTE_ANY_BODY) ? "application/json or application/yaml"
                                                    : "application/json");
}

static void allow_header(const char *path, char *out, size_t n)
{
    size_t count;
    const struct route *t = routes_table(&count);
    char params[HTTP_ROUTE_PARAMS_MAX][HTTP_ROUTE_PARAM_MAX];
    int np;
    out[0] = '\0';
    struct strbuf b;
    strbuf_init(&b, 256);
    strbuf_puts(&b, "Allow: ");
    bool first = true;
    for (size_t i = 0; i < count; i++) {
        if (!http_route_match(t[i].pattern, path, params, &np)) continue;
        if (strstr(b.data ? b.data : "", t[i].method)) continue;
        if (!first) strbuf_puts(&b, ", ");
        strbuf_puts(&b, t[i].method);
        first = false;
    }
    strbuf_puts(&b, "\r\n");
    char *s = strbuf_take(&b);
    if (s) util_copy(out, n, s);
    free(s);
}

/* Credential, permission, CSRF, body and content type, then the handler. */
static int run_route(struct req *r)
{
    const struct route *rt = r->route;
    int rc;
    if (rt->flags & ROUTE_GATEWAY) {
        if ((rc = auth_gateway(r)) != 0) return rc;
    } else if (!(rt->flags & ROUTE_PUBLIC)) {
        if ((rc = auth_resolve(r)) != 0) return rc;
        if (r->principal.type == AUTH_NONE) return http_send_unauthorized(r, false, NULL);
        if (!rbac_allows(r->principal.role, rt->perms)) {
            if (r->principal.type == AUTH_ANONYMOUS) return http_send_unauthorized(r, false, NULL);
            return http_send_error(r, 403, "forbidden", "your role (%s) may not do this",
                                   rbac_role_name(r->principal.role));
        }
    }
    if (is_unsafe(r->method)) {
        if ((rc = auth_check_csrf(r)) != 0) return rc;
        if ((rc = http_read_body(r, config_active()->server.max_body_bytes)) != 0) return rc;
        if ((rc = check_content_type(r)) != 0) return rc;
    }
    rc = rt->handler(r);
    if (!r->headers_sent) {
        log_error("handler %s sent no response", rt->name);
        rc = http_send_error(r, 500, "internal", "internal error (request %s)", r->request_id);
    }
    return rc ? rc : 500;
}

/* Finds the route for r->path and r->method; sets r->route and the
 * captures. Returns true when some route has this path (for 405). */
static bool find_route(struct req *r)
{
    size_t count;
    const struct route *t = routes_table(&count);
    bool path_matched = false;
    for (size_t i = 0; i < count; i++) {
        int np = 0;
        char params[HTTP_ROUTE_PARAMS_MAX][HTTP_ROUTE_PARAM_MAX];
        if (!http_route_match(t[i].pattern, r->path, params, &np)) continue;
        path_matched = true;
        /* HEAD is GET without a body (http_send drops it), except on a
         * stream, where it is 405 (and must not fall to a later {id} route). */
        bool head = strcmp(r->method, "HEAD") == 0 && strcmp(t[i].method, "GET") == 0;
        if (head && (t[i].flags & ROUTE_STREAM)) break;
        if (strcmp(t[i].method, r->method) != 0 && !head) continue;
        r->route = &t[i];
        memcpy(r->params, params, sizeof params);
        r->nparams = np;
        break;
    }
    return path_matched;
}

int dispatch_request(struct req *r)
{
    int rc;
    bool api = false;
    if (r->bad_path) {
        rc = http_send_error(r, 400, "bad_path", "the request path is not valid");
        goto done;
    }
    api = strcmp(r->path, "/v1") == 0 || strncmp(r->path, "/v1/", 4) == 0;
    if ((rc = framing_check(r)) != 0) goto done;
    bool path_matched = find_route(r);
    if (r->route) {
        rc = run_route(r);
    } else if (path_matched) {
        char allow[256];
        allow_header(r->path, allow, sizeof allow);
        rc = http_send_error_headers(r, 405, "method_not_allowed",
                                     "this method is not allowed on this path", allow);
    } else if (api) {
        auth_identify(r); /* the audit record names a valid caller */
        rc = http_send_error(r, 404, "not_found", "no such API path");
    } else if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0) {
        rc = assets_handle(r);
    } else {
        rc = http_send_error_headers(r, 405, "method_not_allowed",
                                     "this method is not allowed on this path",
                                     "Allow: GET, HEAD\r\n");
    }
done:
    rc = http_finish(r, rc);
    metrics_observe(r);
    if (r->db_error) metrics_db_error();
    if (r->route && (r->route->flags & ROUTE_GATEWAY)) gateways_log_failure(r);
    if (api && !(r->route && (r->route->flags & (ROUTE_NO_AUDIT | ROUTE_AUTH_FLOW))))
        audit_record_request(r);
    return rc;
}
