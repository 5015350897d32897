/*
 * fuzz_keysfile.c — auth.keys_file: interpolation and the YAML list of
 * {name, key | sha256, role, tenant}, through apikeys_load_file on a
 * temporary file (the loader's only entry point), then a lookup.
 * Properties: never crashes or leaks; a failed load leaves no keys loaded;
 * a key named in a successfully loaded file resolves to a principal.
 * Threading: single-threaded (libFuzzer).
 */
#include "portico/apikeys.h"
#include "portico/http.h"

#include "fuzz_common.h"

static void remove_tmp(void)
{
    unlink(fuzz_tmpfile("keys"));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    setenv("FUZZ_KEY", "fuzz-key-0123456789abcdef", 1);
    atexit(remove_tmp);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024) return -1;
    const char *path = fuzz_tmpfile("keys");
    fuzz_write_file(path, data, size);
    int rc = apikeys_load_file(path, fuzz_devnull());
    CHECK(rc == 0 || rc == -1);
    struct principal p;
    /* Not a pk_ key, so only the file table is consulted (no database). */
    int found = apikeys_lookup("fuzz-key-0123456789abcdef", &p);
    if (rc != 0) CHECK(found != 0);
    if (found == 0) {
        CHECK(p.type == AUTH_API_KEY);
        CHECK(strncmp(p.subject, "apikey:", 7) == 0);
        CHECK(p.tenant_id[0] != '\0');
    }
    apikeys_free_file();
    return 0;
}
