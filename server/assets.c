/*
 * assets.c — serves the embedded web UI: / → /portal/, the two entries with
 * deep-link fallback to their index.html, hashed assets as immutable, ETag
 * and 304, precompressed gzip when the client accepts it.
 *
 * Fast path: the response heads of every UI file are built once, per
 * encoding and for 200 and 304 (status line, type, length, security
 * headers, ETag, caching, Vary, encoding: the header set http_send writes).
 * A request appends its three changing lines (X-Request-Id, Date,
 * Connection) and the body in a per-thread buffer and sends it all with one
 * mg_write: one send() and no allocation per request (two writes only for
 * bodies above ASSETS_ONE_WRITE_MAX). Measured with callgrind and strace:
 * bench/results/assets.md.
 *
 * Threading: read-only static tables; the heads are built once
 * (pthread_once) and then only read; the send buffer and the Date line are
 * per thread.
 */
#define _GNU_SOURCE
#include "portico/assets.h"

#include <civetweb.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "portico/http.h"
#include "portico/limits.h"
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

/* ---- fast path ----------------------------------------------------------- */

struct head {
    char *text; /* up to the per-request lines; NULL when not built */
    size_t len;
};

/* Per UI file: [encoding 0 identity, 1 gzip][0 = 200, 1 = 304]. */
struct prebuilt {
    struct head h[2][2];
    char etag[2][64];
};

static struct prebuilt *pre;
static pthread_once_t pre_once = PTHREAD_ONCE_INIT;
static pthread_key_t buf_key;
static bool buf_key_ok;

struct sendbuf {
    size_t cap;
    char data[];
};

