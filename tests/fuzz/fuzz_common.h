/*
 * fuzz_common.h — helpers shared by the libFuzzer targets: a NUL-terminated
 * copy of the input, a sink for diagnostics, and CHECK(), which aborts (a
 * crash libFuzzer records) when a property the code promises does not hold.
 * Threading: libFuzzer runs a target on one thread.
 */
#ifndef PORTICO_FUZZ_COMMON_H
#define PORTICO_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #cond);            \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (embedded NULs kept); free() it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A stream that discards what is written (error reports). */
static inline FILE *fuzz_devnull(void)
{
    static FILE *f;
    if (!f) f = fopen("/dev/null", "w");
    if (!f) abort();
    return f;
}

/* A per-process temporary file path (for loaders that read files). */
static inline const char *fuzz_tmpfile(const char *tag)
{
    static char path[128];
    if (!path[0]) {
        const char *dir = getenv("FUZZ_TMPDIR");
        snprintf(path, sizeof path, "%s/portico-fuzz-%s-%d", dir && *dir ? dir : "/tmp", tag,
                 (int)getpid());
    }
    return path;
}

static inline void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
}

#endif
