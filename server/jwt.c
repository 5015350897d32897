/*
 * jwt.c — JWT verification with OpenSSL EVP: strict base64url, our own JOSE
 * header parsing (the algorithm allow-list and alg/key-type binding happen
 * before any key is touched), JWK → EVP_PKEY via EVP_PKEY_fromdata, RSA
 * PKCS#1 v1.5 / PSS and ECDSA (JOSE r||s converted to DER) signatures, and
 * claim checks with an explicit clock.
 *
 * Threading: functions are reentrant. Keysets are immutable once parsed and
 * shared by reference count (atomic); OpenSSL 3 allows concurrent
 * verification with one EVP_PKEY.
 */
#include "portico/jwt.h"

#include <math.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portico/crypto.h"
#include "portico/json.h"

struct jwt_keyset {
    atomic_int refs;
    size_t count;
    struct jwt_key keys[];
};

static void set_err(char *err, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t n, const char *fmt, ...)
{
    if (!err || n == 0) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(err, n, fmt, ap);
    va_end(ap);
    if (w < 0) err[0] = '\0';
}

/* ---- algorithms --------------------------------------------------------- */

static const struct {
    const char *name;
    enum jwt_alg alg;
} ALGS[] = {
    {"RS256", JWT_RS256}, {"RS384", JWT_RS384}, {"RS512", JWT_RS512},
    {"PS256", JWT_PS256}, {"ES256", JWT_ES256}, {"ES384", JWT_ES384},
};

enum jwt_alg jwt_alg_parse(const char *name)
{
    if (!name) return JWT_ALG_UNSUPPORTED;
    /* Exact, case-sensitive (RFC 7515): "none", "None", "HS256" all fail. */
    for (size_t i = 0; i < sizeof ALGS / sizeof ALGS[0]; i++)
        if (strcmp(name, ALGS[i].name) == 0) return ALGS[i].alg;
    return JWT_ALG_UNSUPPORTED;
}

const char *jwt_alg_name(enum jwt_alg alg)
{
    for (size_t i = 0; i < sizeof ALGS / sizeof ALGS[0]; i++)
        if (ALGS[i].alg == alg) return ALGS[i].name;
    return "unsupported";
}

bool jwt_alg_fits(enum jwt_alg alg, enum jwt_key_type type)
{
    switch (alg) {
    case JWT_RS256:
    case JWT_RS384:
    case JWT_RS512:
    case JWT_PS256: return type == JWT_KEY_RSA;
    case JWT_ES256: return type == JWT_KEY_EC_P256;
    case JWT_ES384: return type == JWT_KEY_EC_P384;
    default: return false;
    }
}

static const EVP_MD *alg_md(enum jwt_alg alg)
{
    switch (alg) {
    case JWT_RS256:
    case JWT_PS256:
    case JWT_ES256: return EVP_sha256();
    case JWT_RS384:
    case JWT_ES384: return EVP_sha384();
    case JWT_RS512: return EVP_sha512();
    default: return NULL;
    }
}

/* ---- base64url ---------------------------------------------------------- */

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

unsigned char *jwt_b64url_decode(const char *in, size_t inlen, size_t *outlen)
{
    if (!in || inlen % 4 == 1 || inlen > JWT_TOKEN_MAX) return NULL;
    unsigned char *out = malloc(inlen * 3 / 4 + 2);
    if (!out) return NULL;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < inlen; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0) goto bad;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    /* Leftover bits must be zero: one encoding per byte string. */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) goto bad;
    out[o] = '\0';
    *outlen = o;
    return out;
bad:
    free(out);
    return NULL;
}

static bool all_b64url(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b64url_value((unsigned char)s[i]) < 0) return false;
    return true;
}

