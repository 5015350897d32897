/*
 * http.c — civetweb setup, the dispatcher and the request/response helpers.
 *
 * Every request goes through dispatch(): route lookup (404/405), credential
 * resolution and permission check (401/403), CSRF, body size (413), content
 * type (415), then the handler; afterwards metrics and audit.
 *
 * Threading: civetweb worker threads run dispatch() concurrently. Shared
 * state: `cfg` (read-only after start), `ctx` (set before/after the workers
 * run), `draining` (atomic). Each worker owns a database connection in
 * thread-local storage, closed by the exit_thread hook.
 */
#define _GNU_SOURCE
#include "portico/http.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <cJSON.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "portico/assets.h"
#include "portico/audit.h"
#include "portico/auth.h"
#include "portico/config.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/framing.h"
#include "portico/gateways.h"
#include "portico/json.h"
#include "portico/log.h"
#include "portico/metrics.h"
#include "portico/util.h"

static const struct config *cfg;
static struct mg_context *ctx;
static int bound_port; /* the listening port, for http_stop */
static atomic_bool draining;

static const char CSP_HTML[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";
static const char CSP_API[] = "default-src 'none'; frame-ancestors 'none'";

const struct config *http_config(void)
{
    return cfg;
}

bool http_draining(void)
{
    return atomic_load(&draining);
}

/* ---- responses ---------------------------------------------------------- */

/* True when the connection stays open after this response, by the rule
 * civetweb applies (should_keep_alive): the client's Connection header, else
 * the HTTP/1.1 default. */
static bool client_keeps_alive(const struct req *r)
{
    const char *c = http_header(r, "Connection");
    if (c) return strcasestr(c, "keep-alive") != NULL;
    return r->ri->http_version && strcmp(r->ri->http_version, "1.1") == 0;
}

const char *http_csp(bool html)
{
    return html ? CSP_HTML : CSP_API;
}

bool http_keeps_alive(const struct req *r)
{
    return client_keeps_alive(r);
}

/* Bodies up to this size go out in the same write as the head. */
#define HTTP_COALESCE_MAX 16384

/* Sends the response head (and a small body) with one mg_write. civetweb's
 * header API (mg_response_header_*) sends every header line with its own
 * send(): a dozen syscalls and packets for a small response. Returns 0, or
 * -1 when the head could not be built (the caller falls back). */
static int send_coalesced(struct req *r, int status, const char *content_type, const void *body,
                          size_t len, const char *extra_headers, bool html)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    if (strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0) date[0] = '\0';
    bool head_only = strcmp(r->method, "HEAD") == 0;
    /* 204 and 304 have no body: no Content-Length, and a 304 sends no
     * Content-Type either (it would replace the cached one). */
    bool bodyless = status == 204 || status == 304;
    bool with_body = len > 0 && body && !head_only && !bodyless;
    struct strbuf b;
    strbuf_init(&b, 8192 + (with_body && len <= HTTP_COALESCE_MAX ? len : 0));
    strbuf_printf(&b, "HTTP/1.1 %d %s\r\n", status, mg_get_response_code_text(r->conn, status));
    if (content_type && status != 304) strbuf_printf(&b, "Content-Type: %s\r\n", content_type);
    if (!bodyless) strbuf_printf(&b, "Content-Length: %zu\r\n", len);
    strbuf_printf(&b, "X-Request-Id: %s\r\n", r->request_id);
    strbuf_puts(&b, "X-Content-Type-Options: nosniff\r\nContent-Security-Policy: ");
    strbuf_puts(&b, html ? CSP_HTML : CSP_API);
    strbuf_puts(&b, "\r\n");
    if (html) strbuf_puts(&b, "Referrer-Policy: same-origin\r\n");
    if (!extra_headers || !strcasestr(extra_headers, "Cache-Control:"))
        strbuf_puts(&b, "Cache-Control: no-store\r\n");
    if (extra_headers && *extra_headers) {
        strbuf_puts(&b, extra_headers);
        size_t n = strlen(extra_headers);
        if (n < 2 || strcmp(extra_headers + n - 2, "\r\n") != 0) strbuf_puts(&b, "\r\n");
    }
    if (date[0]) strbuf_printf(&b, "Date: %s\r\n", date);
    strbuf_printf(&b, "Connection: %s\r\n\r\n", client_keeps_alive(r) ? "keep-alive" : "close");
    if (with_body && len <= HTTP_COALESCE_MAX) {
        strbuf_append(&b, body, len);
        with_body = false;
    }
    if (b.failed) {
        strbuf_cleanup(&b);
        return -1;
    }
    mg_write(r->conn, b.data, b.len);
    if (with_body) mg_write(r->conn, body, len);
    strbuf_cleanup(&b);
    return 0;
}

