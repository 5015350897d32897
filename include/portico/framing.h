/*
 * framing.h — HTTP/1.1 message framing checks made before a request is
 * routed (RFC 9112 §6): a request whose body length is ambiguous is refused
 * and its connection closed, so nothing after it can be smuggled in.
 * Threading: per-request, no shared state.
 */
#ifndef PORTICO_FRAMING_H
#define PORTICO_FRAMING_H

struct req;

/* 0 when the framing is unambiguous; else sends 400 ambiguous_framing with
 * Connection: close (Content-Length and Transfer-Encoding together) and
 * returns the status sent. */
int framing_check(struct req *r);

#endif
