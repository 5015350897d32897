/*
 * auth.h — principal resolution in one place: session cookie, then
 * X-API-Key, then Authorization: Bearer (JWT via oidc, else an API key).
 * A credential that is present but bad is never downgraded to anonymous and
 * no later credential is tried. Also the gateway key check and CSRF.
 * Threading: read-only shared state (config, keys file table) after init.
 */
#ifndef PORTICO_AUTH_H
#define PORTICO_AUTH_H

#include <stdbool.h>

#include "portico/principal.h"

struct config;
struct req;
struct cJSON;

/* Loads auth.keys_file. 0 on success, -1 with messages on stderr. */
int auth_init(void);
void auth_cleanup(void);

/* Fills r->principal. Returns 0 when the request may go on (authenticated,
 * or anonymous when allowed, or no credential: type AUTH_NONE), or the status
 * it already sent (401 for a bad credential). */
int auth_resolve(struct req *r);
/* Re-checks, without sending anything, that the credential r->principal was
 * resolved from still stands: the session still exists and is current, the
 * API key is not revoked or expired (nor gone from the keys file), the JWT
 * has not expired; and that it still grants r->route's permissions in the
 * same tenant. Long-lived responses (event streams) call it periodically. */
bool auth_still_valid(struct req *r);
/* Fills r->principal from the request's credential when it is valid,
 * without sending anything (r->principal is untouched otherwise): the audit
 * record of a request answered before authentication (404 for an unknown
 * path) then names its caller. */
void auth_identify(struct req *r);
/* X-Gateway-Key check for gateway routes: 0 to go on, or the status sent
 * (503 none configured, 401 missing or wrong). */
int auth_gateway(struct req *r);
/* Gateway ownership: the number of configured gateway keys; the digest
 * stored for the key that owns a gateway (hex, AUTH_GATEWAY_DIGEST_LEN); and
 * whether a stored digest is still one of a configured key (false = that key
 * was rotated out). */
#define AUTH_GATEWAY_DIGEST_LEN 64
int auth_gateway_key_count(void);
void auth_gateway_key_digest(const char *key, char out[AUTH_GATEWAY_DIGEST_LEN + 1]);
bool auth_gateway_digest_configured(const char *digest);
/* CSRF and Origin rules for unsafe methods; 0 to go on or the status sent. */
int auth_check_csrf(struct req *r);
/* True when the request's Origin header is absent or equals the public origin. */
bool auth_origin_ok(struct req *r);

/* GET /v1/auth/config and GET /v1/whoami. */
int auth_handle_config(struct req *r);
int auth_handle_whoami(struct req *r);
/* The whoami body for r->principal; caller frees with cJSON_Delete. */
struct cJSON *auth_whoami_json(const struct req *r);

#endif
