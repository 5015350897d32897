/*
 * httpclient.h — the one outbound HTTP client (libcurl): the OIDC provider
 * (discovery, keys, the token endpoint) and the demo's simulated gateways.
 * One request per call, bounded in time and size, no redirects, http(s)
 * only, the response's Date header parsed (OIDC checks clock skew with it).
 * Threading: any thread; httpclient_global_init once before threads start.
 */
#ifndef PORTICO_HTTPCLIENT_H
#define PORTICO_HTTPCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "portico/util.h"

#define HTTPCLIENT_HEADERS_MAX 4

struct httpclient_request {
    const char *url;
    const char *body;                            /* NULL: GET; else POST this */
    const char *headers[HTTPCLIENT_HEADERS_MAX]; /* "Name: value" lines; NULL ends */
    long timeout_ms;                             /* connect and whole request */
    size_t max_bytes;                            /* a longer body fails the request */
    bool (*cancelled)(void *ud);                 /* polled during the transfer; may be NULL */
    void *ud;
};

struct httpclient_response {
    long status;
    struct strbuf body;
    time_t date; /* the response's Date header, 0 when absent */
};

/* 0 or -1 (libcurl cannot start). Once, before threads. */
int httpclient_global_init(void);
void httpclient_global_cleanup(void);
/* Sends rq. 0 when a response arrived (any status; free res with
 * httpclient_response_cleanup), -1 with a reason in err (nothing to free). */
int httpclient_fetch(const struct httpclient_request *rq, struct httpclient_response *res,
                     char *err, size_t errlen);
void httpclient_response_cleanup(struct httpclient_response *res);

#endif
