/*
 * config.c — configuration loading. Order: table defaults, then the YAML file
 * (after ${VAR} expansion), then PORTICO_<SECTION>_<KEY> environment
 * variables; then every value is parsed and validated, and cross-key rules
 * are checked. All problems are reported, not just the first.
 * Threading: runs before any thread starts; the result is read-only.
 */
#include "portico/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "portico/crypto.h"
#include "portico/limits.h"
#include "portico/util.h"

/* The active configuration (config_active): written by main before the
 * worker threads start and after they stopped; read-only meanwhile. */
static const struct config *active;

#define K(name, type, field, def, min, max, choices, secret, help)                                 \
    {                                                                                              \
        name, type, offsetof(struct config, field), def, min, max, choices, secret, help           \
    }

static const struct config_key config_key_table[] = {
    K("profile", CFG_STRING, profile, "live", 0, 0, "dev|live", false,
      "dev or live: dev allows a generated cookie secret and the demo"),
    K("server.listen", CFG_STRING, server.listen, "127.0.0.1:8080", 0, 0, NULL, false,
      "host:port to listen on (IPv4); port 0 picks a free port"),
    K("server.public_url", CFG_STRING, server.public_url, "", 0, 0, NULL, false,
      "external base URL (redirects, cookies, Origin checks); derived from listen when empty"),
    K("server.threads", CFG_INT, server.threads, "64", CONFIG_THREADS_MIN, CONFIG_THREADS_MAX, NULL,
      false, "worker threads; civetweb holds one per open keep-alive connection"),
    K("server.max_body_bytes", CFG_INT, server.max_body_bytes, "1048576", CONFIG_BODY_MIN,
      CONFIG_BODY_MAX, NULL, false, "larger request bodies get 413"),
    K("server.request_timeout_ms", CFG_INT, server.request_timeout_ms, "30000", 1000, 600000, NULL,
      false, "time allowed to receive a request"),
    K("database.url", CFG_STRING, database.url, "", 0, 0, NULL, true,
      "empty = SQLite; postgres://user:pass@host:port/db = PostgreSQL"),
    K("database.sqlite_path", CFG_STRING, database.sqlite_path, "var/portico.db", 0, 0, NULL, false,
      "SQLite database file (WAL mode); its directory is created"),
    K("auth.allow_anonymous", CFG_BOOL, auth.allow_anonymous, "false", 0, 0, NULL, false,
      "requests without a credential get auth.anonymous_role"),
    K("auth.anonymous_role", CFG_STRING, auth.anonymous_role, "viewer", 0, 0,
      "cpi-admin|tenant-admin|devops|viewer", false, "role of anonymous callers"),
    K("auth.keys_file", CFG_STRING, auth.keys_file, "", 0, 0, NULL, false,
      "YAML list of {name, key or sha256, role, tenant}"),
    K("session.cookie_secret", CFG_STRING, session.cookie_secret, "", 0, 0, NULL, true,
      "at least 32 bytes; keys session and OIDC cookies"),
    K("session.cookie_secure", CFG_BOOL, session.cookie_secure, "true", 0, 0, NULL, false,
      "Secure cookies (__Host- prefix); false only for plain-HTTP local use"),
    K("session.ttl_seconds", CFG_INT, session.ttl_seconds, "28800", 1, 2592000, NULL, false,
      "absolute session lifetime"),
    K("oidc.issuer", CFG_STRING, oidc.issuer, "", 0, 0, NULL, false,
      "OpenID provider issuer URL; empty = OIDC off"),
    K("oidc.client_id", CFG_STRING, oidc.client_id, "", 0, 0, NULL, false, "OIDC client id"),
    K("oidc.client_secret", CFG_STRING, oidc.client_secret, "", 0, 0, NULL, true,
      "OIDC client secret"),
    K("oidc.audience", CFG_STRING, oidc.audience, "", 0, 0, NULL, false,
      "required aud of Bearer access tokens (unset: Bearer JWTs are refused)"),
    K("oidc.scopes", CFG_STRING, oidc.scopes, "openid profile email", 0, 0, NULL, false,
      "scopes requested at sign-in"),
    K("oidc.token_auth_method", CFG_STRING, oidc.token_auth_method, "client_secret_basic", 0, 0,
      "client_secret_basic|client_secret_post", false,
      "client authentication at the token endpoint"),
    K("oidc.roles_claim", CFG_STRING, oidc.roles_claim, "realm_access.roles", 0, 0, NULL, false,
      "dotted path to the roles array in the token"),
    K("oidc.role_map", CFG_STRING, oidc.role_map, "", 0, 0, NULL, false,
      "extra provider-role=portico-role pairs, comma-separated"),
    K("oidc.post_logout_redirect_uri", CFG_STRING, oidc.post_logout_redirect_uri, "", 0, 0, NULL,
      false, "where the provider sends users after sign-out (default: public_url/portal/)"),
    K("oidc.clock_skew_seconds", CFG_INT, oidc.clock_skew_seconds, "30", 0, 600, NULL, false,
      "leeway for exp/nbf/iat"),
    K("oidc.http_timeout_ms", CFG_INT, oidc.http_timeout_ms, "5000", 100, 60000, NULL, false,
      "timeout for calls to the provider"),
    K("gateways.api_keys", CFG_STRING, gateways.api_keys, "${GATEWAY_API_KEYS:-}", 0, 0, NULL, true,
      "comma-separated keys gateways present as X-Gateway-Key"),
    K("gateways.offline_after_seconds", CFG_INT, gateways.offline_after_seconds, "90", 1, 86400,
      NULL, false, "no heartbeat for longer = offline"),
    K("gateways.degraded_error_rate", CFG_DOUBLE, gateways.degraded_error_rate, "0.05", 0, 1, NULL,
      false, "online and error_rate above this = degraded"),
    K("gateways.max_event_streams", CFG_INT, gateways.max_event_streams, "32", 0, 1024, NULL, false,
      "concurrent /v1/gateways/events streams; more get 503"),
    K("gateways.max_event_streams_per_principal", CFG_INT, gateways.max_event_streams_per_principal,
      "4", 1, 1024, NULL, false,
      "concurrent event streams of one caller (key, user or address); more get 503"),
    K("gateways.health_interval_ms", CFG_INT, gateways.health_interval_ms, "0", 0, 600000, NULL,
      false, "status worker period; 0 = automatic (a fraction of the offline window)"),
    K("gateways.history_retention_days", CFG_INT, gateways.history_retention_days, "30", 0, 3650,
      NULL, false, "days of per-gateway history kept (minute rows, hourly after 48 h); 0 = off"),
    K("audit.enabled", CFG_BOOL, audit.enabled, "true", 0, 0, NULL, false, "record the audit log"),
    K("audit.buffer_depth", CFG_INT, audit.buffer_depth, "4096", 1, 1000000, NULL, false,
      "events waiting for the writer; beyond it events are dropped and counted"),
    K("audit.retention_days", CFG_INT, audit.retention_days, "90", 0, 36500, NULL, false,
      "audit events older than this are purged; 0 = keep forever"),
    K("metrics.token", CFG_STRING, metrics.token, "", 0, 0, NULL, true,
      "when set, /metrics requires Authorization: Bearer <token>"),
    K("demo.seed", CFG_BOOL, demo.seed, "false", 0, 0, NULL, false,
      "seed a demo catalog at start (dev profile only)"),
    K("demo.simulated_gateways", CFG_INT, demo.simulated_gateways, "0", 0, 1000, NULL, false,
      "simulated gateways heartbeating in-process (dev profile only)"),
    K("log.level", CFG_STRING, log.level, "info", 0, 0, "debug|info|warn|error", false,
      "log verbosity"),
};
#undef K

