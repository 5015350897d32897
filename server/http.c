/*
 * http.c — the transport: civetweb setup, the request object, and the
 * request and response helpers. It knows no application module: each
 * request is handed to the pipeline function given to http_start
 * (dispatch_request, server/dispatch.c).
 *
 * Every response head is written by one function (put_head), so every
 * response, streams included, carries X-Request-Id and the security headers.
 *
 * Threading: civetweb worker threads serve requests concurrently. Shared
 * state: `pipeline` and `ctx` (set before/after the workers run),
 * `draining` (atomic). Each worker owns a database connection in
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

#include "portico/config.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/json.h"
#include "portico/log.h"
#include "portico/util.h"

static http_handler pipeline;
static struct mg_context *ctx;
static int bound_port;      /* the listening port, for http_stop */
static char bound_host[64]; /* the listening address, for http_stop */
static atomic_bool draining;

static const char CSP_HTML[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";
static const char CSP_API[] = "default-src 'none'; frame-ancestors 'none'";

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

/* Where put_head writes: a buffer sent with one mg_write, or civetweb's
 * header API (which sends each line with its own send(), but is how
 * civetweb learns that a response must close the connection). */
struct resp_head {
    struct mg_connection *conn;
    struct strbuf *b; /* NULL: civetweb's header API */
};

static void head_add(struct resp_head *h, const char *name, const char *value)
{
    if (h->b)
        strbuf_printf(h->b, "%s: %s\r\n", name, value);
    else
        mg_response_header_add(h->conn, name, value, -1);
}

/* The one response-head writer: content headers, X-Request-Id, the
 * security headers and Cache-Control (no-store unless extra_headers sets
 * one), then extra_headers. len < 0: no Content-Length (streams). 204 and
 * 304 have no body: no Content-Length, and a 304 sends no Content-Type
 * either (it would replace the cached one). */
static void put_head(struct resp_head *h, const struct req *r, int status, const char *content_type,
                     long long len, const char *extra_headers)
{
    char num[32];
    bool html = content_type && strncmp(content_type, "text/html", 9) == 0;
    bool bodyless = status == 204 || status == 304;
    if (content_type && status != 304) head_add(h, "Content-Type", content_type);
    if (!bodyless && len >= 0) {
        snprintf(num, sizeof num, "%lld", len);
        head_add(h, "Content-Length", num);
    }
    head_add(h, "X-Request-Id", r->request_id);
    head_add(h, "X-Content-Type-Options", "nosniff");
    head_add(h, "Content-Security-Policy", html ? CSP_HTML : CSP_API);
    if (html) head_add(h, "Referrer-Policy", "same-origin");
    if (!extra_headers || !strcasestr(extra_headers, "Cache-Control:"))
        head_add(h, "Cache-Control", "no-store");
    if (!extra_headers || !*extra_headers) return;
    if (!h->b) {
        mg_response_header_add_lines(h->conn, extra_headers);
        return;
    }
    strbuf_puts(h->b, extra_headers);
    size_t n = strlen(extra_headers);
    if (n < 2 || strcmp(extra_headers + n - 2, "\r\n") != 0) strbuf_puts(h->b, "\r\n");
}

/* Sends the head (and a small body) with one mg_write: civetweb's header
 * API would cost a dozen syscalls and packets for a small response.
 * Returns 0, or -1 when the head could not be built (the caller falls back). */
static int send_coalesced(struct req *r, int status, const char *content_type, const void *body,
                          size_t len, const char *extra_headers)
{
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    if (strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0) date[0] = '\0';
    bool head_only = strcmp(r->method, "HEAD") == 0;
    bool bodyless = status == 204 || status == 304;
    bool with_body = len > 0 && body && !head_only && !bodyless;
    struct strbuf b;
    strbuf_init(&b, 8192 + (with_body && len <= HTTP_COALESCE_MAX ? len : 0));
    strbuf_printf(&b, "HTTP/1.1 %d %s\r\n", status, mg_get_response_code_text(r->conn, status));
    struct resp_head h = {r->conn, &b};
    put_head(&h, r, status, content_type, (long long)len, extra_headers);
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
    if (r->headers_sent) return r->status ? r->status : status;
    r->status = status;
    r->headers_sent = true;
    /* Responses that must close the connection keep civetweb's header API,
     * which is how civetweb learns that it has to close. */
    if (!(extra_headers && strcasestr(extra_headers, "Connection:")) &&
        send_coalesced(r, status, content_type, body, len, extra_headers) == 0)
        return status;
    mg_response_header_start(r->conn, status);
    struct resp_head h = {r->conn, NULL};
    put_head(&h, r, status, content_type, (long long)len, extra_headers);
    mg_response_header_send(r->conn);
    bool bodyless = status == 204 || status == 304;
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

int http_send_error_headers(struct req *r, int status, const char *code, const char *message,
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
    return http_send_error_headers(r, status, code, message, NULL);
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
        r->db_error = true;
        return http_send_error_headers(r, 503, "database_unavailable",
                                       "the database is unavailable; try again shortly",
                                       "Retry-After: 2\r\n");
    case DB_ERR_CONSTRAINT:
        return http_send_error(r, 409, "conflict", "the request conflicts with existing data");
    default:
        r->db_error = true;
        log_error("database error: %s", db_errmsg(db_thread()));
        return http_send_error(r, 500, "internal", "internal error (request %s)", r->request_id);
    }
}

int http_send_unauthorized(struct req *r, bool bad, const char *message)
{
    return http_send_error_headers(
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
    /* Without framing civetweb would keep the connection open after the
     * handler returns and the client would wait for the keep-alive timeout. */
    r->chunked = r->ri && r->ri->http_version && strcmp(r->ri->http_version, "1.1") == 0;
    mg_response_header_start(r->conn, status);
    struct resp_head h = {r->conn, NULL};
    put_head(&h, r, status, content_type, -1,
             r->chunked ? "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"
                          "Transfer-Encoding: chunked\r\n"
                        : "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n"
                          "Connection: close\r\n");
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

/* ---- bodies ------------------------------------------------------------- */

int http_read_body(struct req *r, long max)
{
    long long declared = r->ri->content_length;
    if (declared > max) {
        return http_send_error_headers(r, 413, "payload_too_large",
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
        return http_send_error_headers(r, 413, "payload_too_large",
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

/* ---- serving ------------------------------------------------------------ */

int http_finish(struct req *r, int rc)
{
    if (!r->headers_sent) rc = http_send_error(r, 500, "internal", "internal error");
    if (r->chunked) mg_send_chunk(r->conn, "", 0); /* the last chunk ends the stream */
    return rc > 0 ? rc : 500;
}

/* Fills the transport fields of r: request id, method, query, and the
 * decoded, normalised path (bad_path when it cannot be served). */
static void req_init(struct req *r, struct mg_connection *conn)
{
    memset(r, 0, sizeof *r);
    r->conn = conn;
    r->ri = mg_get_request_info(conn);
    r->start_us = util_mono_us();
    r->method = r->ri->request_method;
    r->query = r->ri->query_string;
    crypto_uuid(r->request_id);
    /* civetweb is told not to decode the path (decode_url: no): its in-place
     * decoding would cut the path at an encoded NUL ("/healthz%00x" would be
     * served as "/healthz"). Decode here; refuse NULs and invalid UTF-8
     * (overlong "%c0%ae" is not a dot, and no route or file has such a name). */
    const char *raw = r->ri->local_uri_raw ? r->ri->local_uri_raw : r->ri->local_uri;
    char decoded[HTTP_PATH_MAX];
    int dn = raw ? mg_url_decode(raw, (int)strlen(raw), decoded, (int)sizeof decoded, 0) : -1;
    if (dn < 0 || memchr(decoded, '\0', (size_t)dn) || !util_utf8_valid(decoded, (size_t)dn) ||
        http_path_normalize(decoded, r->path, sizeof r->path) != 0) {
        util_copy(r->path, sizeof r->path, "/");
        r->bad_path = true;
    }
}

static int on_begin_request(struct mg_connection *conn)
{
    struct req r;
    req_init(&r, conn);
    log_set_request_id(r.request_id);
    int rc = pipeline(&r);
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

int http_start(const struct config *cfg, http_handler serve)
{
    pipeline = serve;
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
        "no", /* req_init decodes, refusing %00 */
        NULL,
    };
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.begin_request = on_begin_request;
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
    util_copy(bound_host, sizeof bound_host, cfg->listen_host);
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
    if (inet_pton(AF_INET, bound_host, &a.sin_addr) != 1) return;
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
