/*
 * signin.h — browser sign-in with an API key and sign-out (server/signin.c).
 * Threading: handlers run concurrently on worker threads.
 */
#ifndef PORTICO_SIGNIN_H
#define PORTICO_SIGNIN_H

struct req;

/* POST /auth/apikey: {"api_key"} → a session cookie and the whoami body. */
int signin_handle_apikey(struct req *r);
/* POST /auth/logout: ends the session; {"end_session_url"} (null unless OIDC). */
int signin_handle_logout(struct req *r);

#endif