bool jwt_is_compact(const char *token)
{
    if (!token) return false;
    const char *d1 = strchr(token, '.');
    if (!d1 || d1 == token) return false;
    const char *d2 = strchr(d1 + 1, '.');
    if (!d2 || strchr(d2 + 1, '.')) return false;
    return all_b64url(token, (size_t)(d1 - token)) && all_b64url(d1 + 1, (size_t)(d2 - d1 - 1)) &&
           all_b64url(d2 + 1, strlen(d2 + 1));
}

/* ---- decoding ----------------------------------------------------------- */

static cJSON *decode_json_part(const char *p, size_t n)
{
    size_t len = 0;
    unsigned char *raw = jwt_b64url_decode(p, n, &len);
    if (!raw) return NULL;
    cJSON *j = NULL;
    if (len > 0 && memchr(raw, '\0', len) == NULL) j = json_parse((const char *)raw, len);
    free(raw);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        j = NULL;
    }
    return j;
}

void jwt_cleanup(struct jwt *t)
{
    if (!t) return;
    cJSON_Delete(t->header);
    cJSON_Delete(t->claims);
    free(t->signing_input);
    free(t->sig);
    memset(t, 0, sizeof *t);
}

int jwt_decode(const char *token, struct jwt *out, char *err, size_t errlen)
{
    struct jwt t;
    memset(&t, 0, sizeof t);
    int rc = JWT_ERR_MALFORMED;
    if (!token || strlen(token) > JWT_TOKEN_MAX) {
        set_err(err, errlen, "the token is missing or longer than %d bytes", JWT_TOKEN_MAX);
        goto out;
    }
    if (!jwt_is_compact(token)) {
        set_err(err, errlen, "the token is not a compact JWS (three base64url parts)");
        goto out;
    }
    const char *d1 = strchr(token, '.');
    const char *d2 = strchr(d1 + 1, '.');
    t.header = decode_json_part(token, (size_t)(d1 - token));
    if (!t.header) {
        set_err(err, errlen, "the token header is not a base64url JSON object");
        goto out;
    }
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(t.header, "alg");
    if (!cJSON_IsString(alg)) {
        set_err(err, errlen, "the token header has no alg");
        goto out;
    }
    t.alg = jwt_alg_parse(alg->valuestring);
    if (t.alg == JWT_ALG_UNSUPPORTED) {
        rc = JWT_ERR_ALG;
        set_err(
            err, errlen,
            "the token algorithm is not allowed (RS256, RS384, RS512, PS256, ES256, ES384 only)");
        goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(t.header, "crit")) {
        rc = JWT_ERR_ALG;
        set_err(err, errlen,
                "the token header has critical extensions (crit) Portico does not understand");
        goto out;
    }
    /* Keys embedded in or referenced by the header are never trusted. */
    static const char *const foreign[] = {"jwk", "jku", "x5u", "x5c"};
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++) {
        if (cJSON_GetObjectItemCaseSensitive(t.header, foreign[i])) {
            rc = JWT_ERR_ALG;
            set_err(err, errlen, "the token header carries its own key (%s); not accepted",
                    foreign[i]);
            goto out;
        }
    }
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(t.header, "kid");
    if (kid) {
        if (!cJSON_IsString(kid) || !kid->valuestring[0] ||
            strlen(kid->valuestring) >= JWT_KID_MAX) {
            set_err(err, errlen, "the token header kid is not a string");
            goto out;
        }
        t.kid = kid->valuestring;
    }
    const cJSON *typ = cJSON_GetObjectItemCaseSensitive(t.header, "typ");
    if (typ) {
        if (!cJSON_IsString(typ)) {
            set_err(err, errlen, "the token header typ is not a string");
            goto out;
        }
        t.typ = typ->valuestring;
    }
    t.claims = decode_json_part(d1 + 1, (size_t)(d2 - d1 - 1));
    if (!t.claims) {
        set_err(err, errlen, "the token payload is not a base64url JSON object");
        goto out;
    }
    t.sig = jwt_b64url_decode(d2 + 1, strlen(d2 + 1), &t.sig_len);
    if (!t.sig || t.sig_len == 0) {
        set_err(err, errlen, "the token has no signature");
        goto out;
    }
    t.signing_len = (size_t)(d2 - token);
    t.signing_input = malloc(t.signing_len + 1);
    if (!t.signing_input) {
        rc = JWT_ERR_INTERNAL;
        set_err(err, errlen, "out of memory");
        goto out;
    }
    memcpy(t.signing_input, token, t.signing_len);
    t.signing_input[t.signing_len] = '\0';
    *out = t;
    return JWT_OK;