#define NKEYS (sizeof config_key_table / sizeof config_key_table[0])

const struct config_key *config_keys(size_t *count)
{
    *count = NKEYS;
    return config_key_table;
}

void config_env_name(const char *key, char *out, size_t n)
{
    size_t o = 0;
    const char *prefix = "PORTICO_";
    for (const char *p = prefix; *p && o + 1 < n; p++) out[o++] = *p;
    for (const char *p = key; *p && o + 1 < n; p++)
        out[o++] = (*p == '.') ? '_' : (char)toupper((unsigned char)*p);
    out[o] = '\0';
}

/* Where a raw value came from, for messages. */
struct raw_value {
    char *text;
    char origin[300];
};

struct loader {
    struct raw_value raw[NKEYS];
    FILE *err;
    int problems;
    const char *file;
};

static void problem(struct loader *l, const char *origin, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(struct loader *l, const char *origin, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0) msg[0] = '\0';
    if (key)
        fprintf(l->err, "%s: %s: %s\n", origin, key, msg);
    else
        fprintf(l->err, "%s: %s\n", origin, msg);
    l->problems++;
}

static int key_index(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(config_key_table[i].name, name) == 0) return (int)i;
    return -1;
}

static void set_raw(struct loader *l, int idx, const char *text, const char *origin)
{
    free(l->raw[idx].text);
    l->raw[idx].text = util_strdup(text ? text : "");
    util_copy(l->raw[idx].origin, sizeof l->raw[idx].origin, origin);
}