int http_send(struct req *r, int status, const char *content_type, const void *body, size_t len,
              const char *extra_headers)
{
    char num[32];
    if (r->headers_sent) return r->status ? r->status : status;
    r->status = status;
    r->headers_sent = true;
    bool html = content_type && strncmp(content_type, "text/html", 9) == 0;
    /* Responses that must close the connection keep civetweb's header API,
     * which is how civetweb learns that it has to close. */
    if (!(extra_headers && strcasestr(extra_headers, "Connection:")) &&
        send_coalesced(r, status, content_type, body, len, extra_headers, html) == 0)
        return status;
    mg_response_header_start(r->conn, status);
    bool bodyless = status == 204 || status == 304; /* as in send_coalesced */
    if (content_type && status != 304)
        mg_response_header_add(r->conn, "Content-Type", content_type, -1);
    if (!bodyless) {
        snprintf(num, sizeof num, "%zu", len);
        mg_response_header_add(r->conn, "Content-Length", num, -1);
    }
    mg_response_header_add(r->conn, "X-Request-Id", r->request_id, -1);
    mg_response_header_add(r->conn, "X-Content-Type-Options", "nosniff", -1);
    mg_response_header_add(r->conn, "Content-Security-Policy", html ? CSP_HTML : CSP_API, -1);
    if (html) mg_response_header_add(r->conn, "Referrer-Policy", "same-origin", -1);
    if (!extra_headers || !strcasestr(extra_headers, "Cache-Control:"))
        mg_response_header_add(r->conn, "Cache-Control", "no-store", -1);
    if (extra_headers && *extra_headers) mg_response_header_add_lines(r->conn, extra_headers);
    mg_response_header_send(r->conn);
    if (!bodyless && len > 0 && body && strcmp(r->method, "HEAD") != 0)
        mg_write(r->conn, body, len);
    return status;
}

int http_send_json(struct req *r, int status, const cJSON *json)
{
    char *text = json_print(json);
    if (!text) return http_send_error(r, 500, "internal", "out of memory");
    int rc = http_send(r, status, "application/json", text, strlen(text), NULL);
    free(text);
    return rc;
}

int http_send_json_take(struct req *r, int status, cJSON *json)
{
    int rc = json ? http_send_json(r, status, json)
                  : http_send_error(r, 500, "internal", "out of memory");
    cJSON_Delete(json);
    return rc;
}

static int send_error_headers(struct req *r, int status, const char *code, const char *message,
                              const char *extra)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(root, "error");
    cJSON_AddStringToObject(err, "code", code);
    cJSON_AddStringToObject(err, "message", message);
    snprintf(r->error, sizeof r->error, "%s: %s", code, message);
    char *text = json_print(root);
    cJSON_Delete(root);
    static const char fallback[] =
        "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
    int rc = http_send(r, status, "application/json", text ? text : fallback,
                       text ? strlen(text) : strlen(fallback), extra);
    free(text);
    return rc;
}

int http_send_error(struct req *r, int status, const char *code, const char *fmt, ...)
{
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    if (n < 0) message[0] = '\0';
    /* Messages may echo user input: keep them valid UTF-8 for cJSON. */
    if (!util_utf8_valid(message, strlen(message)))
        util_copy(message, sizeof message, "invalid input");
    return send_error_headers(r, status, code, message, NULL);
}

int http_send_no_content(struct req *r)
{
    return http_send(r, 204, NULL, NULL, 0, NULL);
}

