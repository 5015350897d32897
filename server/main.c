/*
 * main.c — the command line: serve, migrate, seed, apikey, check-config,
 * oidc check, version. `serve` blocks SIGTERM/SIGINT before any thread
 * starts and waits for them with sigwait, then shuts down in order: stop
 * accepting, close event streams, finish requests, drain the audit buffer,
 * close the database.
 * Threading: the main thread only; other modules start their own threads.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/apikeys.h"
#include "portico/audit.h"
#include "portico/auth.h"
#include "portico/config.h"
#include "portico/db.h"
#include "portico/demo.h"
#include "portico/dispatch.h"
#include "portico/events.h"
#include "portico/gateway_history.h"
#include "portico/gateway_monitor.h"
#include "portico/gateways.h"
#include "portico/http.h"
#include "portico/log.h"
#include "portico/metrics.h"
#include "portico/migrate.h"
#include "portico/oidc.h"
#include "portico/rbac.h"
#include "portico/routes.h"
#include "portico/util.h"

#ifndef PORTICO_VERSION
#define PORTICO_VERSION "0.0.0-dev"
#endif

static const char USAGE[] =
    "usage: portico <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve [--config FILE]          run the server\n"
    "  migrate [--config FILE]        apply database migrations and exit\n"
    "  seed --demo [--config FILE]    fill the demo catalog\n"
    "  apikey create --name N --role R [--tenant T] [--expires-days D] [--config FILE]\n"
    "                                 create an API key and print it once\n"
    "  check-config [--config FILE]   validate and print the effective configuration\n"
    "  oidc check [--config FILE]     check the OIDC provider setup\n"
    "  version                        print the version\n"
    "\n"
    "Every configuration key can also be set as PORTICO_<SECTION>_<KEY>.\n";

struct args {
    const char *config;
    const char *name, *role, *tenant, *expires_days;
    bool demo, help;
};

static int parse_args(int argc, char **argv, int start, struct args *a)
{
    for (int i = start; i < argc; i++) {
        const char *s = argv[i];
        const char **target = NULL;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            a->help = true;
            continue;
        }
        if (strcmp(s, "--demo") == 0) {
            a->demo = true;
            continue;
        }
        if (strcmp(s, "--config") == 0 || strcmp(s, "-c") == 0)
            target = &a->config;
        else if (strcmp(s, "--name") == 0)
            target = &a->name;
        else if (strcmp(s, "--role") == 0)
            target = &a->role;
        else if (strcmp(s, "--tenant") == 0)
            target = &a->tenant;
        else if (strcmp(s, "--expires-days") == 0)
            target = &a->expires_days;
        if (!target) {
            fprintf(stderr, "portico: unknown option %s\n\n%s", s, USAGE);
            return -1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "portico: %s needs a value\n", s);
            return -1;
        }
        *target = argv[++i];
    }
    return 0;
}

static int load_config(const struct args *a, struct config *cfg)
{
    if (config_load(a->config, cfg, stderr) != 0) {
        fprintf(stderr, "portico: configuration has problems (see above)\n");
        return -1;
    }
    if (strcmp(cfg->log.level, "debug") == 0)
        log_set_level(LOG_DEBUG);
    else if (strcmp(cfg->log.level, "warn") == 0)
        log_set_level(LOG_WARN);
    else if (strcmp(cfg->log.level, "error") == 0)
        log_set_level(LOG_ERROR);
    config_set_active(cfg); /* until config_free */
    return 0;
}

/* Opens the database and applies migrations; 0 on success. */
static int open_database(const struct config *cfg)
{
    if (db_init(cfg) != 0) return -1;
    struct db *db = db_thread();
    if (!db) {
        log_error("cannot open the database (%s)",
                  cfg->database.url[0] ? "PostgreSQL" : cfg->database.sqlite_path);
        return -1;
    }
    if (migrate_run(db) < 0) return -1;
    return 0;
}

static int cmd_serve(const struct args *a)
{
    struct config cfg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (load_config(a, &cfg) != 0) return 2;
    if (cfg.cookie_secret_generated)
        log_warn("session.cookie_secret is not set: generated a random one (dev profile); "
                 "sessions end when Portico restarts");
    int rc = 1;
    bool started = false;
    if (open_database(&cfg) != 0) goto out;
    if (auth_init() != 0) goto out;
    if (auth_gateway_key_count() == 0)
        log_warn("gateways.api_keys is empty (GATEWAY_API_KEYS): gateway registration is "
                 "disabled; gateways get 503 until keys are configured");
    if (oidc_init(&cfg) != 0) goto out;
    if (cfg.demo.seed && demo_seed(db_thread()) < 0) log_warn("demo: seeding the catalog failed");
    if (audit_start() != 0 || events_start() != 0 || gateway_monitor_start() != 0) goto out;
    if (gateway_history_start(&cfg) != 0) goto out;
    gateways_set_heartbeat_hook(gateway_history_heartbeat);
    size_t nroutes;
    const struct route *routes = routes_table(&nroutes);
    metrics_use_routes(routes, nroutes);
    events_use_credential_check(auth_still_valid);
    int port = http_start(&cfg, dispatch_request);
    if (port < 0) goto out;
    started = true;
    config_set_bound_port(&cfg, port);
    fprintf(stderr, "portico: listening on http://%s:%d\n", cfg.listen_host, port);
    fflush(stderr);
    if (cfg.demo.simulated_gateways > 0) demo_start_gateways(&cfg, port);

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) continue;
        log_info("received %s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    rc = 0;
out:
    demo_stop();
    events_stop();
    if (started) http_stop();
    gateway_monitor_stop();
    gateway_history_stop(); /* after http_stop: no more heartbeats; writes open minutes */
    audit_stop();
    oidc_cleanup();
    auth_cleanup();
    db_shutdown();
    if (rc == 0) log_info("stopped");
    config_free(&cfg);
    return rc;
}