out:
    jwt_cleanup(&t);
    return rc;
}

/* ---- keys --------------------------------------------------------------- */

void jwt_key_cleanup(struct jwt_key *k)
{
    if (!k) return;
    EVP_PKEY_free(k->pkey);
    memset(k, 0, sizeof *k);
}

/* Decodes the base64url member `name` of jwk; NULL (with err) when absent or bad. */
static unsigned char *jwk_bytes(const cJSON *jwk, const char *name, size_t *len, char *err,
                                size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(jwk, name);
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        set_err(err, errlen, "JWK: %s is missing", name);
        return NULL;
    }
    unsigned char *b = jwt_b64url_decode(v->valuestring, strlen(v->valuestring), len);
    if (!b || *len == 0) {
        free(b);
        set_err(err, errlen, "JWK: %s is not base64url", name);
        return NULL;
    }
    return b;
}

static EVP_PKEY *pkey_from_params(const char *type, OSSL_PARAM_BLD *bld, char *err, size_t errlen)
{
    EVP_PKEY *pkey = NULL, *res = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY_CTX *check = NULL;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        set_err(err, errlen, "JWK: the %s key parameters are not valid", type);
        goto out;
    }
    check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!check || EVP_PKEY_public_check(check) <= 0) {
        set_err(err, errlen, "JWK: the %s public key fails validation", type);
        goto out;
    }
    res = pkey;
    pkey = NULL;
out:
    EVP_PKEY_CTX_free(check);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    EVP_PKEY_free(pkey);
    return res;
}

static EVP_PKEY *rsa_from_jwk(const cJSON *jwk, char *err, size_t errlen)
{
    size_t nlen = 0, elen = 0;
    unsigned char *nb = NULL, *eb = NULL;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;
    if (!(nb = jwk_bytes(jwk, "n", &nlen, err, errlen))) goto out;
    if (!(eb = jwk_bytes(jwk, "e", &elen, err, errlen))) goto out;
    n = BN_bin2bn(nb, (int)nlen, NULL);
    e = BN_bin2bn(eb, (int)elen, NULL);
    if (!n || !e) {
        set_err(err, errlen, "out of memory");
        goto out;
    }
    if (BN_num_bits(n) < JWT_RSA_MIN_BITS) {
        set_err(err, errlen, "JWK: RSA key of %d bits; at least %d required", BN_num_bits(n),
                JWT_RSA_MIN_BITS);
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
        set_err(err, errlen, "out of memory");
        goto out;
    }
    pkey = pkey_from_params("RSA", bld, err, errlen);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    free(nb);
    free(eb);
    return pkey;
}

static EVP_PKEY *ec_from_jwk(const cJSON *jwk, enum jwt_key_type *type, char *err, size_t errlen)
{
    const cJSON *crv = cJSON_GetObjectItemCaseSensitive(jwk, "crv");
    const char *group;
    size_t coord;
    if (cJSON_IsString(crv) && strcmp(crv->valuestring, "P-256") == 0) {
        group = "P-256";
        coord = 32;
        *type = JWT_KEY_EC_P256;
    } else if (cJSON_IsString(crv) && strcmp(crv->valuestring, "P-384") == 0) {
        group = "P-384";
        coord = 48;
        *type = JWT_KEY_EC_P384;
    } else {
        set_err(err, errlen, "JWK: EC curve must be P-256 or P-384");
        return NULL;
    }
    size_t xlen = 0, ylen = 0;
    unsigned char *x = NULL, *y = NULL;
    unsigned char point[1 + 2 * 48];
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;
    if (!(x = jwk_bytes(jwk, "x", &xlen, err, errlen))) goto out;
    if (!(y = jwk_bytes(jwk, "y", &ylen, err, errlen))) goto out;
    if (xlen != coord || ylen != coord) {
        set_err(err, errlen, "JWK: EC coordinates must be %zu bytes for %s", coord, group);
        goto out;
    }
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, x, coord);
    memcpy(point + 1 + coord, y, coord);
    bld = OSSL_PARAM_BLD_new();
    if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * coord)) {
        set_err(err, errlen, "out of memory");
        goto out;
    }
    pkey = pkey_from_params("EC", bld, err, errlen);
