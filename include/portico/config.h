/*
 * config.h — Portico's configuration: YAML file (libyaml) with ${VAR} and
 * ${VAR:-default} expansion, PORTICO_<SECTION>_<KEY> environment overrides,
 * and validation that reports every problem as "file:line: key: reason".
 * Threading: loaded once at start, then read-only and shared by all threads.
 */
#ifndef PORTICO_CONFIG_H
#define PORTICO_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

enum config_profile { PROFILE_LIVE = 0, PROFILE_DEV = 1 };

struct config {
    enum config_profile profile;
    char *source; /* the file name, or "(defaults)" */
    struct {
        char *listen;
        char *public_url;
        long threads;
        long max_body_bytes;
        long request_timeout_ms;
    } server;
    struct {
        char *url;
        char *sqlite_path;
    } database;
    struct {
        bool allow_anonymous;
        char *anonymous_role;
        char *keys_file;
    } auth;
    struct {
        char *cookie_secret;
        bool cookie_secure;
        long ttl_seconds;
    } session;
    struct {
        char *issuer;
        char *client_id;
        char *client_secret;
        char *audience;
        char *scopes;
        char *token_auth_method;
        char *roles_claim;
        char *role_map;
        char *post_logout_redirect_uri;
        long clock_skew_seconds;
        long http_timeout_ms;
    } oidc;
    struct {
        char *api_keys;
        long offline_after_seconds;
        double degraded_error_rate;
        long max_event_streams;
        long max_event_streams_per_principal;
        long health_interval_ms;
        long history_retention_days;
    } gateways;
    struct {
        bool enabled;
        long buffer_depth;
        long retention_days;
    } audit;
    struct {
        char *token;
    } metrics;
    struct {
        bool seed;
        long simulated_gateways;
    } demo;
    struct {
        char *level;
    } log;

    /* Derived at load time. */
    char listen_host[64];
    int listen_port;
    bool cookie_secret_generated;
    bool public_url_derived;
};

enum config_type { CFG_STRING, CFG_INT, CFG_DOUBLE, CFG_BOOL };

/* One configuration key: the table drives parsing, env overrides, defaults,
 * validation, check-config output and the docs test. */
struct config_key {
    const char *name; /* "server.listen" */
    enum config_type type;
    size_t offset;       /* into struct config */
    const char *def;     /* default, as text (NULL = empty) */
    double min, max;     /* numbers: inclusive range */
    const char *choices; /* strings: "a|b|c" or NULL */
    bool secret;         /* redacted in output */
    const char *help;
};

/* The key table and its length. */
const struct config_key *config_keys(size_t *count);

/* Loads defaults, then `path` (may be NULL: defaults only), then the
 * environment. On failure prints one line per problem to `err`, frees what it
 * built and returns -1; on success fills *cfg (free with config_free). */
int config_load(const char *path, struct config *cfg, FILE *err);
void config_free(struct config *cfg);

/* Expands ${VAR} and ${VAR:-default} in text (comment lines are left alone).
 * Returns a malloc'd string (caller frees) or NULL with a message in
 * err_out ("line N: ${VAR} is not set"). */
char *config_interpolate(const char *text, char *err_out, size_t errlen);

/* Prints the effective configuration as YAML with secrets redacted. */
void config_print(const struct config *cfg, FILE *out);

/* The environment variable name for a key ("server.listen" →
 * "PORTICO_SERVER_LISTEN") into out. */
void config_env_name(const char *key, char *out, size_t n);

/* Sets the real port in a public_url derived from a listen port of 0. */
void config_set_bound_port(struct config *cfg, int port);

/* The origin ("http://host:port") of server.public_url into out. */
void config_public_origin(const struct config *cfg, char *out, size_t n);

/* The one way every module reaches the running configuration: `serve` makes
 * its loaded configuration active before any worker starts (and clears it
 * after they stopped); until then config_active() returns NULL. The
 * configuration stays owned by the caller of config_set_active. */
void config_set_active(const struct config *cfg);
const struct config *config_active(void);

#endif
