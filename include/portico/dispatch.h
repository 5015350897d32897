/*
 * dispatch.h — the request pipeline (route → auth → rbac → CSRF → body →
 * content type → handler → metrics → audit). http_start is given
 * dispatch_request as the function that serves each request.
 * Threading: runs on civetweb worker threads, one request each.
 */
#ifndef PORTICO_DISPATCH_H
#define PORTICO_DISPATCH_H

struct req;

/* Serves one request whose transport fields http.c filled in; returns the
 * status sent. */
int dispatch_request(struct req *r);

#endif
