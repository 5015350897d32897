/*
 * httpclient.c — the outbound HTTP client on libcurl (httpclient.h).
 * Threading: each call uses its own easy handle; libcurl's global state is
 * set up once by httpclient_global_init (reference-counted by libcurl).
 */
#define _GNU_SOURCE
#include "portico/httpclient.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int httpclient_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void httpclient_global_cleanup(void)
{
    curl_global_cleanup();
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct httpclient_response *res = ud;
    size_t n = size * nmemb;
    strbuf_append(&res->body, data, n);
    return res->body.failed ? 0 : n; /* 0 aborts the transfer: over the cap */
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct httpclient_response *res = ud;
    size_t n = size * nmemb;
    if (n > 5 && strncasecmp(data, "Date:", 5) == 0) {
        char line[128];
        size_t m = n - 5 < sizeof line - 1 ? n - 5 : sizeof line - 1;
        memcpy(line, data + 5, m);
        line[m] = '\0';
        util_trim(line);
        time_t t = curl_getdate(line, NULL);
        if (t > 0) res->date = t;
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const struct httpclient_request *rq = ud;
    return rq->cancelled(rq->ud) ? 1 : 0;
}

int httpclient_fetch(const struct httpclient_request *rq, struct httpclient_response *res,
                     char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    strbuf_init(&res->body, rq->max_bytes);
    CURL *c = curl_easy_init();
    struct curl_slist *headers = NULL;
    char cerr[CURL_ERROR_SIZE] = "";
    int rc = -1;
    if (!c) {
        snprintf(err, errlen, "cannot initialise libcurl");
        goto out;
    }
    for (size_t i = 0; i < HTTPCLIENT_HEADERS_MAX && rq->headers[i]; i++)
        headers = curl_slist_append(headers, rq->headers[i]);
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "portico");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, res);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, res);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)rq->max_bytes);
    if (rq->cancelled) {
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)rq);
    }
    if (rq->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(rq->body));
    }
    CURLcode cc = curl_easy_perform(c);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "%.300s: %s", rq->url, cerr[0] ? cerr : curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &res->status);
    rc = 0;
out:
    if (rc != 0) strbuf_cleanup(&res->body);
    curl_slist_free_all(headers);
    if (c) curl_easy_cleanup(c);
    return rc;
}

void httpclient_response_cleanup(struct httpclient_response *res)
{
    if (res) strbuf_cleanup(&res->body);
}