out:
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return pkey;
}

int jwt_key_from_jwk(const cJSON *jwk, struct jwt_key *out, char *err, size_t errlen)
{
    struct jwt_key k;
    memset(&k, 0, sizeof k);
    if (!cJSON_IsObject(jwk)) {
        set_err(err, errlen, "JWK: not an object");
        return JWT_ERR_MALFORMED;
    }
    const cJSON *kty = cJSON_GetObjectItemCaseSensitive(jwk, "kty");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid");
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(jwk, "alg");
    const cJSON *use = cJSON_GetObjectItemCaseSensitive(jwk, "use");
    if (!cJSON_IsString(kty)) {
        set_err(err, errlen, "JWK: kty is missing");
        return JWT_ERR_MALFORMED;
    }
    if (use && (!cJSON_IsString(use) || strcmp(use->valuestring, "sig") != 0)) {
        set_err(err, errlen, "JWK: use is not \"sig\"");
        return JWT_ERR_ALG;
    }
    if (kid) {
        if (!cJSON_IsString(kid) || strlen(kid->valuestring) >= sizeof k.kid) {
            set_err(err, errlen, "JWK: kid is not a string of at most %d bytes", JWT_KID_MAX - 1);
            return JWT_ERR_MALFORMED;
        }
        memcpy(k.kid, kid->valuestring, strlen(kid->valuestring) + 1);
    }
    if (alg) {
        if (!cJSON_IsString(alg) || jwt_alg_parse(alg->valuestring) == JWT_ALG_UNSUPPORTED) {
            set_err(err, errlen, "JWK: alg is not one Portico verifies");
            return JWT_ERR_ALG;
        }
        memcpy(k.alg, alg->valuestring, strlen(alg->valuestring) + 1);
    }
    if (strcmp(kty->valuestring, "RSA") == 0) {
        k.type = JWT_KEY_RSA;
        k.pkey = rsa_from_jwk(jwk, err, errlen);
    } else if (strcmp(kty->valuestring, "EC") == 0) {
        k.pkey = ec_from_jwk(jwk, &k.type, err, errlen);
    } else {
        set_err(err, errlen, "JWK: kty %.20s is not supported (RSA and EC only)", kty->valuestring);
        return JWT_ERR_ALG;
    }
    if (!k.pkey) return JWT_ERR_MALFORMED;
    if (k.alg[0] && !jwt_alg_fits(jwt_alg_parse(k.alg), k.type)) {
        set_err(err, errlen, "JWK: alg %s does not fit the key type", k.alg);
        jwt_key_cleanup(&k);
        return JWT_ERR_ALG;
    }
    *out = k;
    return JWT_OK;
}

