/*
 * session.h — server-side sessions: the cookie holds a random 256-bit token,
 * the database holds only HMAC(session.cookie_secret, token). Also the
 * browser flows POST /auth/apikey and POST /auth/logout.
 * Threading: stateless apart from the read-only config; uses db_thread().
 */
#ifndef PORTICO_SESSION_H
#define PORTICO_SESSION_H

#include <stdbool.h>
#include <stddef.h>

struct principal;
struct req;

/* "__Host-portico_session" when cookies are Secure, else "portico_session". */
const char *session_cookie_name(void);
/* Creates a session row for principal p (its csrf_token is filled in) and
 * writes the Set-Cookie header line into set_cookie ("Set-Cookie: ...\r\n").
 * id_token may be NULL. Returns a db_err (0 = ok). */
int session_create(struct principal *p, const char *id_token, char *set_cookie, size_t n);
/* Looks up the session for a cookie token. 0 = found (p filled), 1 = not
 * found / expired, or a negative db error. */
int session_lookup(const char *token, struct principal *p);
/* The Set-Cookie line that clears the session cookie. */
void session_clear_cookie(char *out, size_t n);
/* Deletes expired sessions; returns rows deleted or -1. */
long session_purge_expired(void);

int session_handle_apikey_login(struct req *r);
int session_handle_logout(struct req *r);

#endif
