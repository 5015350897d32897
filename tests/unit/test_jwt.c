/*
 * test_jwt.c — unit tests for JWT verification: strict base64url, the
 * algorithm allow-list, JWK → EVP_PKEY for RSA and EC (keys generated here
 * with OpenSSL and compared with EVP_PKEY_eq), alg/key-type binding,
 * signatures (RS, PS, ES with JOSE r||s), and claim checks at fixed times.
 * Threading: single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../server/jwt.c"
#include "portico/util.h"

#define NOW 1800000000LL

/* ---- helpers ------------------------------------------------------------ */

static char *b64(const void *data, size_t n)
{
    char *out = malloc(4 * (n / 3 + 1) + 1);
    crypto_b64url_encode(data, n, out);
    return out;
}

static char *b64_bn(const EVP_PKEY *pkey, const char *param)
{
    BIGNUM *bn = NULL;
    assert_int_equal(EVP_PKEY_get_bn_param(pkey, param, &bn), 1);
    unsigned char buf[1024];
    int n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64(buf, (size_t)n);
}

/* A JWK (cJSON, caller deletes) for pkey's public half. */
static cJSON *jwk_for(EVP_PKEY *pkey, const char *kid, const char *alg)
{
    cJSON *j = cJSON_CreateObject();
    if (kid) cJSON_AddStringToObject(j, "kid", kid);
    if (alg) cJSON_AddStringToObject(j, "alg", alg);
    cJSON_AddStringToObject(j, "use", "sig");
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        cJSON_AddStringToObject(j, "kty", "RSA");
        char *n = b64_bn(pkey, OSSL_PKEY_PARAM_RSA_N), *e = b64_bn(pkey, OSSL_PKEY_PARAM_RSA_E);
        cJSON_AddStringToObject(j, "n", n);
        cJSON_AddStringToObject(j, "e", e);
        free(n);
        free(e);
    } else {
        char group[32];
        size_t glen = 0;
        assert_int_equal(EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                                        sizeof group, &glen),
                         1);
        bool p384 = strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0;
        size_t coord = p384 ? 48 : 32;
        unsigned char pub[1 + 2 * 48];
        size_t plen = 0;
        assert_int_equal(
            EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub, &plen),
            1);
        assert_int_equal(plen, 1 + 2 * coord);
        assert_int_equal(pub[0], 4);
        char *x = b64(pub + 1, coord), *y = b64(pub + 1 + coord, coord);
        cJSON_AddStringToObject(j, "kty", "EC");
        cJSON_AddStringToObject(j, "crv", p384 ? "P-384" : "P-256");
        cJSON_AddStringToObject(j, "x", x);
        cJSON_AddStringToObject(j, "y", y);
        free(x);
        free(y);
    }
    return j;
}

static EVP_PKEY *rsa_key(unsigned bits)
{
    EVP_PKEY *k = EVP_RSA_gen(bits);
    assert_non_null(k);
    return k;
}

static EVP_PKEY *ec_key(const char *curve)
{
    EVP_PKEY *k = EVP_EC_gen(curve);
    assert_non_null(k);
    return k;
}

/* Signs header.claims with pkey for alg ("RS256", "PS256", "ES256", ...);
 * returns the compact token (caller frees). */
static char *sign_token(const char *header, const char *claims, EVP_PKEY *pkey, const char *alg)
{
    char *h = b64(header, strlen(header)), *c = b64(claims, strlen(claims));
    size_t inlen = strlen(h) + 1 + strlen(c);
    char *input = malloc(inlen + 1);
    snprintf(input, inlen + 1, "%s.%s", h, c);
    const EVP_MD *md = strstr(alg, "384")   ? EVP_sha384()
                       : strstr(alg, "512") ? EVP_sha512()
                                            : EVP_sha256();
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    assert_int_equal(EVP_DigestSignInit(m, &pctx, md, NULL, pkey), 1);
    if (alg[0] == 'P') {
        assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
        assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0);
    }
    unsigned char sig[1024];
    size_t slen = sizeof sig;
    assert_int_equal(EVP_DigestSign(m, sig, &slen, (unsigned char *)input, inlen), 1);
    EVP_MD_CTX_free(m);
    unsigned char raw[96];
    const unsigned char *s = sig;
    if (alg[0] == 'E') {
        /* DER → JOSE r||s */
        size_t coord = strstr(alg, "384") ? 48 : 32;
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)slen);
        assert_non_null(es);
        BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)coord);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + coord, (int)coord);
        ECDSA_SIG_free(es);
        s = raw;
        slen = 2 * coord;
    }
    char *sb = b64(s, slen);
    size_t total = inlen + 1 + strlen(sb) + 1;
    char *tok = malloc(total);
    snprintf(tok, total, "%s.%s", input, sb);
    free(h);
    free(c);
    free(input);
    free(sb);
    return tok;
}