char *config_interpolate(const char *text, char *err_out, size_t errlen)
{
    struct strbuf b;
    strbuf_init(&b, CONFIG_FILE_MAX_BYTES * 4);
    int line = 1;
    const char *p = text;
    bool line_is_comment = false, at_line_start = true;
    while (*p) {
        if (at_line_start) {
            const char *q = p;
            while (*q == ' ' || *q == '\t') q++;
            line_is_comment = (*q == '#');
            at_line_start = false;
        }
        if (*p == '\n') {
            line++;
            at_line_start = true;
            strbuf_append(&b, p, 1);
            p++;
            continue;
        }
        if (!line_is_comment && p[0] == '$' && p[1] == '$' && p[2] == '{') {
            strbuf_append(&b, "${", 2);
            p += 3;
            continue;
        }
        if (!line_is_comment && p[0] == '$' && p[1] == '{') {
            const char *end = strchr(p + 2, '}');
            const char *nl = strchr(p + 2, '\n');
            if (!end || (nl && nl < end)) {
                snprintf(err_out, errlen, "line %d: unterminated ${", line);
                strbuf_cleanup(&b);
                return NULL;
            }
            char expr[512];
            size_t elen = (size_t)(end - (p + 2));
            if (elen >= sizeof expr) {
                snprintf(err_out, errlen, "line %d: variable reference too long", line);
                strbuf_cleanup(&b);
                return NULL;
            }
            memcpy(expr, p + 2, elen);
            expr[elen] = '\0';
            const char *def = NULL;
            char *sep = strstr(expr, ":-");
            if (sep) {
                *sep = '\0';
                def = sep + 2;
            }
            bool valid = expr[0] != '\0' && !isdigit((unsigned char)expr[0]);
            for (char *c = expr; *c; c++)
                if (!isalnum((unsigned char)*c) && *c != '_') valid = false;
            if (!valid) {
                snprintf(err_out, errlen, "line %d: bad variable name in ${%.100s}", line, expr);
                strbuf_cleanup(&b);
                return NULL;
            }
            const char *val = getenv(expr);
            if (!val) val = def;
            if (!val) {
                snprintf(err_out, errlen, "line %d: ${%.100s} is not set", line, expr);
                strbuf_cleanup(&b);
                return NULL;
            }
            strbuf_puts(&b, val);
            p = end + 1;
            continue;
        }
        strbuf_append(&b, p, 1);
        p++;
    }
    char *out = strbuf_take(&b);
    if (!out) snprintf(err_out, errlen, "configuration too large");
    return out;
}