static int cmd_migrate(const struct args *a)
{
    struct config cfg;
    if (load_config(a, &cfg) != 0) return 2;
    int rc = open_database(&cfg) == 0 ? 0 : 1;
    if (rc == 0) fprintf(stdout, "database at schema version %d\n", migrate_latest());
    db_shutdown();
    config_free(&cfg);
    return rc;
}

static int cmd_seed(const struct args *a)
{
    if (!a->demo) {
        fprintf(stderr, "portico seed: only --demo is supported\n");
        return 2;
    }
    struct config cfg;
    if (load_config(a, &cfg) != 0) return 2;
    int rc = 1;
    if (open_database(&cfg) == 0) {
        int n = demo_seed(db_thread());
        if (n >= 0) {
            fprintf(stdout, "demo catalog: %d APIs created\n", n);
            rc = 0;
        }
    }
    db_shutdown();
    config_free(&cfg);
    return rc;
}

static int cmd_apikey(int argc, char **argv)
{
    struct args a = {0};
    if (argc < 3 || strcmp(argv[2], "create") != 0) {
        fprintf(stderr, "usage: portico apikey create --name N --role R [--tenant T] "
                        "[--expires-days D] [--config FILE]\n");
        return 2;
    }
    if (parse_args(argc, argv, 3, &a) != 0) return 2;
    if (a.help) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (!a.name || !a.role) {
        fprintf(stderr, "portico apikey create: --name and --role are required\n");
        return 2;
    }
    if (rbac_role_parse(a.role) == ROLE_NONE) {
        fprintf(
            stderr,
            "portico apikey create: --role must be cpi-admin, tenant-admin, devops or viewer\n");
        return 2;
    }
    long long days = 0;
    if (a.expires_days && util_parse_int(a.expires_days, 1, 3650, &days) != 0) {
        fprintf(stderr, "portico apikey create: --expires-days must be 1..3650\n");
        return 2;
    }
    struct config cfg;
    if (load_config(&a, &cfg) != 0) return 2;
    int rc = 1;
    if (open_database(&cfg) == 0) {
        char key[160], id[40];
        long long expires = days ? util_now_ms() + days * 86400000LL : 0;
        int e = apikeys_create(a.name, a.role, a.tenant ? a.tenant : "default", expires, "cli", key,
                               id);
        if (e == 0) {
            fprintf(stdout, "%s\n", key);
            fprintf(stderr, "created API key %s (id %s, role %s); it is shown only once\n", a.name,
                    id, a.role);
            rc = 0;
        } else {
            fprintf(stderr, "portico apikey create: %s\n",
                    e == APIKEYS_NAME_TAKEN ? "the tenant already has an active key with this name"
                    : e < 0                 ? "invalid name or tenant"
                                            : db_err_name((enum db_err)e));
        }
    }
    db_shutdown();
    config_free(&cfg);
    return rc;
}

static int cmd_check_config(const struct args *a)
{
    struct config cfg;
    if (load_config(a, &cfg) != 0) return 2;
    config_print(&cfg, stdout);
    config_free(&cfg);
    return 0;
}

static int cmd_oidc(int argc, char **argv)
{
    struct args a = {0};
    if (argc < 3 || strcmp(argv[2], "check") != 0) {
        fprintf(stderr, "usage: portico oidc check [--config FILE]\n");
        return 2;
    }
    if (parse_args(argc, argv, 3, &a) != 0) return 2;
    struct config cfg;
    if (load_config(&a, &cfg) != 0) return 2;
    int rc = oidc_check_cli(&cfg);
    config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        fprintf(stdout, "portico %s\n", PORTICO_VERSION);
        return 0;
    }
    if (strcmp(cmd, "apikey") == 0) return cmd_apikey(argc, argv);
    if (strcmp(cmd, "oidc") == 0) return cmd_oidc(argc, argv);
    struct args a = {0};
    if (parse_args(argc, argv, 2, &a) != 0) return 2;
    if (a.help) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (strcmp(cmd, "serve") == 0) return cmd_serve(&a);
    if (strcmp(cmd, "migrate") == 0) return cmd_migrate(&a);
    if (strcmp(cmd, "seed") == 0) return cmd_seed(&a);
    if (strcmp(cmd, "check-config") == 0) return cmd_check_config(&a);
    fprintf(stderr, "portico: unknown command %s\n\n%s", cmd, USAGE);
    return 2;
}