int jwt_keyset_parse(const char *text, size_t len, struct jwt_keyset **out, char *err,
                     size_t errlen)
{
    int rc = JWT_ERR_MALFORMED;
    struct jwt_keyset *ks = NULL;
    cJSON *doc = text ? json_parse(text, len) : NULL;
    const cJSON *keys = doc ? cJSON_GetObjectItemCaseSensitive(doc, "keys") : NULL;
    if (!cJSON_IsArray(keys)) {
        set_err(err, errlen, "the JWKS is not a JSON object with a keys array");
        goto out;
    }
    ks = calloc(1, sizeof *ks + JWT_KEYS_MAX * sizeof(struct jwt_key));
    if (!ks) {
        rc = JWT_ERR_INTERNAL;
        set_err(err, errlen, "out of memory");
        goto out;
    }
    atomic_init(&ks->refs, 1);
    const cJSON *jwk;
    char why[160] = "";
    cJSON_ArrayForEach(jwk, keys)
    {
        if (ks->count == JWT_KEYS_MAX) break;
        struct jwt_key k;
        /* Encryption keys and unknown key types are skipped, not fatal. */
        if (jwt_key_from_jwk(jwk, &k, why, sizeof why) == JWT_OK) ks->keys[ks->count++] = k;
    }
    if (ks->count == 0) {
        set_err(err, errlen, "the JWKS has no usable signing key%s%s", why[0] ? ": " : "", why);
        goto out;
    }
    *out = ks;
    ks = NULL;
    rc = JWT_OK;
out:
    jwt_keyset_unref(ks);
    cJSON_Delete(doc);
    return rc;
}

struct jwt_keyset *jwt_keyset_ref(struct jwt_keyset *ks)
{
    if (ks) atomic_fetch_add(&ks->refs, 1);
    return ks;
}

void jwt_keyset_unref(struct jwt_keyset *ks)
{
    if (!ks || atomic_fetch_sub(&ks->refs, 1) != 1) return;
    for (size_t i = 0; i < ks->count; i++) jwt_key_cleanup(&ks->keys[i]);
    free(ks);
}

size_t jwt_keyset_count(const struct jwt_keyset *ks)
{
    return ks ? ks->count : 0;
}

const struct jwt_key *jwt_keyset_key(const struct jwt_keyset *ks, size_t i)
{
    return ks && i < ks->count ? &ks->keys[i] : NULL;
}

static int key_fits(const struct jwt_key *k, enum jwt_alg alg, char *err, size_t errlen)
{
    if (!jwt_alg_fits(alg, k->type)) {
        set_err(err, errlen, "the token algorithm %s does not fit the type of key %s",
                jwt_alg_name(alg), k->kid[0] ? k->kid : "(no kid)");
        return JWT_ERR_ALG;
    }
    if (k->alg[0] && strcmp(k->alg, jwt_alg_name(alg)) != 0) {
        set_err(err, errlen, "the token algorithm %s is not the key's algorithm %s",
                jwt_alg_name(alg), k->alg);
        return JWT_ERR_ALG;
    }
    return JWT_OK;
}

int jwt_keyset_find(const struct jwt_keyset *ks, const char *kid, enum jwt_alg alg,
                    const struct jwt_key **out, char *err, size_t errlen)
{
    const struct jwt_key *found = NULL;
    size_t n = jwt_keyset_count(ks);
    if (kid) {
        for (size_t i = 0; i < n; i++) {
            if (strcmp(ks->keys[i].kid, kid) == 0) {
                found = &ks->keys[i];
                break;
            }
        }
        if (!found) {
            set_err(err, errlen, "no key with this kid in the provider's JWKS");
            return JWT_ERR_NO_KEY;
        }
    } else {
        size_t matches = 0;
        for (size_t i = 0; i < n; i++) {
            if (jwt_alg_fits(alg, ks->keys[i].type)) {
                found = &ks->keys[i];
                matches++;
            }
        }
        if (matches != 1) {
            set_err(err, errlen, "the token has no kid and the JWKS has %zu candidate keys",
                    matches);
            return JWT_ERR_NO_KEY;
        }
    }
    int rc = key_fits(found, alg, err, errlen);
    if (rc == JWT_OK) *out = found;
    return rc;
}

/* ---- signatures --------------------------------------------------------- */

/* JOSE ECDSA signatures are r||s, each `coord` bytes; OpenSSL wants DER.
 * Returns a malloc'd DER buffer (caller frees) or NULL. */
