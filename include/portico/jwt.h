/*
 * jwt.h — JSON Web Token verification on OpenSSL 3, without libjwt (which
 * accepts alg "none" and HS256 keyed with an RSA public key).
 *
 * The header is parsed here: alg must be RS256/384/512, PS256 or ES256/384,
 * and must fit the key's type (RSA for RS and PS, EC P-256 for ES256, P-384
 * for ES384); "none", HS* and anything else are rejected before any key is
 * looked at. Keys come from a JWKS (RFC 7517) and are turned into EVP_PKEYs
 * with EVP_PKEY_fromdata. Claims (iss, aud, azp, exp, nbf, iat, nonce, sub)
 * are checked against a struct jwt_expect with an explicit clock, so tests
 * can use fixed times.
 *
 * Threading: a struct jwt belongs to one thread. A struct jwt_keyset is
 * immutable after jwt_keyset_parse and reference counted (atomically), so
 * one set can be shared by many threads while a newer one replaces it.
 */
#ifndef PORTICO_JWT_H
#define PORTICO_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#define JWT_TOKEN_MAX 16384 /* bytes of a compact token we accept */
#define JWT_KID_MAX 256
#define JWT_KEYS_MAX 64       /* keys kept from one JWKS */
#define JWT_RSA_MIN_BITS 2048 /* shorter RSA keys are refused */

enum jwt_err {
    JWT_OK = 0,
    JWT_ERR_MALFORMED, /* not three base64url parts, bad JSON, ... */
    JWT_ERR_ALG,       /* alg not allowed, or does not fit the key type */
    JWT_ERR_NO_KEY,    /* no key with this kid */
    JWT_ERR_SIGNATURE, /* the signature does not verify */
    JWT_ERR_CLAIMS,    /* iss, aud, exp, ... */
    JWT_ERR_INTERNAL,  /* out of memory, OpenSSL failure */
};

enum jwt_alg {
    JWT_ALG_UNSUPPORTED = 0,
    JWT_RS256,
    JWT_RS384,
    JWT_RS512,
    JWT_PS256,
    JWT_ES256,
    JWT_ES384
};

enum jwt_key_type { JWT_KEY_RSA = 1, JWT_KEY_EC_P256, JWT_KEY_EC_P384 };

struct evp_pkey_st;

struct jwt_key {
    char kid[JWT_KID_MAX]; /* "" when the JWK has none */
    char alg[16];          /* the JWK's "alg", "" when absent */
    enum jwt_key_type type;
    struct evp_pkey_st *pkey;
};

struct jwt_keyset;

/* A decoded (not yet verified) token. Fill with jwt_decode, release with
 * jwt_cleanup. */
struct jwt {
    cJSON *header;
    cJSON *claims;
    enum jwt_alg alg;
    const char *kid;     /* points into header; NULL when absent */
    const char *typ;     /* points into header; NULL when absent */
    char *signing_input; /* "header.payload" as received */
    size_t signing_len;
    unsigned char *sig;
    size_t sig_len;
};

/* What the claims must satisfy. Strings that are NULL are not checked. */
struct jwt_expect {
    const char *issuer;    /* iss must equal it exactly (required) */
    const char *audience;  /* aud (string or array) must contain it */
    const char *client_id; /* ID tokens: azp, when present, must equal it */
    const char *nonce;     /* nonce must equal it */
    int64_t now;           /* seconds since the epoch */
    long skew;             /* leeway in seconds for exp, nbf, iat */
    bool id_token;         /* iat required; typ absent or JWT (else also at+jwt) */
};

/* Name and lookup of algorithms. jwt_alg_parse returns JWT_ALG_UNSUPPORTED
 * for "none", HS*, and anything unknown. */
enum jwt_alg jwt_alg_parse(const char *name);
const char *jwt_alg_name(enum jwt_alg alg);
/* True when alg may be used with a key of this type. */
bool jwt_alg_fits(enum jwt_alg alg, enum jwt_key_type type);

/* Strict base64url (no padding, no '+' '/' '=', unused bits zero). Returns a
 * malloc'd buffer (caller frees, NUL-terminated for convenience) and its
 * length in *outlen, or NULL when the input is not valid. */
unsigned char *jwt_b64url_decode(const char *in, size_t inlen, size_t *outlen);

/* True when token has the shape of a compact JWS: three base64url parts
 * separated by two dots (the header part non-empty). */
bool jwt_is_compact(const char *token);

/* Splits and parses token; checks the header (alg allowed, crit absent, kid
 * and typ strings). 0 = JWT_OK, else an enum jwt_err with a reason in err.
 * On success the caller releases *out with jwt_cleanup. */
int jwt_decode(const char *token, struct jwt *out, char *err, size_t errlen);
void jwt_cleanup(struct jwt *t);

/* JWK (a JSON object) → key. Only public parameters are read. 0 on success
 * (release with jwt_key_cleanup), else JWT_ERR_* with a reason in err. */
int jwt_key_from_jwk(const cJSON *jwk, struct jwt_key *out, char *err, size_t errlen);
void jwt_key_cleanup(struct jwt_key *k);

/* Parses a JWKS document ({"keys":[...]}). Keys that are not for signatures
 * or of an unsupported type are skipped; no usable key at all is an error.
 * On success *out holds one reference (release with jwt_keyset_unref). */
int jwt_keyset_parse(const char *text, size_t len, struct jwt_keyset **out, char *err,
                     size_t errlen);
struct jwt_keyset *jwt_keyset_ref(struct jwt_keyset *ks);
void jwt_keyset_unref(struct jwt_keyset *ks);
size_t jwt_keyset_count(const struct jwt_keyset *ks);
const struct jwt_key *jwt_keyset_key(const struct jwt_keyset *ks, size_t i);
/* The key for a token: the one with kid (NULL/absent kid: the only key whose
 * type fits alg). JWT_OK with *out set; JWT_ERR_NO_KEY when kid is unknown;
 * JWT_ERR_ALG when the key's type or "alg" does not fit. The key stays
 * valid while the caller holds a reference to ks. */
int jwt_keyset_find(const struct jwt_keyset *ks, const char *kid, enum jwt_alg alg,
                    const struct jwt_key **out, char *err, size_t errlen);

/* Verifies t's signature with key (alg/type binding checked again). */
int jwt_verify_signature(const struct jwt *t, const struct jwt_key *key, char *err, size_t errlen);
/* Checks the claims and the typ header against e. */
int jwt_check_claims(const struct jwt *t, const struct jwt_expect *e, char *err, size_t errlen);

/* The claim at a dotted path ("realm_access.roles") or NULL. */
const cJSON *jwt_claim_path(const cJSON *claims, const char *path);

#endif