static char *head_build(const struct embedded_file *f, bool gz, bool not_modified, const char *etag,
                        size_t *len)
{
    bool html = strncmp(f->content_type, "text/html", 9) == 0;
    bool immutable = strncmp(f->path, "assets/", 7) == 0;
    struct strbuf b;
    strbuf_init(&b, 1024);
    if (not_modified) {
        strbuf_puts(&b, "HTTP/1.1 304 Not Modified\r\n");
    } else {
        strbuf_printf(&b, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %zu\r\n",
                      f->content_type, gz ? f->gz_len : f->len);
    }
    strbuf_printf(&b, "X-Content-Type-Options: nosniff\r\nContent-Security-Policy: %s\r\n",
                  http_csp(html));
    if (html) strbuf_puts(&b, "Referrer-Policy: same-origin\r\n");
    strbuf_printf(&b, "ETag: %s\r\nCache-Control: %s\r\nVary: Accept-Encoding\r\n", etag,
                  immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (gz && !not_modified) strbuf_puts(&b, "Content-Encoding: gzip\r\n");
    if (b.failed) {
        strbuf_cleanup(&b);
        return NULL;
    }
    *len = b.len;
    return strbuf_take(&b);
}

static void buf_free(void *p)
{
    free(p);
}

static void pre_build(void)
{
    buf_key_ok = pthread_key_create(&buf_key, buf_free) == 0;
    pre = calloc(assets_ui_count ? assets_ui_count : 1, sizeof *pre);
    if (!pre) return;
    for (size_t i = 0; i < assets_ui_count; i++) {
        const struct embedded_file *f = &assets_ui[i];
        struct prebuilt *p = &pre[i];
        size_t el = strlen(f->etag);
        util_copy(p->etag[0], sizeof p->etag[0], f->etag);
        if (el >= 2 && el + 4 < sizeof p->etag[1]) {
            /* A distinct strong validator for the gzip representation. */
            memcpy(p->etag[1], f->etag, el - 1);
            memcpy(p->etag[1] + el - 1, "-gz\"", 5);
        } else {
            util_copy(p->etag[1], sizeof p->etag[1], f->etag);
        }
        for (int gz = 0; gz < (f->gz ? 2 : 1); gz++)
            for (int nm = 0; nm < 2; nm++)
                p->h[gz][nm].text = head_build(f, gz, nm, p->etag[gz], &p->h[gz][nm].len);
    }
}

/* "Date: <IMF-fixdate>\r\n", formatted once per second per thread. */
static const char *date_line(size_t *len)
{
    static _Thread_local time_t at = -1;
    static _Thread_local char line[64];
    static _Thread_local size_t n;
    time_t now = time(NULL);
    if (now != at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        n = strftime(line, sizeof line, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
        at = n ? now : -1;
    }
    *len = n;
    return line;
}

/* This thread's send buffer with room for need bytes; NULL when it cannot
 * have it (then the caller writes in two parts). */
static char *thread_buf(size_t need)
{
    if (!buf_key_ok || need > ASSETS_ONE_WRITE_MAX) return NULL;
    struct sendbuf *b = pthread_getspecific(buf_key);
    if (b && b->cap >= need) return b->data;
    size_t cap = need < 16384 ? 16384 : need + need / 4;
    if (cap > ASSETS_ONE_WRITE_MAX) cap = ASSETS_ONE_WRITE_MAX;
    struct sendbuf *nb = realloc(b, sizeof *nb + cap);
    if (!nb) return NULL;
    nb->cap = cap;
    if (pthread_setspecific(buf_key, nb) != 0) {
        free(nb);
        return NULL;
    }
    return nb->data;
}

#define APPEND(p, s, n)                                                                            \
    do {                                                                                           \
        memcpy(p, s, n);                                                                           \
        (p) += (n);                                                                                \
    } while (0)

/* Sends f with its prebuilt head; -1 when there is none (the caller then
 * takes the general path). */
static int serve_fast(struct req *r, const struct embedded_file *f)
{
    pthread_once(&pre_once, pre_build);
    if (!pre || f < assets_ui || f >= assets_ui + assets_ui_count) return -1;
    const struct prebuilt *p = &pre[f - assets_ui];
    int gz = f->gz && accepts_gzip(http_header(r, "Accept-Encoding")) ? 1 : 0;
    int nm = etag_matches(http_header(r, "If-None-Match"), p->etag[gz]) ? 1 : 0;
    const struct head *h = &p->h[gz][nm];
    if (!h->text) return -1;
    static const char rid[] = "X-Request-Id: ", ka[] = "Connection: keep-alive\r\n\r\n",
                      cl[] = "Connection: close\r\n\r\n";
    bool keep = http_keeps_alive(r);
    size_t dl, idl = strlen(r->request_id);
    const char *date = date_line(&dl);
    const void *body = gz ? f->gz : f->data;
    size_t blen = nm || strcmp(r->method, "HEAD") == 0 ? 0 : gz ? f->gz_len : f->len;
    size_t hlen = h->len + sizeof rid - 1 + idl + 2 + dl + (keep ? sizeof ka : sizeof cl) - 1;
    char *buf = thread_buf(hlen + blen);
    char head[1024];
    bool split = !buf;
    if (split) {
        if (hlen > sizeof head) return -1;
        buf = head;
    }
    r->status = nm ? 304 : 200;
    r->headers_sent = true;
    char *w = buf;
    APPEND(w, h->text, h->len);
    APPEND(w, rid, sizeof rid - 1);
    APPEND(w, r->request_id, idl);
    APPEND(w, "\r\n", 2);
    APPEND(w, date, dl);
    if (keep)
        APPEND(w, ka, sizeof ka - 1);
    else
        APPEND(w, cl, sizeof cl - 1);
    if (!split && blen) APPEND(w, body, blen);
    mg_write(r->conn, buf, (size_t)(w - buf));
    if (split && blen) mg_write(r->conn, body, blen);
    return r->status;
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
    int rc;
    if (f) return (rc = serve_fast(r, f)) > 0 ? rc : serve(r, f);

    const char *entry = NULL;
    if (strncmp(p, "/portal/", 8) == 0)
        entry = "portal/index.html";
    else if (strncmp(p, "/console/", 9) == 0)
        entry = "console/index.html";
    if (entry && !has_extension(p)) {
        f = assets_find(assets_ui, assets_ui_count, entry);
        if (f) return (rc = serve_fast(r, f)) > 0 ? rc : serve(r, f);
    }
    return http_send_error(r, 404, "not_found", "no such file");
}
