/*
 * fuzz_b64url.c — crypto_b64url_decode (JWT segments, signed cookies) with
 * the output buffer size the header promises is enough, and encode/decode
 * round trips.
 * Properties: decoding never writes past strlen(in)*3/4+3 bytes, returns -1
 * or a length within the buffer; an exact-size buffer is enough; decoding
 * the re-encoding gives the same bytes; encode then decode is the identity.
 * Threading: single-threaded (libFuzzer).
 */
#include "portico/crypto.h"

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16 * 1024) return -1;
    const char *in = (const char *)data;
    size_t cap = size * 3 / 4 + 3;
    unsigned char *out = malloc(cap);
    if (!out) abort();
    long n = crypto_b64url_decode(in, size, out, cap);
    CHECK(n >= -1 && n <= (long)cap);
    if (n >= 0) {
        char *enc = malloc(4 * ((size_t)n / 3 + 1) + 1);
        if (!enc) abort();
        size_t el = crypto_b64url_encode(out, (size_t)n, enc);
        CHECK(el == strlen(enc));
        unsigned char *back = malloc((size_t)n + 3);
        if (!back) abort();
        long m = crypto_b64url_decode(enc, el, back, (size_t)n + 3);
        CHECK(m == n && memcmp(back, out, (size_t)n) == 0);
        free(back);
        free(enc);
    }
    /* An exact-size buffer must be enough too (or rejected, never overrun). */
    if (n > 0) {
        unsigned char *exact = malloc((size_t)n);
        if (!exact) abort();
        CHECK(crypto_b64url_decode(in, size, exact, (size_t)n) == n);
        free(exact);
    }
    free(out);

    /* Encode the raw bytes and decode them back. */
    char *enc = malloc(4 * (size / 3 + 1) + 1);
    if (!enc) abort();
    size_t el = crypto_b64url_encode(data, size, enc);
    unsigned char *dec = malloc(size + 3);
    if (!dec) abort();
    long m = crypto_b64url_decode(enc, el, dec, size + 3);
    CHECK(m == (long)size && (size == 0 || memcmp(dec, data, size) == 0));
    free(dec);
    free(enc);
    return 0;
}