static struct jwt_key key_from(EVP_PKEY *pkey, const char *kid, const char *alg)
{
    cJSON *j = jwk_for(pkey, kid, alg);
    struct jwt_key k;
    char err[200];
    int rc = jwt_key_from_jwk(j, &k, err, sizeof err);
    cJSON_Delete(j);
    if (rc != JWT_OK) fail_msg("jwk: %s", err);
    return k;
}

/* Decodes and verifies token with key; returns the jwt_err. */
static int verify_with(const char *token, const struct jwt_key *k)
{
    struct jwt t;
    char err[200];
    int rc = jwt_decode(token, &t, err, sizeof err);
    if (rc != JWT_OK) return rc;
    rc = jwt_verify_signature(&t, k, err, sizeof err);
    jwt_cleanup(&t);
    return rc;
}

/* ---- base64url ---------------------------------------------------------- */

static void test_b64url_strict(void **state)
{
    (void)state;
    size_t n = 99;
    unsigned char *d = jwt_b64url_decode("", 0, &n);
    assert_non_null(d);
    assert_int_equal(n, 0);
    free(d);
    d = jwt_b64url_decode("QQ", 2, &n);
    assert_non_null(d);
    assert_int_equal(n, 1);
    assert_int_equal(d[0], 'A');
    free(d);
    /* Non-zero leftover bits: another spelling of "A". */
    assert_null(jwt_b64url_decode("QR", 2, &n));
    assert_null(jwt_b64url_decode("Q", 1, &n));    /* length % 4 == 1 */
    assert_null(jwt_b64url_decode("QQ==", 4, &n)); /* padding */
    assert_null(jwt_b64url_decode("a+b/", 4, &n)); /* standard alphabet */
    assert_null(jwt_b64url_decode("ab c", 4, &n));
    assert_null(jwt_b64url_decode("ab\0c", 4, &n));
    /* Round trips for every length mod 3. */
    unsigned char src[64];
    for (size_t i = 0; i < sizeof src; i++) src[i] = (unsigned char)(i * 37 + 250);
    for (size_t len = 0; len < sizeof src; len++) {
        char *e = b64(src, len);
        d = jwt_b64url_decode(e, strlen(e), &n);
        assert_non_null(d);
        assert_int_equal(n, len);
        assert_memory_equal(d, src, len);
        free(d);
        free(e);
    }
}

static void test_is_compact(void **state)
{
    (void)state;
    assert_true(jwt_is_compact("a.b.c"));
    assert_true(jwt_is_compact("a.b.")); /* unsigned shape; rejected later */
    assert_false(jwt_is_compact("a.b"));
    assert_false(jwt_is_compact("a.b.c.d"));
    assert_false(jwt_is_compact(".b.c"));
    assert_false(jwt_is_compact("a.b=.c"));
    assert_false(jwt_is_compact("pk_abcdef_0123456789abcdef"));
    assert_false(jwt_is_compact("test-admin-key-0123456789abcdef"));
    assert_false(jwt_is_compact(NULL));
}

/* ---- algorithms --------------------------------------------------------- */

