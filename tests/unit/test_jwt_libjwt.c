/*
 * test_jwt_libjwt.c — cross-checks Portico's JWT verifier (server/jwt.c, on
 * OpenSSL) against an independent signer: tokens made by libjwt, which has
 * its own JOSE encoding (base64url, header layout, ES256 r||s conversion),
 * must verify and pass the claim checks; a changed payload, another key, and
 * the algorithms Portico refuses (HS256, "none") must not. libjwt is used
 * here only — never to verify anything in the server (see jwt.h) — and is
 * loaded with dlopen: its exported names (jwt_decode, enum jwt_alg) are the
 * same as Portico's, so it can be neither included nor linked beside them.
 * Threading: single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dlfcn.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "portico/crypto.h"
#include "portico/jwt.h"

/* libjwt 1.x's API, as far as this test uses it (jwt.h from libjwt-dev). */
enum { LJ_NONE = 0, LJ_HS256 = 1, LJ_RS256 = 4, LJ_RS384 = 5, LJ_RS512 = 6, LJ_ES256 = 7 };
static struct {
    int (*new_)(void **jwt);
    void (*free_)(void *jwt);
    int (*add_grant)(void *jwt, const char *grant, const char *val);
    int (*add_grant_int)(void *jwt, const char *grant, long val);
    int (*add_header)(void *jwt, const char *header, const char *val);
    int (*set_alg)(void *jwt, int alg, const unsigned char *key, int len);
    char *(*encode_str)(void *jwt);
} lj;

static int load_libjwt(void **state)
{
    (void)state;
    void *h = dlopen("libjwt.so", RTLD_NOW | RTLD_LOCAL);
    if (!h) h = dlopen("libjwt.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "libjwt is not installed (scripts/deps.sh installs libjwt-dev): %s\n",
                dlerror());
        return -1;
    }
    *(void **)&lj.new_ = dlsym(h, "jwt_new");
    *(void **)&lj.free_ = dlsym(h, "jwt_free");
    *(void **)&lj.add_grant = dlsym(h, "jwt_add_grant");
    *(void **)&lj.add_grant_int = dlsym(h, "jwt_add_grant_int");
    *(void **)&lj.add_header = dlsym(h, "jwt_add_header");
    *(void **)&lj.set_alg = dlsym(h, "jwt_set_alg");
    *(void **)&lj.encode_str = dlsym(h, "jwt_encode_str");
    if (!lj.new_ || !lj.free_ || !lj.add_grant || !lj.add_grant_int || !lj.add_header ||
        !lj.set_alg || !lj.encode_str) {
        fprintf(stderr, "libjwt lacks the 1.x API this test uses\n");
        return -1;
    }
    return 0;
}

#define NOW 1800000000LL
#define ISSUER "https://idp.example.test/realms/stoa"
#define AUDIENCE "portico"

/* base64url of a key parameter (caller frees). */
static char *b64_param(const EVP_PKEY *pkey, const char *param, size_t pad_to)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(pkey, param, &bn), 1);
    unsigned char buf[1024];
    size_t n = (size_t)BN_num_bytes(bn);
    if (pad_to < n) pad_to = n;
    assert_true(BN_bn2binpad(bn, buf, (int)pad_to) > 0);
    BN_free(bn);
    char *out = malloc(4 * (pad_to / 3 + 1) + 1);
    crypto_b64url_encode(buf, pad_to, out);
    return out;
}

/* A one-key JWKS for pkey's public half, parsed by Portico. */
static struct jwt_keyset *keyset_for(EVP_PKEY *pkey, const char *kid)
{
    char jwks[4096];
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        char *n = b64_param(pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        char *e = b64_param(pkey, OSSL_PKEY_PARAM_RSA_E, 0);
        snprintf(jwks, sizeof jwks,
                 "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":\"%s\",\"n\":\"%s\","
                 "\"e\":\"%s\"}]}",
                 kid, n, e);
        free(n);
        free(e);
    } else {
        char *x = b64_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, 32);
        char *y = b64_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
        snprintf(jwks, sizeof jwks,
                 "{\"keys\":[{\"kty\":\"EC\",\"use\":\"sig\",\"crv\":\"P-256\",\"kid\":\"%s\","
                 "\"x\":\"%s\",\"y\":\"%s\"}]}",
                 kid, x, y);
        free(x);
        free(y);
    }
    struct jwt_keyset *ks = NULL;
    char err[200];
    assert_int_equal(jwt_keyset_parse(jwks, strlen(jwks), &ks, err, sizeof err), JWT_OK);
    return ks;
}

/* The private key as PEM, the form libjwt takes (caller frees). */
static char *pem_of(EVP_PKEY *pkey, int *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL), 1);
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *out = malloc((size_t)n + 1);
    memcpy(out, data, (size_t)n);
    out[n] = '\0';
    BIO_free(bio);
    *len = (int)n;
    return out;
}

/* A token signed by libjwt (caller frees). key NULL: alg none. */
static char *libjwt_sign(int alg, const unsigned char *key, int keylen, const char *kid,
                         const char *sub)
{
    void *j = NULL;
    assert_int_equal(lj.new_(&j), 0);
    assert_int_equal(lj.add_grant(j, "iss", ISSUER), 0);
    assert_int_equal(lj.add_grant(j, "aud", AUDIENCE), 0);
    assert_int_equal(lj.add_grant(j, "sub", sub), 0);
    assert_int_equal(lj.add_grant_int(j, "iat", (long)(NOW - 10)), 0);
    assert_int_equal(lj.add_grant_int(j, "exp", (long)(NOW + 300)), 0);
    if (kid) assert_int_equal(lj.add_header(j, "kid", kid), 0);
    assert_int_equal(lj.set_alg(j, alg, key, keylen), 0);
    char *tok = lj.encode_str(j); /* malloc'd by libjwt's default allocator */
    assert_non_null(tok);
    lj.free_(j);
    return tok;
}

