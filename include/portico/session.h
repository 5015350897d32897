/*
 * session.h — server-side sessions: the cookie holds a random 256-bit token,
 * the database holds only HMAC(session.cookie_secret, token). The browser
 * flows that make and end sessions are in signin.h and oidc.h.
 * Threading: stateless apart from the read-only config; uses db_thread().
 */
#ifndef PORTICO_SESSION_H
#define PORTICO_SESSION_H

#include <stdbool.h>
#include <stddef.h>

struct principal;
struct req;

/* Room for a Set-Cookie line, and for an OIDC end-session URL. */
#define SESSION_SET_COOKIE_MAX 256
#define SESSION_END_URL_MAX 4096

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

/* Deletes the session a request's Cookie header names, if any (signing in
 * again replaces it rather than leaving it behind). */
void session_drop_by_cookie(const char *cookie_header);
/* Deletes the session keyed by session_hash; *id_token gets its OIDC ID
 * token (malloc'd, caller frees; NULL when none). Returns a db_err. */
int session_end(const char *session_hash, char **id_token);

#endif