static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *buf = malloc(CONFIG_FILE_MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, CONFIG_FILE_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (n > CONFIG_FILE_MAX_BYTES) {
        free(buf);
        snprintf(err, errlen, "file larger than %d bytes", CONFIG_FILE_MAX_BYTES);
        return NULL;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) {
        free(buf);
        snprintf(err, errlen, "file contains a NUL byte");
        return NULL;
    }
    return buf;
}

static void take_scalar(struct loader *l, yaml_document_t *doc, const char *name, yaml_node_t *v)
{
    char origin[300];
    snprintf(origin, sizeof origin, "%s:%lu", l->file, (unsigned long)v->start_mark.line + 1);
    int idx = key_index(name);
    if (idx < 0) {
        problem(l, origin, name, "unknown key");
        return;
    }
    if (v->type != YAML_SCALAR_NODE) {
        problem(l, origin, name, "expected a single value, not a %s",
                v->type == YAML_MAPPING_NODE ? "mapping" : "list");
        return;
    }
    (void)doc;
    const char *text = (const char *)v->data.scalar.value;
    /* A plain `~` or `null` means "unset": keep the default. */
    if (v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (strcmp(text, "~") == 0 || strcmp(text, "null") == 0))
        return;
    set_raw(l, idx, text, origin);
}

static void load_yaml(struct loader *l, const char *text)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        problem(l, l->file, NULL, "out of memory");
        return;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
    if (!yaml_parser_load(&parser, &doc)) {
        char origin[300];
        snprintf(origin, sizeof origin, "%s:%lu", l->file,
                 (unsigned long)parser.problem_mark.line + 1);
        problem(l, origin, NULL, "YAML syntax error: %s",
                parser.problem ? parser.problem : "unknown");
        yaml_parser_delete(&parser);
        return;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) goto out; /* empty file: defaults */
    if (root->type != YAML_MAPPING_NODE) {
        problem(l, l->file, NULL, "the top level must be a mapping of sections");
        goto out;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&doc, p->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE) continue;
        const char *section = (const char *)k->data.scalar.value;
        if (v->type != YAML_MAPPING_NODE) {
            bool is_section = false;
            size_t sl = strlen(section);
            for (size_t i = 0; i < NKEYS; i++)
                if (strncmp(config_key_table[i].name, section, sl) == 0 &&
                    config_key_table[i].name[sl] == '.')
                    is_section = true;
            if (is_section) {
                char origin[300];
                snprintf(origin, sizeof origin, "%s:%lu", l->file,
                         (unsigned long)v->start_mark.line + 1);
                bool empty = v->type == YAML_SCALAR_NODE && v->data.scalar.length == 0;
                if (!empty) problem(l, origin, section, "expected a mapping of keys");
                continue;
            }
            take_scalar(l, &doc, section, v);
            continue;
        }
        for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
             q++) {
            yaml_node_t *k2 = yaml_document_get_node(&doc, q->key);
            yaml_node_t *v2 = yaml_document_get_node(&doc, q->value);
            if (!k2 || !v2 || k2->type != YAML_SCALAR_NODE) continue;
            char name[200];
            snprintf(name, sizeof name, "%s.%s", section, (const char *)k2->data.scalar.value);
            take_scalar(l, &doc, name, v2);
        }
    }
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
}

static bool parse_bool(const char *s, bool *out)
{
    static const char *yes[] = {"true", "yes", "on", "1"};
    static const char *no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

static bool in_choices(const char *choices, const char *v)
{
    size_t vl = strlen(v);
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == vl && strncmp(p, v, n) == 0) return true;
        if (!bar) break;
        p = bar + 1;
    }
    return false;
}