/* Portico's whole check of a token: decode, find the key, signature, claims. */
static int portico_verify(const char *token, const struct jwt_keyset *ks)
{
    struct jwt t;
    char err[200];
    const struct jwt_key *key = NULL;
    int rc = jwt_decode(token, &t, err, sizeof err);
    if (rc != JWT_OK) return rc;
    rc = jwt_keyset_find(ks, t.kid, t.alg, &key, err, sizeof err);
    if (rc == JWT_OK) rc = jwt_verify_signature(&t, key, err, sizeof err);
    struct jwt_expect e = {.issuer = ISSUER, .audience = AUDIENCE, .now = NOW, .skew = 30};
    if (rc == JWT_OK) rc = jwt_check_claims(&t, &e, err, sizeof err);
    if (rc == JWT_OK) {
        const cJSON *sub = cJSON_GetObjectItemCaseSensitive(t.claims, "sub");
        assert_true(cJSON_IsString(sub));
    }
    jwt_cleanup(&t);
    return rc;
}

/* The same token with its payload replaced by another token's (caller frees). */
static char *splice(const char *signed_tok, const char *other_tok)
{
    const char *dot1 = strchr(signed_tok, '.'), *dot2 = strrchr(signed_tok, '.');
    const char *odot1 = strchr(other_tok, '.'), *odot2 = strrchr(other_tok, '.');
    size_t n = (size_t)(dot1 - signed_tok) + (size_t)(odot2 - odot1) + strlen(dot2) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%.*s%s", (int)(dot1 - signed_tok), signed_tok, (int)(odot2 - odot1),
             odot1, dot2);
    return out;
}

static void check_alg(EVP_PKEY *priv, int alg)
{
    int len = 0;
    char *pem = pem_of(priv, &len);
    struct jwt_keyset *ks = keyset_for(priv, "k1");
    char *tok = libjwt_sign(alg, (const unsigned char *)pem, len, "k1", "alice");
    assert_int_equal(portico_verify(tok, ks), JWT_OK);
    /* Another payload under this signature. */
    char *other = libjwt_sign(alg, (const unsigned char *)pem, len, "k1", "mallory");
    char *spliced = splice(tok, other);
    assert_int_equal(portico_verify(spliced, ks), JWT_ERR_SIGNATURE);
    /* A kid Portico does not know. */
    char *unknown = libjwt_sign(alg, (const unsigned char *)pem, len, "k2", "alice");
    assert_int_equal(portico_verify(unknown, ks), JWT_ERR_NO_KEY);
    free(unknown);
    free(spliced);
    free(other);
    free(tok);
    jwt_keyset_unref(ks);
    free(pem);
}

static void test_libjwt_rs256_verifies(void **state)
{
    (void)state;
    EVP_PKEY *priv = EVP_RSA_gen(2048);
    assert_non_null(priv);
    check_alg(priv, LJ_RS256);
    check_alg(priv, LJ_RS384);
    check_alg(priv, LJ_RS512);
    /* Signed by another RSA key with the same kid. */
    EVP_PKEY *other = EVP_RSA_gen(2048);
    int len = 0;
    char *pem = pem_of(other, &len);
    struct jwt_keyset *ks = keyset_for(priv, "k1");
    char *tok = libjwt_sign(LJ_RS256, (const unsigned char *)pem, len, "k1", "alice");
    assert_int_equal(portico_verify(tok, ks), JWT_ERR_SIGNATURE);
    free(tok);
    free(pem);
    jwt_keyset_unref(ks);
    EVP_PKEY_free(other);
    EVP_PKEY_free(priv);
}

static void test_libjwt_es256_verifies(void **state)
{
    (void)state;
    EVP_PKEY *priv = EVP_EC_gen("P-256");
    assert_non_null(priv);
    check_alg(priv, LJ_ES256);
    EVP_PKEY_free(priv);
}

static void test_refused_algorithms(void **state)
{
    (void)state;
    EVP_PKEY *priv = EVP_RSA_gen(2048);
    struct jwt_keyset *ks = keyset_for(priv, "k1");
    /* HS256 keyed with the RSA public key's PEM: the classic confusion. */
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PUBKEY(bio, priv), 1);
    char *pub = NULL;
    long n = BIO_get_mem_data(bio, &pub);
    char *hs = libjwt_sign(LJ_HS256, (const unsigned char *)pub, (int)n, "k1", "alice");
    assert_int_equal(portico_verify(hs, ks), JWT_ERR_ALG);
    free(hs);
    BIO_free(bio);
    char *none = libjwt_sign(LJ_NONE, NULL, 0, "k1", "alice");
    assert_int_not_equal(portico_verify(none, ks), JWT_OK);
    free(none);
    jwt_keyset_unref(ks);
    EVP_PKEY_free(priv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_libjwt_rs256_verifies),
        cmocka_unit_test(test_libjwt_es256_verifies),
        cmocka_unit_test(test_refused_algorithms),
    };
    return cmocka_run_group_tests_name("jwt_libjwt", tests, load_libjwt, NULL);
}
