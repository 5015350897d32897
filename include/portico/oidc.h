/*
 * oidc.h — OpenID Connect: discovery and JWKS (libcurl, cached, refreshed),
 * the authorization code flow with PKCE (GET /auth/login, GET /auth/callback),
 * Bearer JWT verification for /v1, and the end-session URL for logout.
 * Threading: the provider metadata and key set are shared under a rwlock and
 * refreshed by whichever thread finds them stale.
 */
#ifndef PORTICO_OIDC_H
#define PORTICO_OIDC_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct principal;
struct req;

/* Prepares OIDC when oidc.issuer is set; never fails because the provider is
 * down (discovery is retried). -1 only for bad configuration. */
int oidc_init(const struct config *cfg);
void oidc_cleanup(void);
bool oidc_enabled(void);
/* True when discovery has succeeded (readiness). Triggers a retry when not. */
bool oidc_ready(void);
/* Verifies a Bearer JWT for /v1. 0 = valid (p filled, type AUTH_JWT),
 * 1 = not a JWT (caller tries it as an API key), -1 = invalid JWT (also an
 * ID token, and every JWT when oidc.audience is unset), 2 = a valid token
 * that maps to no Portico role (403, not 401). */
int oidc_verify_bearer(const char *token, struct principal *p);
/* The provider's end_session URL with id_token_hint and
 * post_logout_redirect_uri, or "" when it has none. */
void oidc_end_session_url(const char *id_token, char *out, size_t n);
/* `portico oidc check`: prints diagnostics; returns the exit code. */
int oidc_check_cli(const struct config *cfg);

int oidc_handle_login(struct req *r);
int oidc_handle_callback(struct req *r);

#endif
