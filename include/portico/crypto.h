/*
 * crypto.h — the few primitives Portico needs, on OpenSSL: random bytes,
 * SHA-256, HMAC-SHA-256, constant-time comparison, UUIDs, hex and base64url.
 * Threading: all functions are thread-safe (OpenSSL 3 is).
 */
#ifndef PORTICO_CRYPTO_H
#define PORTICO_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_SHA256_HEX_LEN 64
#define CRYPTO_UUID_LEN 36

/* Fills buf with n cryptographically random bytes; 0 on success. */
int crypto_random(void *buf, size_t n);
/* Writes 2*n lowercase hex chars plus NUL into out (size >= 2*n+1). */
void crypto_hex(const void *data, size_t n, char *out);
/* SHA-256 of data, as raw bytes or lowercase hex (out >= 65 bytes). */
void crypto_sha256(const void *data, size_t n, unsigned char out[CRYPTO_SHA256_LEN]);
void crypto_sha256_hex(const void *data, size_t n, char out[CRYPTO_SHA256_HEX_LEN + 1]);
/* HMAC-SHA-256 of data under key, as lowercase hex (out >= 65 bytes). */
void crypto_hmac_sha256_hex(const void *key, size_t keylen, const void *data, size_t n,
                            char out[CRYPTO_SHA256_HEX_LEN + 1]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                        unsigned char out[CRYPTO_SHA256_LEN]);
/* Constant-time equality of two byte strings (length difference leaks only
 * that the lengths differ). */
bool crypto_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Constant-time equality of two NUL-terminated strings; NULL never equals. */
bool crypto_streq(const char *a, const char *b);
/* Equality of two secrets that leaks neither their lengths nor where they
 * differ: both are reduced to HMAC-SHA-256 digests under a per-process random
 * key and the fixed-size digests are compared in constant time. Use it for
 * every presented secret (gateway keys, metrics token, CSRF token). NULL
 * never equals. */
bool crypto_secret_eq(const char *presented, const char *expected);
/* A random (v4) lowercase UUID into out (>= 37 bytes); 0 on success. */
int crypto_uuid(char out[CRYPTO_UUID_LEN + 1]);
/* True when s is a lowercase or uppercase canonical UUID. */
bool crypto_is_uuid(const char *s);
/* base64url without padding. Encode: out needs 4*ceil(n/3)+1 bytes; returns
 * length written. Decode: returns decoded length or -1 on bad input; out needs
 * at least strlen(in)*3/4+3 bytes. */
size_t crypto_b64url_encode(const void *data, size_t n, char *out);
long crypto_b64url_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap);

#endif
