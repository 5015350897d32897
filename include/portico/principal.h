/*
 * principal.h — who is calling: the credential type and the principal a
 * request carries (struct req embeds one). Types only, plus their names, so
 * the transport (http.h), the pipeline and the modules that record who did
 * what (audit) share them without depending on the auth module itself.
 * Threading: plain values; a principal belongs to one request.
 */
#ifndef PORTICO_PRINCIPAL_H
#define PORTICO_PRINCIPAL_H

#include <stdbool.h>
#include <stddef.h>

#include "portico/rbac.h"

enum auth_type {
    AUTH_NONE = 0,
    AUTH_ANONYMOUS,
    AUTH_SESSION,
    AUTH_API_KEY,
    AUTH_JWT,
    AUTH_GATEWAY
};

/* Who is calling. Filled by auth_resolve (or the gateway key check). */
struct principal {
    enum auth_type type;
    enum role role;
    char subject[256]; /* "apikey:<name>", the token's sub, "anonymous", "gateway:<name>" */
    char name[256];
    char email[256];
    char tenant_id[64];
    char csrf_token[72];      /* sessions only */
    char session_hash[72];    /* sessions only: the HMAC the sessions table is keyed by */
    char key_id[40];          /* database API keys: the key's id */
    char file_key_sha256[72]; /* keys-file keys: the key's SHA-256 (hex) */
    bool file_key;            /* an API key (or a session from one) from auth.keys_file */
};

/* "session", "api_key", "jwt", "gateway", "anonymous" or "none"; static text. */
const char *principal_type_name(enum auth_type t);

/* The principal as the audit log names it: the subject, and for an API key
 * (or a session made from one) also the key's id: "apikey:<name> [<uuid>]",
 * or "apikey:<name> [keys-file]" for a key from auth.keys_file. The id has a
 * fixed form at the end, so no key name can spell another key's principal. */
void principal_audit_name(const struct principal *p, char *out, size_t n);

#endif
