/*
 * cookie.h — a strict parser for the Cookie request header (RFC 6265 §5.4
 * as browsers send it): pairs split on ';', optional whitespace around each
 * pair, names compared exactly and case-sensitively. A name inside another
 * cookie's value never matches, and the same name twice with different
 * values is reported as a conflict, so a planted duplicate can never choose
 * which session a request runs as.
 * Threading: pure functions.
 */
#ifndef PORTICO_COOKIE_H
#define PORTICO_COOKIE_H

#include <stddef.h>

enum cookie_result {
    COOKIE_ABSENT = 0, /* no cookie with exactly this name */
    COOKIE_FOUND,      /* found once (or repeated with the same value): value in out */
    COOKIE_CONFLICT,   /* the name appears more than once with different values */
    COOKIE_INVALID,    /* found, but the value does not fit out or is malformed */
};

/* Looks up cookie `name` in the Cookie header value `header` (may be NULL).
 * On COOKIE_FOUND the value (without surrounding double quotes) is copied
 * into out (n bytes, NUL-terminated); otherwise out is left empty. */
enum cookie_result cookie_get(const char *header, const char *name, char *out, size_t n);

#endif