static void apply_value(struct loader *l, struct config *cfg, size_t i)
{
    const struct config_key *k = &config_key_table[i];
    const char *text = l->raw[i].text ? l->raw[i].text : "";
    const char *origin = l->raw[i].origin;
    void *base = (char *)cfg + k->offset;
    switch (k->type) {
    case CFG_STRING:
        if (k->choices && !in_choices(k->choices, text)) {
            problem(l, origin, k->name, "must be one of %s, not \"%.60s\"", k->choices, text);
            return;
        }
        if (util_has_control(text, false)) {
            problem(l, origin, k->name, "contains control characters");
            return;
        }
        if (strcmp(k->name, "profile") == 0) {
            cfg->profile = strcmp(text, "dev") == 0 ? PROFILE_DEV : PROFILE_LIVE;
            return;
        }
        *(char **)base = util_strdup(text);
        return;
    case CFG_INT: {
        long long v;
        if (util_parse_int(text, (long long)k->min, (long long)k->max, &v) != 0) {
            problem(l, origin, k->name, "must be a whole number from %.0f to %.0f, not \"%.60s\"",
                    k->min, k->max, text);
            return;
        }
        *(long *)base = (long)v;
        return;
    }
    case CFG_DOUBLE: {
        double v;
        if (util_parse_double(text, k->min, k->max, &v) != 0) {
            problem(l, origin, k->name, "must be a number from %g to %g, not \"%.60s\"", k->min,
                    k->max, text);
            return;
        }
        *(double *)base = v;
        return;
    }
    case CFG_BOOL: {
        bool v;
        if (!parse_bool(text, &v)) {
            problem(l, origin, k->name, "must be true or false, not \"%.60s\"", text);
            return;
        }
        *(bool *)base = v;
        return;
    }
    }
}

static int parse_listen(const char *listen, char *host, size_t hostlen, int *port)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen) return -1;
    size_t hl = (size_t)(colon - listen);
    if (hl >= hostlen) return -1;
    memcpy(host, listen, hl);
    host[hl] = '\0';
    for (char *c = host; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-') return -1;
    long long p;
    if (util_parse_int(colon + 1, 0, 65535, &p) != 0) return -1;
    *port = (int)p;
    return 0;
}

static void check_rules(struct loader *l, struct config *cfg)
{
    int i_listen = key_index("server.listen");
    if (parse_listen(cfg->server.listen, cfg->listen_host, sizeof cfg->listen_host,
                     &cfg->listen_port) != 0)
        problem(l, l->raw[i_listen].origin, "server.listen",
                "must be host:port with an IPv4 address or name and a port 0..65535");
    if (strcmp(cfg->listen_host, "localhost") == 0)
        util_copy(cfg->listen_host, sizeof cfg->listen_host, "127.0.0.1");

    const char *pu = cfg->server.public_url;
    if (pu[0]) {
        int i = key_index("server.public_url");
        if (strncmp(pu, "http://", 7) != 0 && strncmp(pu, "https://", 8) != 0)
            problem(l, l->raw[i].origin, "server.public_url",
                    "must start with http:// or https://");
        size_t n = strlen(pu);
        if (n > 0 && pu[n - 1] == '/') cfg->server.public_url[n - 1] = '\0';
    }

    const char *url = cfg->database.url;
    if (url[0] && strncmp(url, "postgres://", 11) != 0 && strncmp(url, "postgresql://", 13) != 0)
        problem(l, l->raw[key_index("database.url")].origin, "database.url",
                "must be empty (SQLite) or start with postgres://");
    if (!url[0] && !cfg->database.sqlite_path[0])
        problem(l, l->raw[key_index("database.sqlite_path")].origin, "database.sqlite_path",
                "must not be empty when database.url is empty");

    int i_secret = key_index("session.cookie_secret");
    size_t slen = strlen(cfg->session.cookie_secret);
    if (slen > 0 && slen < SESSION_SECRET_MIN)
        problem(l, l->raw[i_secret].origin, "session.cookie_secret",
                "must be at least %d bytes (it is %zu)", SESSION_SECRET_MIN, slen);
    else if (slen == 0 && cfg->profile != PROFILE_DEV)
        problem(l, l->raw[i_secret].origin, "session.cookie_secret",
                "is required with profile live (at least %d bytes; e.g. openssl rand -hex 32)",
                SESSION_SECRET_MIN);

    if (cfg->profile != PROFILE_DEV && (cfg->demo.seed || cfg->demo.simulated_gateways > 0))
        problem(l, l->raw[key_index("demo.seed")].origin, "demo.seed",
                "the demo (demo.seed, demo.simulated_gateways) needs profile dev");

    if (cfg->oidc.issuer[0]) {
        if (strncmp(cfg->oidc.issuer, "http://", 7) != 0 &&
            strncmp(cfg->oidc.issuer, "https://", 8) != 0)
            problem(l, l->raw[key_index("oidc.issuer")].origin, "oidc.issuer",
                    "must be an http:// or https:// URL");
        if (!cfg->oidc.client_id[0])
            problem(l, l->raw[key_index("oidc.client_id")].origin, "oidc.client_id",
                    "is required when oidc.issuer is set");
    }
}

