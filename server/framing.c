/*
 * framing.c — refuses requests with both Content-Length and
 * Transfer-Encoding (RFC 9112 §6.1: a smuggling attempt or a broken proxy)
 * with 400 and a closed connection, rather than guessing where the next
 * request starts.
 * Threading: touches only the request's own connection.
 */
#define _GNU_SOURCE
#include "portico/framing.h"

#include <civetweb.h>
#include <string.h>
#include <strings.h>

#include "portico/http.h"

static const char AMBIGUOUS_BODY[] =
    "{\"error\":{\"code\":\"ambiguous_framing\",\"message\":\"a request must not carry both "
    "Content-Length and Transfer-Encoding\"}}";

int framing_check(struct req *r)
{
    if (!http_header(r, "Content-Length") || !http_header(r, "Transfer-Encoding")) return 0;
    /* civetweb 1.15 has no call that makes it close after this response,
     * and it would go on reading the rest as the next request. It decides
     * from the request's own Connection header, so the request is made to
     * say "close": the refused Transfer-Encoding entry becomes
     * "Connection: close", as does any Connection header. The request info
     * lives in the connection and is ours until the handler returns. */
    struct mg_request_info *ri = (struct mg_request_info *)r->ri;
    for (int i = 0; i < ri->num_headers; i++) {
        const char *name = ri->http_headers[i].name;
        if (name &&
            (strcasecmp(name, "Connection") == 0 || strcasecmp(name, "Transfer-Encoding") == 0)) {
            ri->http_headers[i].name = "Connection";
            ri->http_headers[i].value = "close";
        }
    }
    return http_send(r, 400, "application/json", AMBIGUOUS_BODY, sizeof AMBIGUOUS_BODY - 1,
                     "Connection: close\r\n");
}