int http_send_db_error(struct req *r, int err)
{
    switch ((enum db_err)err) {
    case DB_ERR_UNAVAILABLE:
    case DB_ERR_BUSY:
        metrics_db_error();
        return send_error_headers(r, 503, "database_unavailable",
                                  "the database is unavailable; try again shortly",
                                  "Retry-After: 2\r\n");
    case DB_ERR_CONSTRAINT:
        return http_send_error(r, 409, "conflict", "the request conflicts with existing data");
    default:
        metrics_db_error();
        log_error("database error: %s", db_errmsg(db_thread()));
        return http_send_error(r, 500, "internal", "internal error (request %s)", r->request_id);
    }
}

int http_send_unauthorized(struct req *r, bool bad, const char *message)
{
    return send_error_headers(
        r, 401, bad ? "invalid_token" : "unauthenticated",
        message ? message : (bad ? "the credential is invalid" : "authentication required"),
        bad ? "WWW-Authenticate: Bearer realm=\"portico\", error=\"invalid_token\"\r\n"
            : "WWW-Authenticate: Bearer realm=\"portico\"\r\n");
}

int http_stream_start(struct req *r, int status, const char *content_type)
{
    if (r->headers_sent) return -1;
    r->status = status;
    r->headers_sent = true;
    mg_response_header_start(r->conn, status);
    mg_response_header_add(r->conn, "Content-Type", content_type, -1);
    mg_response_header_add(r->conn, "Cache-Control", "no-cache", -1);
    mg_response_header_add(r->conn, "X-Accel-Buffering", "no", -1);
    mg_response_header_add(r->conn, "X-Request-Id", r->request_id, -1);
    mg_response_header_add(r->conn, "X-Content-Type-Options", "nosniff", -1);
    /* Without framing civetweb would keep the connection open after the
     * handler returns and the client would wait for the keep-alive timeout. */
    r->chunked = r->ri && r->ri->http_version && strcmp(r->ri->http_version, "1.1") == 0;
    if (r->chunked)
        mg_response_header_add(r->conn, "Transfer-Encoding", "chunked", -1);
    else
        mg_response_header_add(r->conn, "Connection", "close", -1);
    return mg_response_header_send(r->conn) < 0 ? -1 : 0;
}

int http_write(struct req *r, const void *data, size_t len)
{
    if (len == 0) return 0; /* an empty chunk would end the stream */
    if (r->chunked) return mg_send_chunk(r->conn, data, (unsigned)len) > 0 ? 0 : -1;
    return mg_write(r->conn, data, len) > 0 ? 0 : -1;
}

/* ---- requests ----------------------------------------------------------- */

const char *http_header(const struct req *r, const char *name)
{
    return mg_get_header(r->conn, name);
}

int http_query_param(const struct req *r, const char *name, int nth, char *out, size_t outlen)
{
    if (!r->query) return -1;
    int n = mg_get_var2(r->query, strlen(r->query), name, out, outlen, (size_t)nth);
    if (n == -1) return -1;
    if (n < 0) return -2;
    /* An encoded NUL (%00) would silently cut the value short. */
    if (memchr(out, '\0', (size_t)n)) return -2;
    return n;
}

static int paging_value(struct req *r, const char *name, long min, long max, long def, long *out)
{
    char buf[32];
    int n = http_query_param(r, name, 0, buf, sizeof buf);
    if (n == -1) {
        *out = def;
        return 0;
    }
    long long v;
    if (n < 0 || util_parse_int(buf, min, max, &v) != 0) {
        http_send_error(r, 400, "invalid_parameter", "%s: must be an integer from %ld to %ld", name,
                        min, max);
        return -1;
    }
    *out = (long)v;
    return 0;
}

int http_paging(struct req *r, long *page, long *page_size)
{
    if (paging_value(r, "page", 1, PAGE_MAX, 1, page) != 0) return -1;
    if (paging_value(r, "page_size", 1, PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT, page_size) != 0)
        return -1;
    return 0;
}

