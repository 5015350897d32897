/*
 * http.h — the HTTP transport: civetweb setup, the request object handlers
 * get, request and response helpers, and the route types. The pipeline that
 * serves a request is in dispatch.h, the route table in routes.h.
 *
 * Every response goes through http_send* so it carries X-Request-Id and the
 * security headers, and its status is recorded for audit and metrics.
 * Handlers return the HTTP status they sent (never 0: civetweb would fall
 * through to its own file serving).
 *
 * Threading: civetweb runs handlers on its worker threads; a struct req lives
 * on one worker's stack for one request. The route table is static const.
 */
#ifndef PORTICO_HTTP_H
#define PORTICO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portico/principal.h"
#include "portico/limits.h"

struct mg_connection;
struct mg_request_info;
struct config;
struct cJSON;
struct route;

struct req {
    struct mg_connection *conn;
    const struct mg_request_info *ri;
    const struct route *route;
    char request_id[40];
    const char *method;
    char path[HTTP_PATH_MAX]; /* decoded, normalised, without the query */
    const char *query;        /* raw query string (not decoded) or NULL */
    char params[HTTP_ROUTE_PARAMS_MAX][HTTP_ROUTE_PARAM_MAX]; /* {captures} */
    int nparams;
    char *body; /* NUL-terminated, owned by the dispatcher */
    size_t body_len;
    struct principal principal;
    int status; /* set by the response helpers */
    int64_t start_us;
    bool headers_sent;
    bool chunked;             /* a started stream framed with chunked encoding */
    bool bad_path;            /* the path could not be decoded (the pipeline sends 400) */
    bool db_error;            /* http_send_db_error answered 503/500 (counted in metrics) */
    const char *audit_action; /* auth events: "sign_in", ... (NULL = none) */
    char error[200];          /* the error sent, "code: message" (for logs) */
};

/* Route flags. */
#define ROUTE_PUBLIC 0x01      /* no credential needed (health, auth flows) */
#define ROUTE_GATEWAY 0x02     /* X-Gateway-Key instead of user credentials */
#define ROUTE_JSON 0x04        /* body must be application/json */
#define ROUTE_ANY_BODY 0x08    /* body of any declared type (import: JSON or YAML) */
#define ROUTE_NO_AUDIT 0x10    /* never audited (heartbeats, config polls) */
#define ROUTE_STREAM 0x20      /* long-lived response (SSE) */
#define ROUTE_AUTH_FLOW 0x40   /* browser sign-in flows: audited as auth events */
#define ROUTE_CSRF_EXEMPT 0x80 /* POST /auth/apikey: no session yet */

typedef int (*http_handler)(struct req *r);

struct route {
    const char *method;  /* "GET", "POST", ... */
    const char *pattern; /* "/v1/apis/{id}" */
    http_handler handler;
    unsigned perms; /* enum perm bits required */
    unsigned flags;
    const char *name; /* metrics label, e.g. "apis.get" */
};

/* Starts civetweb on cfg->server.listen; `serve` runs every request (it
 * must send a response: see http_finish). Returns the bound port, or -1. */
int http_start(const struct config *cfg, http_handler serve);
/* Stops accepting, lets running requests finish, stops workers. */
void http_stop(void);
/* True once http_stop began (readiness reports "draining"). */
bool http_draining(void);

/* Response helpers: each returns the status it sent. `extra_headers` is
 * NULL or "Name: value\r\nName2: value\r\n". */
int http_send(struct req *r, int status, const char *content_type, const void *body, size_t len,
              const char *extra_headers);
/* Serialises json (not freed) compactly and sends it. */
int http_send_json(struct req *r, int status, const struct cJSON *json);
/* Sends json and frees it. */
int http_send_json_take(struct req *r, int status, struct cJSON *json);
/* {"error":{"code":code,"message":...}} */
int http_send_error(struct req *r, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same with a fixed message and extra header lines (Allow, Retry-After). */
int http_send_error_headers(struct req *r, int status, const char *code, const char *message,
                            const char *extra_headers);
int http_send_no_content(struct req *r);
/* Maps a db_err (from db.h) to 503/409/500 with the JSON error; logs it. */
int http_send_db_error(struct req *r, int err);
/* 401 with the right WWW-Authenticate: bad = true for a present-but-invalid
 * credential. */
int http_send_unauthorized(struct req *r, bool bad, const char *message);
/* Starts a streaming response with the given headers (SSE, NDJSON); then
 * use http_write. HTTP/1.1 streams use chunked encoding (the dispatcher ends
 * them when the handler returns, so the client sees the end at once);
 * HTTP/1.0 ones end by closing. Returns 0 on success. */
int http_stream_start(struct req *r, int status, const char *content_type);
/* Writes raw bytes on a started stream; returns -1 when the client is gone. */
int http_write(struct req *r, const void *data, size_t len);
/* For heads built outside http.c (assets.c precomputes its own, with the
 * same header set http_send writes): the Content-Security-Policy value, and
 * whether the connection stays open after this response (civetweb's rule,
 * as the Connection header must say). */
const char *http_csp(bool html);
bool http_keeps_alive(const struct req *r);
/* Ends a request's response: a 500 when nothing was sent, the last chunk of
 * a chunked stream. Returns the status to report (rc, or 500 when rc <= 0
 * or nothing had been sent). */
int http_finish(struct req *r, int rc);

/* Reads the body (at most `max` bytes) into r->body. 0 to go on, or the
 * status sent (413 too large, 400 incomplete, 500 out of memory). */
int http_read_body(struct req *r, long max);

/* Request helpers. */
const char *http_header(const struct req *r, const char *name);
/* Decoded value of query parameter `name` (the nth occurrence, from 0) into
 * out. Returns the decoded length, -1 when absent, -2 when too long or
 * malformed. */
int http_query_param(const struct req *r, const char *name, int nth, char *out, size_t outlen);
/* page/page_size per the contract; on a bad value sends 400 and returns -1. */
int http_paging(struct req *r, long *page, long *page_size);
/* Parses the body as JSON; on failure sends 400 and returns NULL. The
 * caller frees the result with cJSON_Delete. */
struct cJSON *http_json_body(struct req *r);
/* The client address (for audit). */
const char *http_remote_addr(const struct req *r);

/* Normalises a decoded URL path: collapses "//", rejects "." and ".."
 * segments, NUL, backslash and control characters. 0 on success. */
int http_path_normalize(const char *in, char *out, size_t outlen);
/* Matches `path` against `pattern`, capturing {x} segments into r->params.
 * Returns true on a match. */
bool http_route_match(const char *pattern, const char *path, char params[][HTTP_ROUTE_PARAM_MAX],
                      int *nparams);

#endif