static void test_alg_allow_list(void **state)
{
    (void)state;
    static const char *const bad[] = {"none",  "None",  "NONE",    "HS256", "HS384",
                                      "HS512", "rs256", "RS256 ",  "ES512", "PS384",
                                      "EdDSA", "",      "RSA-OAEP"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(jwt_alg_parse(bad[i]), JWT_ALG_UNSUPPORTED);
    assert_int_equal(jwt_alg_parse(NULL), JWT_ALG_UNSUPPORTED);
    assert_int_equal(jwt_alg_parse("RS256"), JWT_RS256);
    assert_int_equal(jwt_alg_parse("RS384"), JWT_RS384);
    assert_int_equal(jwt_alg_parse("RS512"), JWT_RS512);
    assert_int_equal(jwt_alg_parse("PS256"), JWT_PS256);
    assert_int_equal(jwt_alg_parse("ES256"), JWT_ES256);
    assert_int_equal(jwt_alg_parse("ES384"), JWT_ES384);
}

static void test_alg_key_binding(void **state)
{
    (void)state;
    assert_true(jwt_alg_fits(JWT_RS256, JWT_KEY_RSA));
    assert_true(jwt_alg_fits(JWT_RS512, JWT_KEY_RSA));
    assert_true(jwt_alg_fits(JWT_PS256, JWT_KEY_RSA));
    assert_true(jwt_alg_fits(JWT_ES256, JWT_KEY_EC_P256));
    assert_true(jwt_alg_fits(JWT_ES384, JWT_KEY_EC_P384));
    assert_false(jwt_alg_fits(JWT_RS256, JWT_KEY_EC_P256));
    assert_false(jwt_alg_fits(JWT_PS256, JWT_KEY_EC_P384));
    assert_false(jwt_alg_fits(JWT_ES256, JWT_KEY_RSA));
    assert_false(jwt_alg_fits(JWT_ES256, JWT_KEY_EC_P384));
    assert_false(jwt_alg_fits(JWT_ES384, JWT_KEY_EC_P256));
    assert_false(jwt_alg_fits(JWT_ALG_UNSUPPORTED, JWT_KEY_RSA));
}

static void test_decode_rejects_bad_headers(void **state)
{
    (void)state;
    struct jwt t;
    char err[200];
    static const struct {
        const char *header;
        int want;
    } cases[] = {
        {"{\"alg\":\"none\"}", JWT_ERR_ALG},
        {"{\"alg\":\"HS256\",\"typ\":\"JWT\"}", JWT_ERR_ALG},
        {"{\"alg\":\"RS256\",\"crit\":[\"exp\"]}", JWT_ERR_ALG},
        {"{\"alg\":\"RS256\",\"jwk\":{}}", JWT_ERR_ALG},
        {"{\"alg\":\"RS256\",\"jku\":\"https://evil\"}", JWT_ERR_ALG},
        {"{\"alg\":\"RS256\",\"x5c\":[]}", JWT_ERR_ALG},
        {"{\"typ\":\"JWT\"}", JWT_ERR_MALFORMED},
        {"{\"alg\":256}", JWT_ERR_MALFORMED},
        {"{\"alg\":\"RS256\",\"kid\":7}", JWT_ERR_MALFORMED},
        {"{\"alg\":\"RS256\",\"kid\":\"\"}", JWT_ERR_MALFORMED},
        {"{\"alg\":\"RS256\",\"typ\":[]}", JWT_ERR_MALFORMED},
        {"[\"RS256\"]", JWT_ERR_MALFORMED},
        {"not json", JWT_ERR_MALFORMED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *h = b64(cases[i].header, strlen(cases[i].header));
        char tok[512];
        snprintf(tok, sizeof tok, "%s.eyJzdWIiOiJ4In0.c2ln", h);
        free(h);
        int rc = jwt_decode(tok, &t, err, sizeof err);
        if (rc != cases[i].want)
            fail_msg("header %s: got %d want %d (%s)", cases[i].header, rc, cases[i].want, err);
    }
    /* Payload must be an object; a signature must be present. */
    assert_int_equal(jwt_decode("eyJhbGciOiJSUzI1NiJ9.WzFd.c2ln", &t, err, sizeof err),
                     JWT_ERR_MALFORMED);
    assert_int_equal(jwt_decode("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.", &t, err, sizeof err),
                     JWT_ERR_MALFORMED);
    assert_int_equal(jwt_decode("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0", &t, err, sizeof err),
                     JWT_ERR_MALFORMED);
    /* A good header decodes and exposes kid and typ. */
    assert_int_equal(
        jwt_decode("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.c2ln", &t,
                   err, sizeof err),
        JWT_OK);
    assert_int_equal(t.alg, JWT_RS256);
    assert_string_equal(t.kid, "k1");
    assert_string_equal(t.typ, "JWT");
    assert_int_equal(t.sig_len, 3);
    jwt_cleanup(&t);
}

/* ---- JWK → key ---------------------------------------------------------- */

static void test_jwk_rsa_roundtrip_and_signatures(void **state)
{
    (void)state;
    EVP_PKEY *priv = rsa_key(2048);
    struct jwt_key k = key_from(priv, "r1", NULL);
    assert_int_equal(k.type, JWT_KEY_RSA);
    assert_string_equal(k.kid, "r1");
    assert_int_equal(EVP_PKEY_eq(k.pkey, priv), 1);

    const char *claims = "{\"sub\":\"x\"}";
    static const char *const algs[] = {"RS256", "RS384", "RS512", "PS256"};
    for (size_t i = 0; i < 4; i++) {
        char header[64];
        snprintf(header, sizeof header, "{\"alg\":\"%s\",\"kid\":\"r1\"}", algs[i]);
        char *tok = sign_token(header, claims, priv, algs[i]);
        assert_int_equal(verify_with(tok, &k), JWT_OK);
        /* Other claims under the same signature do not verify. */
        char *other = sign_token(header, "{\"sub\":\"y\"}", priv, algs[i]);
        char *sig = strrchr(tok, '.');
        char *spliced = malloc(strlen(other) + strlen(sig) + 1);
        memcpy(spliced, other, (size_t)(strrchr(other, '.') - other));
        spliced[strrchr(other, '.') - other] = '\0';
        memcpy(spliced + strlen(spliced), sig, strlen(sig) + 1);
        assert_int_equal(verify_with(spliced, &k), JWT_ERR_SIGNATURE);
        free(spliced);
        free(other);
        free(tok);
    }
    /* A PSS signature presented as RS256 fails, and the reverse. */
    char *pss = sign_token("{\"alg\":\"RS256\"}", claims, priv, "PS256");
    assert_int_equal(verify_with(pss, &k), JWT_ERR_SIGNATURE);
    free(pss);
    char *pkcs = sign_token("{\"alg\":\"PS256\"}", claims, priv, "RS256");
    assert_int_equal(verify_with(pkcs, &k), JWT_ERR_SIGNATURE);
    free(pkcs);
    /* RS256 signed by another key. */
    EVP_PKEY *other = rsa_key(2048);
    char *tok = sign_token("{\"alg\":\"RS256\"}", claims, other, "RS256");
    assert_int_equal(verify_with(tok, &k), JWT_ERR_SIGNATURE);
    free(tok);
    EVP_PKEY_free(other);

    /* A JWK with alg RS256 binds the key to RS256 only. */
    struct jwt_key bound = key_from(priv, "r2", "RS256");
    char *ps = sign_token("{\"alg\":\"PS256\"}", claims, priv, "PS256");
    assert_int_equal(verify_with(ps, &bound), JWT_ERR_ALG);
    free(ps);
    char *es = sign_token("{\"alg\":\"RS256\"}", claims, priv, "RS256");
    assert_int_equal(verify_with(es, &bound), JWT_OK);
    free(es);
    jwt_key_cleanup(&bound);
    jwt_key_cleanup(&k);
    EVP_PKEY_free(priv);
}

static void test_jwk_ec_roundtrip_and_signatures(void **state)
{
    (void)state;
    EVP_PKEY *p256 = ec_key("P-256"), *p384 = ec_key("P-384");
    struct jwt_key k256 = key_from(p256, "e1", NULL), k384 = key_from(p384, "e2", "ES384");
    assert_int_equal(k256.type, JWT_KEY_EC_P256);
    assert_int_equal(k384.type, JWT_KEY_EC_P384);
    assert_int_equal(EVP_PKEY_eq(k256.pkey, p256), 1);
    assert_int_equal(EVP_PKEY_eq(k384.pkey, p384), 1);
    const char *claims = "{\"sub\":\"x\"}";
    char *t256 = sign_token("{\"alg\":\"ES256\"}", claims, p256, "ES256");
    char *t384 = sign_token("{\"alg\":\"ES384\"}", claims, p384, "ES384");
    assert_int_equal(verify_with(t256, &k256), JWT_OK);
    assert_int_equal(verify_with(t384, &k384), JWT_OK);
    /* Curve binding: ES256 token against the P-384 key and vice versa. */
    assert_int_equal(verify_with(t256, &k384), JWT_ERR_ALG);
    assert_int_equal(verify_with(t384, &k256), JWT_ERR_ALG);
    /* Type binding: RS256 claimed for an EC key. */
    char *rs = sign_token("{\"alg\":\"RS256\"}", claims, p256, "ES256");
    assert_int_equal(verify_with(rs, &k256), JWT_ERR_ALG);
    free(rs);
    /* A DER signature (not r||s) is refused. */
    struct jwt t;
    char err[200];
    assert_int_equal(jwt_decode(t256, &t, err, sizeof err), JWT_OK);
    t.sig_len = 70;
    assert_int_equal(jwt_verify_signature(&t, &k256, err, sizeof err), JWT_ERR_SIGNATURE);
    jwt_cleanup(&t);
    free(t256);
    free(t384);
    jwt_key_cleanup(&k256);
    jwt_key_cleanup(&k384);
    EVP_PKEY_free(p256);
    EVP_PKEY_free(p384);
}

static int jwk_error(const char *json)
{
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    struct jwt_key k;
    char err[200];
    int rc = jwt_key_from_jwk(j, &k, err, sizeof err);
    if (rc == JWT_OK) jwt_key_cleanup(&k);
    cJSON_Delete(j);
    return rc;
}

static void test_jwk_rejects_bad_keys(void **state)
{
    (void)state;
    /* Short RSA keys. */
    EVP_PKEY *small = rsa_key(1024);
    cJSON *j = jwk_for(small, "s", NULL);
    struct jwt_key k;
    char err[200];
    assert_int_not_equal(jwt_key_from_jwk(j, &k, err, sizeof err), JWT_OK);
    assert_non_null(strstr(err, "2048"));
    cJSON_Delete(j);
    EVP_PKEY_free(small);

    /* An EC point that is not on the curve. */
    EVP_PKEY *ec = ec_key("P-256");
    j = jwk_for(ec, "e", NULL);
    cJSON *y = cJSON_GetObjectItem(j, "y");
    char *bad = util_strdup(y->valuestring);
    bad[5] = bad[5] == 'A' ? 'B' : 'A';
    cJSON_SetValuestring(y, bad);
    free(bad);
    assert_int_not_equal(jwt_key_from_jwk(j, &k, err, sizeof err), JWT_OK);
    /* Coordinates of the wrong length for the curve. */
    cJSON_SetValuestring(cJSON_GetObjectItem(j, "crv"), "P-384");
    assert_int_not_equal(jwt_key_from_jwk(j, &k, err, sizeof err), JWT_OK);
    cJSON_Delete(j);
    EVP_PKEY_free(ec);

    assert_int_equal(jwk_error("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}"), JWT_ERR_ALG);
    assert_int_equal(jwk_error("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}"),
                     JWT_ERR_ALG);
    assert_int_equal(jwk_error("{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}"),
                     JWT_ERR_ALG);
    assert_int_equal(jwk_error("{\"kty\":\"RSA\",\"alg\":\"HS256\",\"n\":\"AQAB\",\"e\":\"AQAB\"}"),
                     JWT_ERR_ALG);
    assert_int_equal(jwk_error("{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AA\",\"y\":\"AA\"}"),
                     JWT_ERR_MALFORMED);
    assert_int_equal(jwk_error("{\"kty\":\"RSA\",\"e\":\"AQAB\"}"), JWT_ERR_MALFORMED);
    assert_int_equal(jwk_error("{\"kty\":\"RSA\",\"n\":\"a+b/\",\"e\":\"AQAB\"}"),
                     JWT_ERR_MALFORMED);
    assert_int_equal(jwk_error("{\"n\":\"AQAB\"}"), JWT_ERR_MALFORMED);
    assert_int_equal(jwk_error("[]"), JWT_ERR_MALFORMED);

    /* An alg in the JWK that does not fit the key type. */
    EVP_PKEY *p256 = ec_key("P-256");
    j = jwk_for(p256, "e", "RS256");
    assert_int_equal(jwt_key_from_jwk(j, &k, err, sizeof err), JWT_ERR_ALG);
    cJSON_Delete(j);
    EVP_PKEY_free(p256);
}

static void test_keyset_parse_and_find(void **state)
{
    (void)state;
    EVP_PKEY *rsa = rsa_key(2048), *ec = ec_key("P-256");
    cJSON *doc = cJSON_CreateObject();
    cJSON *keys = cJSON_AddArrayToObject(doc, "keys");
    cJSON_AddItemToArray(keys, jwk_for(rsa, "r", "RS256"));
    cJSON_AddItemToArray(keys, jwk_for(ec, "e", NULL));
    cJSON_AddItemToArray(keys, cJSON_Parse("{\"kty\":\"oct\",\"kid\":\"h\",\"k\":\"c2VjcmV0\"}"));
    cJSON_AddItemToArray(
        keys,
        cJSON_Parse(
            "{\"kty\":\"RSA\",\"kid\":\"enc\",\"use\":\"enc\",\"n\":\"AQAB\",\"e\":\"AQAB\"}"));
    char *text = cJSON_PrintUnformatted(doc);
    struct jwt_keyset *ks = NULL;
    char err[200];
    assert_int_equal(jwt_keyset_parse(text, strlen(text), &ks, err, sizeof err), JWT_OK);
    assert_int_equal(jwt_keyset_count(ks), 2); /* oct and enc skipped */
    const struct jwt_key *k = NULL;
    assert_int_equal(jwt_keyset_find(ks, "r", JWT_RS256, &k, err, sizeof err), JWT_OK);
    assert_string_equal(k->kid, "r");
    assert_int_equal(jwt_keyset_find(ks, "e", JWT_ES256, &k, err, sizeof err), JWT_OK);
    assert_string_equal(k->kid, "e");
    assert_int_equal(jwt_keyset_find(ks, "h", JWT_RS256, &k, err, sizeof err), JWT_ERR_NO_KEY);
    assert_int_equal(jwt_keyset_find(ks, "nope", JWT_RS256, &k, err, sizeof err), JWT_ERR_NO_KEY);
    assert_int_equal(jwt_keyset_find(ks, "e", JWT_RS256, &k, err, sizeof err), JWT_ERR_ALG);
    assert_int_equal(jwt_keyset_find(ks, "r", JWT_PS256, &k, err, sizeof err), JWT_ERR_ALG);
    /* No kid: the only key of the fitting type. */
    assert_int_equal(jwt_keyset_find(ks, NULL, JWT_ES256, &k, err, sizeof err), JWT_OK);
    assert_string_equal(k->kid, "e");
    assert_int_equal(jwt_keyset_find(ks, NULL, JWT_ES384, &k, err, sizeof err), JWT_ERR_NO_KEY);
    /* References keep the set alive. */
    struct jwt_keyset *ref = jwt_keyset_ref(ks);
    jwt_keyset_unref(ks);
    assert_int_equal(jwt_keyset_count(ref), 2);
    jwt_keyset_unref(ref);
    free(text);
    cJSON_Delete(doc);

    /* Nothing usable, or not a JWKS at all. */
    const char *none = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"}]}";
    assert_int_not_equal(jwt_keyset_parse(none, strlen(none), &ks, err, sizeof err), JWT_OK);
    assert_int_not_equal(jwt_keyset_parse("[]", 2, &ks, err, sizeof err), JWT_OK);
    assert_int_not_equal(jwt_keyset_parse("{\"keys\":{}}", 11, &ks, err, sizeof err), JWT_OK);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

/* ---- claims ------------------------------------------------------------- */

/* Checks claims (JSON text) with typ (may be NULL) against e. */
static int claims_check(const char *claims, const char *typ, const struct jwt_expect *e)
{
    struct jwt t;
    memset(&t, 0, sizeof t);
    t.claims = cJSON_Parse(claims);
    assert_non_null(t.claims);
    t.typ = typ;
    char err[200];
    int rc = jwt_check_claims(&t, e, err, sizeof err);
    cJSON_Delete(t.claims);
    return rc;
}

#define CLAIMS(extra)                                                                              \
    "{\"iss\":\"https://idp\",\"sub\":\"u1\",\"aud\":\"portico\",\"exp\":1800000300,"              \
    "\"iat\":1800000000" extra "}"

static void test_claims_times_with_skew(void **state)
{
    (void)state;
    struct jwt_expect e = {.issuer = "https://idp", .audience = "portico", .now = NOW, .skew = 30};
    char buf[256];
    assert_int_equal(claims_check(CLAIMS(""), NULL, &e), JWT_OK);
    /* exp must be > now - skew. */
    snprintf(buf, sizeof buf,
             "{\"iss\":\"https://idp\",\"sub\":\"u\",\"aud\":\"portico\",\"exp\":%lld}", NOW - 29);
    assert_int_equal(claims_check(buf, NULL, &e), JWT_OK);
    snprintf(buf, sizeof buf,
             "{\"iss\":\"https://idp\",\"sub\":\"u\",\"aud\":\"portico\",\"exp\":%lld}", NOW - 30);
    assert_int_equal(claims_check(buf, NULL, &e), JWT_ERR_CLAIMS);
    snprintf(buf, sizeof buf,
             "{\"iss\":\"https://idp\",\"sub\":\"u\",\"aud\":\"portico\",\"exp\":%lld.9}",
             NOW - 31);
    assert_int_equal(claims_check(buf, NULL, &e), JWT_ERR_CLAIMS);
    /* exp is required and numeric. */
    assert_int_equal(
        claims_check("{\"iss\":\"https://idp\",\"sub\":\"u\",\"aud\":\"portico\"}", NULL, &e),
        JWT_ERR_CLAIMS);
    assert_int_equal(
        claims_check(
            "{\"iss\":\"https://idp\",\"sub\":\"u\",\"aud\":\"portico\",\"exp\":\"1900000000\"}",
            NULL, &e),
        JWT_ERR_CLAIMS);
    assert_int_equal(
        claims_check("{\"iss\":\"https://idp\",\"sub\":\"u\",\"aud\":\"portico\",\"exp\":-1}", NULL,
                     &e),
        JWT_ERR_CLAIMS);
    /* nbf and iat may be up to skew in the future. */
    snprintf(buf, sizeof buf, CLAIMS(",\"nbf\":%lld"), NOW + 30);
    assert_int_equal(claims_check(buf, NULL, &e), JWT_OK);
    snprintf(buf, sizeof buf, CLAIMS(",\"nbf\":%lld"), NOW + 31);
    assert_int_equal(claims_check(buf, NULL, &e), JWT_ERR_CLAIMS);
    snprintf(buf, sizeof buf,
             "{\"iss\":\"https://"
             "idp\",\"sub\":\"u\",\"aud\":\"portico\",\"exp\":1800000300,\"iat\":%lld}",
             NOW + 31);
    assert_int_equal(claims_check(buf, NULL, &e), JWT_ERR_CLAIMS);
    assert_int_equal(claims_check(CLAIMS(",\"nbf\":true"), NULL, &e), JWT_ERR_CLAIMS);
    /* ID tokens need iat. */
    e.id_token = true;
    assert_int_equal(
        claims_check(
            "{\"iss\":\"https://idp\",\"sub\":\"u\",\"aud\":\"portico\",\"exp\":1800000300}", NULL,
            &e),
        JWT_ERR_CLAIMS);
    assert_int_equal(claims_check(CLAIMS(""), NULL, &e), JWT_OK);
}

static void test_claims_iss_aud_azp_sub(void **state)
{
    (void)state;
    struct jwt_expect e = {.issuer = "https://idp", .audience = "portico", .now = NOW, .skew = 30};
    assert_int_equal(
        claims_check(
            "{\"iss\":\"https://idp/\",\"sub\":\"u\",\"aud\":\"portico\",\"exp\":1800000300}", NULL,
            &e),
        JWT_ERR_CLAIMS);
    assert_int_equal(
        claims_check(
            "{\"iss\":\"https://IDP\",\"sub\":\"u\",\"aud\":\"portico\",\"exp\":1800000300}", NULL,
            &e),
        JWT_ERR_CLAIMS);
    assert_int_equal(
        claims_check("{\"sub\":\"u\",\"aud\":\"portico\",\"exp\":1800000300}", NULL, &e),
        JWT_ERR_CLAIMS);
    assert_int_equal(
        claims_check("{\"iss\":\"https://"
                     "idp\",\"sub\":\"u\",\"aud\":[\"a\",\"portico\"],\"exp\":1800000300}",
                     NULL, &e),
        JWT_OK);
    assert_int_equal(
        claims_check(
            "{\"iss\":\"https://idp\",\"sub\":\"u\",\"aud\":[\"a\",\"b\"],\"exp\":1800000300}",
            NULL, &e),
        JWT_ERR_CLAIMS);
    assert_int_equal(
        claims_check("{\"iss\":\"https://idp\",\"sub\":\"u\",\"aud\":[],\"exp\":1800000300}", NULL,
                     &e),
        JWT_ERR_CLAIMS);
    assert_int_equal(
        claims_check(
            "{\"iss\":\"https://idp\",\"sub\":\"u\",\"aud\":[\"portico\",7],\"exp\":1800000300}",
            NULL, &e),
        JWT_ERR_CLAIMS);
    assert_int_equal(
        claims_check(
            "{\"iss\":\"https://idp\",\"sub\":\"u\",\"aud\":\"porticoX\",\"exp\":1800000300}", NULL,
            &e),
        JWT_ERR_CLAIMS);
    assert_int_equal(
        claims_check("{\"iss\":\"https://idp\",\"sub\":\"u\",\"exp\":1800000300}", NULL, &e),
        JWT_ERR_CLAIMS);
    assert_int_equal(
        claims_check(
            "{\"iss\":\"https://idp\",\"sub\":\"\",\"aud\":\"portico\",\"exp\":1800000300}", NULL,
            &e),
        JWT_ERR_CLAIMS);
    assert_int_equal(
        claims_check("{\"iss\":\"https://idp\",\"sub\":5,\"aud\":\"portico\",\"exp\":1800000300}",
                     NULL, &e),
        JWT_ERR_CLAIMS);
    /* azp is checked for ID tokens only. */
    const char *azp_other = CLAIMS(",\"azp\":\"other-client\"");
    assert_int_equal(claims_check(azp_other, NULL, &e), JWT_OK);
    e.id_token = true;
    e.client_id = "portico";
    assert_int_equal(claims_check(azp_other, NULL, &e), JWT_ERR_CLAIMS);
    assert_int_equal(claims_check(CLAIMS(",\"azp\":\"portico\""), NULL, &e), JWT_OK);
}

static void test_claims_nonce_and_typ(void **state)
{
    (void)state;
    struct jwt_expect e = {.issuer = "https://idp",
                           .audience = "portico",
                           .client_id = "portico",
                           .nonce = "n-123",
                           .now = NOW,
                           .skew = 30,
                           .id_token = true};
    assert_int_equal(claims_check(CLAIMS(",\"nonce\":\"n-123\""), NULL, &e), JWT_OK);
    assert_int_equal(claims_check(CLAIMS(",\"nonce\":\"n-124\""), NULL, &e), JWT_ERR_CLAIMS);
    assert_int_equal(claims_check(CLAIMS(",\"nonce\":\"n-12\""), NULL, &e), JWT_ERR_CLAIMS);
    assert_int_equal(claims_check(CLAIMS(""), NULL, &e), JWT_ERR_CLAIMS);
    /* ID tokens: typ absent or JWT; access tokens also at+jwt. */
    assert_int_equal(claims_check(CLAIMS(",\"nonce\":\"n-123\""), "JWT", &e), JWT_OK);
    assert_int_equal(claims_check(CLAIMS(",\"nonce\":\"n-123\""), "at+jwt", &e), JWT_ERR_CLAIMS);
    e.id_token = false;
    e.nonce = NULL;
    assert_int_equal(claims_check(CLAIMS(""), "at+jwt", &e), JWT_OK);
    assert_int_equal(claims_check(CLAIMS(""), "application/at+jwt", &e), JWT_OK);
    assert_int_equal(claims_check(CLAIMS(""), "jwt", &e), JWT_OK);
    assert_int_equal(claims_check(CLAIMS(""), "logout+jwt", &e), JWT_ERR_CLAIMS);
    assert_int_equal(claims_check(CLAIMS(""), "", &e), JWT_ERR_CLAIMS);
}

static void test_claim_path(void **state)
{
    (void)state;
    cJSON *c = cJSON_Parse(
        "{\"realm_access\":{\"roles\":[\"viewer\"]},\"a\":{\"b\":{\"c\":\"d\"}},\"s\":\"x\"}");
    const cJSON *v = jwt_claim_path(c, "realm_access.roles");
    assert_true(cJSON_IsArray(v));
    v = jwt_claim_path(c, "a.b.c");
    assert_string_equal(v->valuestring, "d");
    assert_null(jwt_claim_path(c, "a.x.c"));
    assert_null(jwt_claim_path(c, "s.t"));
    assert_null(jwt_claim_path(c, "a..b"));
    assert_null(jwt_claim_path(c, ""));
    assert_null(jwt_claim_path(c, ".a"));
    assert_true(cJSON_IsString(jwt_claim_path(c, "s")));
    cJSON_Delete(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_strict),
        cmocka_unit_test(test_is_compact),
        cmocka_unit_test(test_alg_allow_list),
        cmocka_unit_test(test_alg_key_binding),
        cmocka_unit_test(test_decode_rejects_bad_headers),
        cmocka_unit_test(test_jwk_rsa_roundtrip_and_signatures),
        cmocka_unit_test(test_jwk_ec_roundtrip_and_signatures),
        cmocka_unit_test(test_jwk_rejects_bad_keys),
        cmocka_unit_test(test_keyset_parse_and_find),
        cmocka_unit_test(test_claims_times_with_skew),
        cmocka_unit_test(test_claims_iss_aud_azp_sub),
        cmocka_unit_test(test_claims_nonce_and_typ),
        cmocka_unit_test(test_claim_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