cJSON *http_json_body(struct req *r)
{
    if (!r->body || r->body_len == 0) {
        http_send_error(r, 400, "invalid_json", "the request body must be a JSON object");
        return NULL;
    }
    if (!util_utf8_valid(r->body, r->body_len)) {
        http_send_error(r, 400, "invalid_json", "the request body must be valid UTF-8");
        return NULL;
    }
    char nul_field[JSON_ERR_MAX / 2];
    if (json_nul_field(r->body, r->body_len, nul_field, sizeof nul_field)) {
        http_send_error(r, 400, "invalid_field", "%s: must not contain NUL (\\u0000)", nul_field);
        return NULL;
    }
    cJSON *j = json_parse(r->body, r->body_len);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        http_send_error(
            r, 400, "invalid_json",
            "the request body must be a JSON object (valid JSON, at most %d levels deep)",
            HTTP_JSON_MAX_DEPTH);
        return NULL;
    }
    return j;
}

const char *http_remote_addr(const struct req *r)
{
    return r->ri->remote_addr;
}

int http_path_normalize(const char *in, char *out, size_t outlen)
{
    if (!in || in[0] != '/' || outlen < 2) return -1;
    size_t o = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/') p++;
        const char *seg = p;
        while (*p && *p != '/') {
            unsigned char c = (unsigned char)*p;
            if (c < 0x20 || c == 0x7f || c == '\\') return -1;
            p++;
        }
        size_t n = (size_t)(p - seg);
        if (n == 0) break;
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) return -1;
        if (o + 1 + n + 1 > outlen) return -1;
        out[o++] = '/';
        memcpy(out + o, seg, n);
        o += n;
    }
    size_t inlen = strlen(in);
    bool trailing = inlen > 1 && in[inlen - 1] == '/';
    if (o == 0 || trailing) {
        if (o + 2 > outlen) return -1;
        out[o++] = '/';
    }
    out[o] = '\0';
    return 0;
}

bool http_route_match(const char *pattern, const char *path, char params[][HTTP_ROUTE_PARAM_MAX],
                      int *nparams)
{
    int np = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close) return false;
            const char *end = strchr(s, '/');
            size_t n = end ? (size_t)(end - s) : strlen(s);
            if (n == 0 || n >= HTTP_ROUTE_PARAM_MAX || np >= HTTP_ROUTE_PARAMS_MAX) return false;
            memcpy(params[np], s, n);
            params[np][n] = '\0';
            np++;
            p = close + 1;
            s += n;
            continue;
        }
        if (*p != *s) return false;
        p++;
        s++;
    }
    if (*p || *s) return false;
    *nparams = np;
    return true;
}

/* ---- dispatch ----------------------------------------------------------- */

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

static int read_body(struct req *r)
{
    long long declared = r->ri->content_length;
    long max = cfg->server.max_body_bytes;
    if (declared > max) {
        return send_error_headers(r, 413, "payload_too_large",
                                  "the request body is larger than server.max_body_bytes",
                                  "Connection: close\r\n");
    }
    if (declared == 0) return 0;
    const char *te = http_header(r, "Transfer-Encoding");
    if (declared < 0 && !te) return 0;
    size_t cap = declared > 0 ? (size_t)declared : 65536;
    char *buf = malloc(cap + 1);
    if (!buf) return http_send_error(r, 500, "internal", "out of memory");
    size_t len = 0;
    for (;;) {
        if (len == cap) {
            if (declared > 0) break;
            if (cap >= (size_t)max + 1) break;
            size_t ncap = cap * 2 > (size_t)max + 1 ? (size_t)max + 1 : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                return http_send_error(r, 500, "internal", "out of memory");
            }
            buf = nb;
            cap = ncap;
        }
        int n = mg_read(r->conn, buf + len, cap - len);
        if (n <= 0) break;
        len += (size_t)n;
    }
    if (len > (size_t)max) {
        free(buf);
        return send_error_headers(r, 413, "payload_too_large",
                                  "the request body is larger than server.max_body_bytes",
                                  "Connection: close\r\n");
    }
    if (declared > 0 && len < (size_t)declared) {
        free(buf);
        return http_send_error(r, 400, "incomplete_body", "the request body ended early");
    }
    buf[len] = '\0';
    r->body = buf;
    r->body_len = len;
    return 0;
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
        if ((rc = read_body(r)) != 0) return rc;
        if ((rc = check_content_type(r)) != 0) return rc;
    }
    rc = rt->handler(r);
    if (!r->headers_sent) {
        log_error("handler %s sent no response", rt->name);
        rc = http_send_error(r, 500, "internal", "internal error (request %s)", r->request_id);
    }
    return rc ? rc : 500;
}