static void derive(struct config *cfg)
{
    if (!cfg->server.public_url[0]) {
        char buf[128];
        snprintf(buf, sizeof buf, "http://%s:%d", cfg->listen_host, cfg->listen_port);
        free(cfg->server.public_url);
        cfg->server.public_url = util_strdup(buf);
        cfg->public_url_derived = true;
    }
    if (!cfg->session.cookie_secret[0]) {
        unsigned char rnd[32];
        char hex[65];
        crypto_random(rnd, sizeof rnd);
        crypto_hex(rnd, sizeof rnd, hex);
        free(cfg->session.cookie_secret);
        cfg->session.cookie_secret = util_strdup(hex);
        cfg->cookie_secret_generated = true;
    }
}

/* Loads defaults, then `text` (the contents of `path`; NULL when there is no
 * file or it could not be read, with the reason in read_err), then the
 * environment. Split from config_load so the fuzzer can load from memory. */
static int load_from_memory(const char *path, const char *text, const char *read_err,
                            struct config *cfg, FILE *err)
{
    struct loader l;
    memset(&l, 0, sizeof l);
    memset(cfg, 0, sizeof *cfg);
    l.err = err;
    l.file = path ? path : "(defaults)";

    for (size_t i = 0; i < NKEYS; i++) {
        const char *def = config_key_table[i].def ? config_key_table[i].def : "";
        char msg[256] = "";
        char *expanded = strstr(def, "${") ? config_interpolate(def, msg, sizeof msg) : NULL;
        set_raw(&l, (int)i, expanded ? expanded : def, "(default)");
        free(expanded);
    }

    if (path) {
        char msg[512];
        if (!text) {
            problem(&l, path, NULL, "%s", read_err);
        } else {
            char *expanded = config_interpolate(text, msg, sizeof msg);
            if (!expanded) {
                /* msg is "line N: text": report as file:N: text */
                fprintf(err, "%s:%s\n", path, strncmp(msg, "line ", 5) == 0 ? msg + 5 : msg);
                l.problems++;
            } else {
                load_yaml(&l, expanded);
                free(expanded);
            }
        }
    }

    for (size_t i = 0; i < NKEYS; i++) {
        char env[128];
        config_env_name(config_key_table[i].name, env, sizeof env);
        const char *v = getenv(env);
        if (v) {
            char origin[160];
            snprintf(origin, sizeof origin, "env %s", env);
            set_raw(&l, (int)i, v, origin);
        }
    }