static unsigned char *ecdsa_jose_to_der(const unsigned char *sig, size_t coord, size_t *derlen)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)coord, NULL);
    BIGNUM *s = BN_bin2bn(sig + coord, (int)coord, NULL);
    unsigned char *der = NULL;
    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        goto out;
    }
    int n = i2d_ECDSA_SIG(es, NULL);
    if (n <= 0) goto out;
    der = malloc((size_t)n);
    if (!der) goto out;
    unsigned char *p = der;
    if (i2d_ECDSA_SIG(es, &p) != n) {
        free(der);
        der = NULL;
        goto out;
    }
    *derlen = (size_t)n;
out:
    ECDSA_SIG_free(es);
    return der;
}

int jwt_verify_signature(const struct jwt *t, const struct jwt_key *key, char *err, size_t errlen)
{
    int rc = key_fits(key, t->alg, err, errlen);
    if (rc != JWT_OK) return rc;
    rc = JWT_ERR_SIGNATURE;
    const EVP_MD *md = alg_md(t->alg);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char *der = NULL;
    const unsigned char *sig = t->sig;
    size_t siglen = t->sig_len;
    if (!md || !mctx) {
        rc = JWT_ERR_INTERNAL;
        set_err(err, errlen, "out of memory");
        goto out;
    }
    if (t->alg == JWT_ES256 || t->alg == JWT_ES384) {
        size_t coord = t->alg == JWT_ES256 ? 32 : 48;
        if (siglen != 2 * coord) {
            set_err(err, errlen, "the %s signature must be %zu bytes", jwt_alg_name(t->alg),
                    2 * coord);
            goto out;
        }
        der = ecdsa_jose_to_der(sig, coord, &siglen);
        if (!der) {
            set_err(err, errlen, "the token signature is not valid");
            goto out;
        }
        sig = der;
    }
    if (EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key->pkey) != 1) {
        rc = JWT_ERR_INTERNAL;
        set_err(err, errlen, "cannot initialise signature verification");
        goto out;
    }
    if (t->alg == JWT_PS256) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) <= 0) {
            rc = JWT_ERR_INTERNAL;
            set_err(err, errlen, "cannot set up PSS verification");
            goto out;
        }
    } else if (key->type == JWT_KEY_RSA) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0) {
            rc = JWT_ERR_INTERNAL;
            set_err(err, errlen, "cannot set up RSA verification");
            goto out;
        }
    }
    if (EVP_DigestVerify(mctx, sig, siglen, (const unsigned char *)t->signing_input,
                         t->signing_len) != 1) {
        set_err(err, errlen, "the token signature does not verify with key %s",
                key->kid[0] ? key->kid : "(no kid)");
        goto out;
    }
    rc = JWT_OK;
out:
    free(der);
    EVP_MD_CTX_free(mctx);
    return rc;
}

/* ---- claims ------------------------------------------------------------- */

const cJSON *jwt_claim_path(const cJSON *claims, const char *path)
{
    if (!claims || !path || !*path) return NULL;
    const cJSON *cur = claims;
    const char *p = path;
    char seg[128];
    while (cur) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n == 0 || n >= sizeof seg || !cJSON_IsObject(cur)) return NULL;
        memcpy(seg, p, n);
        seg[n] = '\0';
        cur = cJSON_GetObjectItemCaseSensitive(cur, seg);
        if (!dot) return cur;
        p = dot + 1;
    }
    return NULL;
}

/* A NumericDate claim: 0 ok (*out set), 1 absent, -1 not a number. */
static int numeric_date(const cJSON *claims, const char *name, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);
    if (!v) return 1;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > 1e12)
        return -1;
    *out = (int64_t)floor(v->valuedouble);
    return 0;
}