static int dispatch(struct mg_connection *conn)
{
    struct req r;
    memset(&r, 0, sizeof r);
    r.conn = conn;
    r.ri = mg_get_request_info(conn);
    r.start_us = util_mono_us();
    r.method = r.ri->request_method;
    r.query = r.ri->query_string;
    crypto_uuid(r.request_id);
    log_set_request_id(r.request_id);

    /* civetweb is told not to decode the path (decode_url: no): its in-place
     * decoding would cut the path at an encoded NUL ("/healthz%00x" would be
     * served as "/healthz"). Decode here; refuse NULs and invalid UTF-8
     * (overlong "%c0%ae" is not a dot, and no route or file has such a name). */
    const char *raw = r.ri->local_uri_raw ? r.ri->local_uri_raw : r.ri->local_uri;
    char decoded[HTTP_PATH_MAX];
    int dn = raw ? mg_url_decode(raw, (int)strlen(raw), decoded, (int)sizeof decoded, 0) : -1;
    int rc;
    bool api = false;
    if (dn < 0 || memchr(decoded, '\0', (size_t)dn) || !util_utf8_valid(decoded, (size_t)dn) ||
        http_path_normalize(decoded, r.path, sizeof r.path) != 0) {
        util_copy(r.path, sizeof r.path, "/");
        rc = http_send_error(&r, 400, "bad_path", "the request path is not valid");
        goto done;
    }
    api = strcmp(r.path, "/v1") == 0 || strncmp(r.path, "/v1/", 4) == 0;
    if ((rc = framing_check(&r)) != 0) goto done;

    size_t count;
    const struct route *t = routes_table(&count);
    bool path_matched = false;
    for (size_t i = 0; i < count; i++) {
        int np = 0;
        char params[HTTP_ROUTE_PARAMS_MAX][HTTP_ROUTE_PARAM_MAX];
        if (!http_route_match(t[i].pattern, r.path, params, &np)) continue;
        path_matched = true;
        /* HEAD is GET without a body (http_send drops it), except on a
         * stream, where it is 405 (and must not fall to a later {id} route). */
        bool head = strcmp(r.method, "HEAD") == 0 && strcmp(t[i].method, "GET") == 0;
        if (head && (t[i].flags & ROUTE_STREAM)) break;
        if (strcmp(t[i].method, r.method) != 0 && !head) continue;
        r.route = &t[i];
        memcpy(r.params, params, sizeof params);
        r.nparams = np;
        break;
    }
    if (r.route) {
        rc = run_route(&r);
    } else if (path_matched) {
        char allow[256];
        allow_header(r.path, allow, sizeof allow);
        rc = send_error_headers(&r, 405, "method_not_allowed",
                                "this method is not allowed on this path", allow);
    } else if (api) {
        auth_identify(&r); /* the audit record names a valid caller */
        rc = http_send_error(&r, 404, "not_found", "no such API path");
    } else if (strcmp(r.method, "GET") == 0 || strcmp(r.method, "HEAD") == 0) {
        rc = assets_handle(&r);
    } else {
        rc = send_error_headers(&r, 405, "method_not_allowed",
                                "this method is not allowed on this path", "Allow: GET, HEAD\r\n");
    }
done:
    if (!r.headers_sent) rc = http_send_error(&r, 500, "internal", "internal error");
    if (r.chunked) mg_send_chunk(conn, "", 0); /* the last chunk ends the stream */
    metrics_observe(&r);
    if (r.route && (r.route->flags & ROUTE_GATEWAY)) gateways_log_failure(&r);
    if (api && !(r.route && (r.route->flags & (ROUTE_NO_AUDIT | ROUTE_AUTH_FLOW))))
        audit_record_request(&r);
    free(r.body);
    log_set_request_id(NULL);
    return rc > 0 ? rc : 500;
}

