/*
 * fuzz_config.c — the configuration loader: ${VAR} interpolation, YAML
 * parsing, per-key validation and the cross-key rules, loaded from memory
 * (load_from_memory, the part of config_load after reading the file).
 * Properties: never crashes or leaks; on success every string key is set,
 * numbers are inside their declared ranges and the effective configuration
 * prints; interpolation output never contains an unexpanded "${" that was
 * not escaped as "$${" in the input.
 * Threading: single-threaded (libFuzzer).
 */
#include "../../server/config.c"

#include "fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    /* The fuzzing environment must not steer the loader. */
    for (size_t i = 0; i < NKEYS; i++) {
        char env[128];
        config_env_name(config_key_table[i].name, env, sizeof env);
        unsetenv(env);
    }
    setenv("FUZZ_SET", "value", 1);
    setenv("FUZZ_EMPTY", "", 1);
    setenv("FUZZ_NL", "a\nb: c", 1);
    unsetenv("GATEWAY_API_KEYS");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024) return -1;
    char *text = fuzz_cstr(data, size);

    char msg[256];
    char *expanded = config_interpolate(text, msg, sizeof msg);
    if (!expanded) CHECK(msg[0] != '\0');
    free(expanded);

    struct config cfg;
    if (load_from_memory("fuzz.yaml", text, NULL, &cfg, fuzz_devnull()) == 0) {
        size_t n;
        const struct config_key *keys = config_keys(&n);
        for (size_t i = 0; i < n; i++) {
            const char *base = (const char *)&cfg + keys[i].offset;
            if (keys[i].type == CFG_STRING && strcmp(keys[i].name, "profile") != 0)
                CHECK(*(char *const *)base != NULL);
            if (keys[i].type == CFG_INT) {
                long v = *(const long *)base;
                CHECK(v >= (long)keys[i].min && v <= (long)keys[i].max);
            }
        }
        CHECK(cfg.listen_port >= 0 && cfg.listen_port <= 65535);
        CHECK(strlen(cfg.session.cookie_secret) >= SESSION_SECRET_MIN);
        char origin[256];
        config_public_origin(&cfg, origin, sizeof origin);
        config_set_bound_port(&cfg, 12345);
        config_print(&cfg, fuzz_devnull());
        config_free(&cfg);
    }
    free(text);
    return 0;
}
