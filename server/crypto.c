/*
 * crypto.c — random bytes, hashes, MACs, constant-time compares, UUIDs and
 * base64url on OpenSSL 3. Threading: safe from any thread; the only state is
 * the random key of crypto_secret_eq, made once under pthread_once.
 */
#include "portico/crypto.h"

#include <ctype.h>
#include <pthread.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>

int crypto_random(void *buf, size_t n)
{
    if (n > (size_t)INT32_MAX) return -1;
    return RAND_bytes(buf, (int)n) == 1 ? 0 : -1;
}

void crypto_hex(const void *data, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void crypto_sha256(const void *data, size_t n, unsigned char out[CRYPTO_SHA256_LEN])
{
    unsigned int len = 0;
    EVP_Digest(data, n, out, &len, EVP_sha256(), NULL);
}

void crypto_sha256_hex(const void *data, size_t n, char out[CRYPTO_SHA256_HEX_LEN + 1])
{
    unsigned char md[CRYPTO_SHA256_LEN];
    crypto_sha256(data, n, md);
    crypto_hex(md, sizeof md, out);
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                        unsigned char out[CRYPTO_SHA256_LEN])
{
    unsigned int len = CRYPTO_SHA256_LEN;
    HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &len);
}

void crypto_hmac_sha256_hex(const void *key, size_t keylen, const void *data, size_t n,
                            char out[CRYPTO_SHA256_HEX_LEN + 1])
{
    unsigned char md[CRYPTO_SHA256_LEN];
    crypto_hmac_sha256(key, keylen, data, n, md);
    crypto_hex(md, sizeof md, out);
}

bool crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (!a || !b || alen != blen) return false;
    return CRYPTO_memcmp(a, b, alen) == 0;
}

bool crypto_streq(const char *a, const char *b)
{
    if (!a || !b) return false;
    return crypto_equal(a, strlen(a), b, strlen(b));
}

static unsigned char secret_eq_key[CRYPTO_SHA256_LEN];
static pthread_once_t secret_eq_once = PTHREAD_ONCE_INIT;

static void secret_eq_init(void)
{
    if (crypto_random(secret_eq_key, sizeof secret_eq_key) != 0)
        crypto_sha256("portico-secret-eq", 17, secret_eq_key); /* still fixed-size */
}

bool crypto_secret_eq(const char *presented, const char *expected)
{
    if (!presented || !expected) return false;
    pthread_once(&secret_eq_once, secret_eq_init);
    unsigned char a[CRYPTO_SHA256_LEN], b[CRYPTO_SHA256_LEN];
    crypto_hmac_sha256(secret_eq_key, sizeof secret_eq_key, presented, strlen(presented), a);
    crypto_hmac_sha256(secret_eq_key, sizeof secret_eq_key, expected, strlen(expected), b);
    return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

int crypto_uuid(char out[CRYPTO_UUID_LEN + 1])
{
    unsigned char b[16];
    char hex[33];
    if (crypto_random(b, sizeof b) != 0) return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    crypto_hex(b, sizeof b, hex);
    memcpy(out, hex, 8);
    out[8] = '-';
    memcpy(out + 9, hex + 8, 4);
    out[13] = '-';
    memcpy(out + 14, hex + 12, 4);
    out[18] = '-';
    memcpy(out + 19, hex + 16, 4);
    out[23] = '-';
    memcpy(out + 24, hex + 20, 12);
    out[36] = '\0';
    return 0;
}

bool crypto_is_uuid(const char *s)
{
    if (!s || strlen(s) != CRYPTO_UUID_LEN) return false;
    for (int i = 0; i < CRYPTO_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

static const char b64url_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t crypto_b64url_encode(const void *data, size_t n, char *out)
{
    const unsigned char *p = data;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
        out[o++] = b64url_chars[(v >> 18) & 63];
        out[o++] = b64url_chars[(v >> 12) & 63];
        out[o++] = b64url_chars[(v >> 6) & 63];
        out[o++] = b64url_chars[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = b64url_chars[(v >> 18) & 63];
        out[o++] = b64url_chars[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8);
        out[o++] = b64url_chars[(v >> 18) & 63];
        out[o++] = b64url_chars[(v >> 12) & 63];
        out[o++] = b64url_chars[(v >> 6) & 63];
    }
    out[o] = '\0';
    return o;
}

static int b64url_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-' || c == '+') return 62;
    if (c == '_' || c == '/') return 63;
    return -1;
}

long crypto_b64url_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    while (inlen > 0 && in[inlen - 1] == '=') inlen--;
    if (inlen % 4 == 1) return -1;
    for (size_t i = 0; i < inlen; i++) {
        int v = b64url_value((unsigned char)in[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= outcap) return -1;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    return (long)o;
}