    cfg->source = util_strdup(l.file);
    for (size_t i = 0; i < NKEYS; i++) apply_value(&l, cfg, i);
    /* Make sure every string field is non-NULL even after a problem. */
    for (size_t i = 0; i < NKEYS; i++) {
        const struct config_key *k = &config_key_table[i];
        if (k->type == CFG_STRING && strcmp(k->name, "profile") != 0) {
            char **sp = (char **)((char *)cfg + k->offset);
            if (!*sp) *sp = util_strdup("");
        }
    }
    if (l.problems == 0) check_rules(&l, cfg);
    if (l.problems == 0) derive(cfg);

    for (size_t i = 0; i < NKEYS; i++) free(l.raw[i].text);
    if (l.problems) {
        config_free(cfg);
        return -1;
    }
    return 0;
}

int config_load(const char *path, struct config *cfg, FILE *err)
{
    char msg[512] = "";
    char *text = path ? read_file(path, msg, sizeof msg) : NULL;
    int rc = load_from_memory(path, text, msg, cfg, err);
    free(text);
    return rc;
}

void config_free(struct config *cfg)
{
    if (cfg && active == cfg) active = NULL;
    if (!cfg) return;
    for (size_t i = 0; i < NKEYS; i++) {
        const struct config_key *k = &config_key_table[i];
        if (k->type == CFG_STRING && strcmp(k->name, "profile") != 0) {
            char **sp = (char **)((char *)cfg + k->offset);
            free(*sp);
            *sp = NULL;
        }
    }
    free(cfg->source);
    cfg->source = NULL;
}

static void print_yaml_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

void config_print(const struct config *cfg, FILE *out)
{
    char section[64] = "";
    fprintf(out, "# effective configuration (source: %s); secrets redacted\n", cfg->source);
    for (size_t i = 0; i < NKEYS; i++) {
        const struct config_key *k = &config_key_table[i];
        const char *dot = strchr(k->name, '.');
        const char *leaf = k->name;
        const char *indent = "";
        if (dot) {
            size_t sl = (size_t)(dot - k->name);
            if (strlen(section) != sl || strncmp(section, k->name, sl) != 0) {
                memcpy(section, k->name, sl);
                section[sl] = '\0';
                fprintf(out, "%s:\n", section);
            }
            leaf = dot + 1;
            indent = "  ";
        }
        const void *base = (const char *)cfg + k->offset;
        fprintf(out, "%s%s: ", indent, leaf);
        switch (k->type) {
        case CFG_STRING: {
            const char *v = strcmp(k->name, "profile") == 0
                                ? (cfg->profile == PROFILE_DEV ? "dev" : "live")
                                : *(char *const *)base;
            if (k->secret && v && v[0])
                print_yaml_string(out, "<redacted>");
            else
                print_yaml_string(out, v ? v : "");
            break;
        }
        case CFG_INT: fprintf(out, "%ld", *(const long *)base); break;
        case CFG_DOUBLE: fprintf(out, "%g", *(const double *)base); break;
        case CFG_BOOL: fprintf(out, "%s", *(const bool *)base ? "true" : "false"); break;
        }
        fputc('\n', out);
    }
}

void config_public_origin(const struct config *cfg, char *out, size_t n)
{
    const char *u = cfg->server.public_url;
    const char *scheme_end = strstr(u, "://");
    const char *path = scheme_end ? strchr(scheme_end + 3, '/') : NULL;
    size_t len = path ? (size_t)(path - u) : strlen(u);
    if (len >= n) len = n - 1;
    memcpy(out, u, len);
    out[len] = '\0';
}

void config_set_active(const struct config *cfg)
{
    active = cfg;
}

const struct config *config_active(void)
{
    return active;
}

void config_set_bound_port(struct config *cfg, int port)
{
    cfg->listen_port = port;
    if (!cfg->public_url_derived) return;
    char buf[128];
    snprintf(buf, sizeof buf, "http://%s:%d", cfg->listen_host, port);
    free(cfg->server.public_url);
    cfg->server.public_url = util_strdup(buf);
}