static bool aud_contains(const cJSON *aud, const char *want, int *count)
{
    *count = 0;
    if (cJSON_IsString(aud)) {
        *count = 1;
        return strcmp(aud->valuestring, want) == 0;
    }
    if (!cJSON_IsArray(aud)) return false;
    bool found = false;
    const cJSON *a;
    cJSON_ArrayForEach(a, aud)
    {
        if (!cJSON_IsString(a)) return false;
        (*count)++;
        if (strcmp(a->valuestring, want) == 0) found = true;
    }
    return found;
}

static bool typ_ok(const char *typ, bool id_token)
{
    if (!typ) return true;
    if (strcasecmp(typ, "JWT") == 0 || strcasecmp(typ, "application/jwt") == 0) return true;
    if (id_token) return false;
    return strcasecmp(typ, "at+jwt") == 0 || strcasecmp(typ, "application/at+jwt") == 0;
}

int jwt_check_claims(const struct jwt *t, const struct jwt_expect *e, char *err, size_t errlen)
{
    const cJSON *c = t->claims;
    if (!typ_ok(t->typ, e->id_token)) {
        set_err(err, errlen, "the token type (typ) is not accepted here");
        return JWT_ERR_CLAIMS;
    }
    const cJSON *iss = cJSON_GetObjectItemCaseSensitive(c, "iss");
    if (!e->issuer || !cJSON_IsString(iss) || strcmp(iss->valuestring, e->issuer) != 0) {
        set_err(err, errlen, "the token issuer (iss) is not %s",
                e->issuer ? e->issuer : "configured");
        return JWT_ERR_CLAIMS;
    }
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(c, "sub");
    if (!cJSON_IsString(sub) || !sub->valuestring[0] || strlen(sub->valuestring) > 255) {
        set_err(err, errlen, "the token has no subject (sub)");
        return JWT_ERR_CLAIMS;
    }
    int naud = 0;
    if (e->audience &&
        !aud_contains(cJSON_GetObjectItemCaseSensitive(c, "aud"), e->audience, &naud)) {
        set_err(err, errlen, "the token audience (aud) does not contain %s", e->audience);
        return JWT_ERR_CLAIMS;
    }
    const cJSON *azp = cJSON_GetObjectItemCaseSensitive(c, "azp");
    if (e->id_token && e->client_id && azp &&
        (!cJSON_IsString(azp) || strcmp(azp->valuestring, e->client_id) != 0)) {
        set_err(err, errlen, "the token's authorized party (azp) is not this client");
        return JWT_ERR_CLAIMS;
    }
    int64_t exp = 0, nbf = 0, iat = 0;
    int r = numeric_date(c, "exp", &exp);
    if (r != 0) {
        set_err(err, errlen, "the token has %s expiry (exp)", r > 0 ? "no" : "an invalid");
        return JWT_ERR_CLAIMS;
    }
    if (exp <= e->now - e->skew) {
        set_err(err, errlen, "the token has expired (exp %lld, now %lld)", (long long)exp,
                (long long)e->now);
        return JWT_ERR_CLAIMS;
    }
    r = numeric_date(c, "nbf", &nbf);
    if (r < 0 || (r == 0 && nbf > e->now + e->skew)) {
        set_err(err, errlen, "the token is not valid yet (nbf)");
        return JWT_ERR_CLAIMS;
    }
    r = numeric_date(c, "iat", &iat);
    if (r < 0 || (r > 0 && e->id_token)) {
        set_err(err, errlen, "the token has %s issue time (iat)", r > 0 ? "no" : "an invalid");
        return JWT_ERR_CLAIMS;
    }
    if (r == 0 && iat > e->now + e->skew) {
        set_err(err, errlen, "the token was issued in the future (iat)");
        return JWT_ERR_CLAIMS;
    }
    if (e->nonce) {
        const cJSON *nonce = cJSON_GetObjectItemCaseSensitive(c, "nonce");
        if (!cJSON_IsString(nonce) || !crypto_streq(nonce->valuestring, e->nonce)) {
            set_err(err, errlen, "the token nonce does not match this sign-in");
            return JWT_ERR_CLAIMS;
        }
    }
    return JWT_OK;
}
