/*
 * util.h — small pure helpers shared by every module: clocks and RFC 3339
 * times, checked number parsing, UTF-8 validation and case folding, and a
 * growable string buffer with a hard cap.
 * Threading: pure functions; a strbuf belongs to one thread.
 */
#ifndef PORTICO_UTIL_H
#define PORTICO_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wall clock in milliseconds since the epoch; monotonic clock in microseconds. */
int64_t util_now_ms(void);
int64_t util_mono_us(void);
/* Formats ms-since-epoch as RFC 3339 UTC with milliseconds
 * ("2026-11-22T08:00:00.123Z") into out (>= 25 bytes). */
void util_time_format(int64_t ms, char out[32]);
/* Parses RFC 3339 ("2026-11-22T08:00:00Z", optional fraction, Z or +hh:mm)
 * into ms since the epoch; 0 on success, -1 if malformed. */
int util_time_parse(const char *s, int64_t *out_ms);

/* Parses a whole decimal integer in [min, max]; no sign junk, no trailing
 * characters, no overflow. 0 on success, -1 otherwise (*out untouched). */
int util_parse_int(const char *s, long long min, long long max, long long *out);
/* Parses a finite decimal number in [min, max]; 0 on success. */
int util_parse_double(const char *s, double min, double max, double *out);

/* True when s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
bool util_utf8_valid(const char *s, size_t n);
/* Number of code points in valid UTF-8. */
size_t util_utf8_len(const char *s, size_t n);
/* Lower-cases ASCII and the common Latin, Greek and Cyrillic letters.
 * Returns a malloc'd string the caller frees with free(); NULL on OOM. */
char *util_utf8_lower(const char *s);
/* True when s contains a control character (below 0x20 or 0x7f) except
 * those allowed ("\t\n\r" when allow_ws). */
bool util_has_control(const char *s, bool allow_ws);

/* strdup that returns NULL for NULL. Caller frees with free(). */
char *util_strdup(const char *s);
/* Copies src into dst of size n, always NUL-terminating; returns true when it
 * fit without truncation. */
bool util_copy(char *dst, size_t n, const char *src);
/* Trims ASCII whitespace at both ends, in place; returns s. */
char *util_trim(char *s);

/* A growable NUL-terminated buffer with a cap; once an append would pass the
 * cap or memory runs out, `failed` is set and further appends are ignored. */
struct strbuf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit;
    bool failed;
};
void strbuf_init(struct strbuf *b, size_t limit);
void strbuf_cleanup(struct strbuf *b);
void strbuf_append(struct strbuf *b, const char *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the buffer to the caller (free() it); the strbuf is reset. NULL if
 * the buffer failed. */
char *strbuf_take(struct strbuf *b);

#endif