static void on_exit_thread(const struct mg_context *c, int thread_type, void *user)
{
    (void)c, (void)thread_type, (void)user;
    db_thread_close();
}

static int on_log(const struct mg_connection *conn, const char *message)
{
    (void)conn;
    log_debug("civetweb: %s", message);
    return 1;
}

int http_start(const struct config *config)
{
    cfg = config;
    char listen[96], threads[16], timeout[16], keepalive[16], maxreq[16];
    snprintf(listen, sizeof listen, "%s:%d", cfg->listen_host, cfg->listen_port);
    snprintf(threads, sizeof threads, "%ld", cfg->server.threads);
    snprintf(timeout, sizeof timeout, "%ld", cfg->server.request_timeout_ms);
    snprintf(keepalive, sizeof keepalive, "%d", HTTP_KEEPALIVE_TIMEOUT_MS);
    snprintf(maxreq, sizeof maxreq, "%d", HTTP_HEADER_MAX_BYTES);
    const char *options[] = {
        "listening_ports",
        listen,
        "num_threads",
        threads,
        "request_timeout_ms",
        timeout,
        "enable_keep_alive",
        "yes",
        "keep_alive_timeout_ms",
        keepalive,
        "max_request_size",
        maxreq,
        "tcp_nodelay",
        "1",
        "enable_auth_domain_check",
        "no",
        "decode_url",
        "no", /* dispatch() decodes, refusing %00 */
        NULL,
    };
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.begin_request = dispatch;
    cb.exit_thread = on_exit_thread;
    cb.log_message = on_log;
    ctx = mg_start(&cb, NULL, options);
    if (!ctx) {
        log_error("cannot listen on %s (address in use or not available)", listen);
        return -1;
    }
    struct mg_server_port ports[4];
    memset(ports, 0, sizeof ports);
    int n = mg_get_server_ports(ctx, 4, ports);
    if (n < 1) {
        log_error("cannot determine the listening port");
        mg_stop(ctx);
        ctx = NULL;
        return -1;
    }
    bound_port = ports[0].port;
    return ports[0].port;
}

/* ---- stopping ----------------------------------------------------------
 * civetweb's master thread notices mg_stop only when its poll() of the
 * listening socket returns, which on an idle server is its 2 s timeout
 * (that was ~1.7 s of every SIGTERM). So mg_stop runs on a helper thread
 * while this one connects to the listening socket every few ms, waking the
 * poll; the connection is accepted and closed or refused once the socket is
 * closed. Workers still finish their in-flight requests before mg_stop
 * returns. */

static atomic_bool stop_done;

static void *stopper(void *arg)
{
    mg_stop(arg);
    atomic_store(&stop_done, true);
    return NULL;
}

/* One connect to our own listening address (a wildcard → loopback). */
static void wake_listener(void)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)bound_port);
    if (inet_pton(AF_INET, cfg->listen_host, &a.sin_addr) != 1) return;
    if (a.sin_addr.s_addr == htonl(INADDR_ANY)) a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    struct timeval tv = {.tv_sec = 0, .tv_usec = HTTP_STOP_POKE_MS * 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    (void)connect(fd, (struct sockaddr *)&a, sizeof a);
    close(fd);
}

void http_stop(void)
{
    atomic_store(&draining, true);
    if (!ctx) return;
    pthread_t t;
    atomic_store(&stop_done, false);
    if (pthread_create(&t, NULL, stopper, ctx) != 0) {
        mg_stop(ctx);
    } else {
        struct timespec pause = {0, HTTP_STOP_POKE_MS * 1000000L};
        /* Bounded: after that civetweb's own poll timeout ends the wait. */
        for (int i = 0; i < HTTP_STOP_POKES && !atomic_load(&stop_done); i++) {
            wake_listener();
            nanosleep(&pause, NULL);
        }
        pthread_join(t, NULL);
    }
    ctx = NULL;
}
