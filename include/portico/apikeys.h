/*
 * apikeys.h — API keys: from auth.keys_file (read-only, loaded at start) and
 * from the database (pk_<8-char id>_<secret>, stored as SHA-256, with expiry,
 * last use and revocation). GET|POST /v1/apikeys, DELETE /v1/apikeys/{id}.
 * Threading: the file table is read-only after apikeys_load_file; database
 * access through db_thread().
 */
#ifndef PORTICO_APIKEYS_H
#define PORTICO_APIKEYS_H

#include <stdbool.h>
#include <stdio.h>

#include "portico/crypto.h"

#define APIKEYS_KEY_MAX 128   /* bytes of a formatted key with its NUL */
#define APIKEYS_PREFIX_MAX 16 /* "<tag>_<8-char id>" with its NUL */

struct config;
struct principal;
struct req;

/* Loads auth.keys_file (empty path: none). 0 ok, -1 with problems on err. */
int apikeys_load_file(const char *path, FILE *err);
void apikeys_free_file(void);
/* Resolves a presented key. 0 = valid (p filled: type AUTH_API_KEY, subject
 * "apikey:<name>", role, tenant), 1 = unknown/expired/revoked, negative =
 * database error (db_err negated). Compares in constant time. */
int apikeys_lookup(const char *key, struct principal *p);
/* apikeys_create: an active key of the tenant (or a keys-file key of that
 * tenant) already has the name. */
#define APIKEYS_NAME_TAKEN (-2)
/* Mints a random key "<tag>_<8-char id>_<base64url 256-bit secret>" (tag:
 * 1..4 characters, "pk" for API keys, "sk" for subscription keys) with its
 * visible prefix "<tag>_<id>" and its SHA-256 (lowercase hex), the only form
 * that is stored. 0 on success, -1 when randomness fails. */
int apikeys_mint(const char *tag, char key_out[APIKEYS_KEY_MAX],
                 char prefix_out[APIKEYS_PREFIX_MAX], char hash_out[CRYPTO_SHA256_HEX_LEN + 1]);
/* Creates a database key; writes the full key (shown once) into key_out
 * (>= 128 bytes) and its id into id_out (>= 37). Returns a db_err, -1 for an
 * invalid name/role/tenant, or APIKEYS_NAME_TAKEN. */
int apikeys_create(const char *name, const char *role, const char *tenant, long long expires_at_ms,
                   const char *created_by, char *key_out, char *id_out);

/* The reference a session keeps to the keys-file key it was made from:
 * HMAC-SHA-256(secret, the key's SHA-256 hex), hex into out. */
void apikeys_file_key_ref(const char *secret, const char *sha256_hex, char out[65]);
/* True when the keys file (as loaded now) still holds a key named `name`
 * with this role and tenant whose reference under secret equals ref. */
bool apikeys_file_key_current(const char *name, const char *role, const char *tenant,
                              const char *secret, const char *ref);

int apikeys_handle_list(struct req *r);
int apikeys_handle_create(struct req *r);
int apikeys_handle_delete(struct req *r);

#endif
