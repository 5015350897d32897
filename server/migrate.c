/*
 * migrate.c — applies the embedded migrations for the active backend in
 * version order, each in its own transaction together with its
 * schema_migrations row. On PostgreSQL an advisory lock serialises replicas
 * starting at once. A migration whose text is the same on both backends is
 * kept once, in server/sql/common/; the others are in server/sql/<backend>/.
 * Threading: main thread, before the server starts.
 */
#include "portico/migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/assets.h"
#include "portico/db.h"
#include "portico/log.h"
#include "portico/util.h"

#define MIGRATION_LOCK_ID 0x706f7274 /* "port" */

static const char SQL_CREATE_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
static const char SQL_CURRENT[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char SQL_IS_APPLIED[] = "SELECT 1 FROM schema_migrations WHERE version = $1";
static const char SQL_RECORD[] =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

int migrate_version_of(const char *path, const char *backend)
{
    const char *dir = backend;
    size_t dl = strlen(dir);
    if (strncmp(path, dir, dl) != 0 || path[dl] != '/') {
        dir = MIGRATE_COMMON_DIR;
        dl = strlen(dir);
        if (strncmp(path, dir, dl) != 0 || path[dl] != '/') return -1;
    }
    const char *name = path + dl + 1;
    long long v;
    char num[8];
    size_t i = 0;
    while (name[i] >= '0' && name[i] <= '9' && i < sizeof num - 1) {
        num[i] = name[i];
        i++;
    }
    num[i] = '\0';
    if (i == 0 || name[i] != '_' || util_parse_int(num, 1, 9999, &v) != 0) return -1;
    size_t nl = strlen(name);
    if (nl < 5 || strcmp(name + nl - 4, ".sql") != 0) return -1;
    return (int)v;
}

int migrate_latest(void)
{
    int latest = 0;
    const char *dir = db_backend() ? db_backend()->name : "sqlite";
    for (size_t i = 0; i < assets_sql_count; i++) {
        if (!assets_sql[i].path) continue;
        int v = migrate_version_of(assets_sql[i].path, dir);
        if (v > latest) latest = v;
    }
    return latest;
}

static int current_version(struct db *db, long long *out)
{
    struct db_result *res = NULL;
    enum db_err e = db_query(db, SQL_CURRENT, DB_NOARGS, &res);
    if (e != DB_OK) return -1;
    *out = db_get_int(res, 0, 0);
    db_result_free(res);
    return 0;
}

/* 1 when version v is recorded, 0 when not, -1 on error. */
static int is_applied(struct db *db, int v)
{
    struct db_result *res = NULL;
    if (db_query(db, SQL_IS_APPLIED, DB_ARGS(DBP_INT(v)), &res) != DB_OK) {
        log_error("migrate: cannot read schema_migrations: %s", db_errmsg(db));
        return -1;
    }
    int applied = db_rows(res) > 0;
    db_result_free(res);
    return applied;
}

int migrate_run(struct db *db)
{
    const char *dir = db_backend()->name;
    int applied = 0;
    if (!db) {
        log_error("migrate: the database is unreachable");
        return -1;
    }
    if (db_exec(db, SQL_CREATE_TABLE, DB_NOARGS, NULL) != DB_OK) {
        log_error("migrate: cannot create schema_migrations: %s", db_errmsg(db));
        return -1;
    }
    int latest = migrate_latest();
    for (;;) {
        if (db_begin(db) != DB_OK) {
            log_error("migrate: cannot begin a transaction: %s", db_errmsg(db));
            return -1;
        }
        if (db_caps() & DB_CAP_ADVISORY_LOCK)
            db_exec(db, "SELECT pg_advisory_xact_lock($1)", DB_ARGS(DBP_INT(MIGRATION_LOCK_ID)),
                    NULL);
        long long current;
        if (current_version(db, &current) != 0) {
            log_error("migrate: cannot read schema_migrations: %s", db_errmsg(db));
            goto fail;
        }
        if (current > latest) {
            log_error("migrate: the database schema is version %lld but this binary knows only "
                      "up to %d; upgrade Portico (refusing to start)",
                      current, latest);
            goto fail;
        }
        /* The lowest embedded migration not yet recorded: versions may land
         * out of order, so a gap below the newest applied one still runs. */
        const struct embedded_file *next = NULL;
        int next_v = 0;
        for (size_t i = 0; i < assets_sql_count; i++) {
            if (!assets_sql[i].path) continue;
            int v = migrate_version_of(assets_sql[i].path, dir);
            if (v <= 0 || (next_v != 0 && v > next_v)) continue;
            if (v == next_v) {
                log_error("migrate: version %d is embedded twice (%s and %s)", v, next->path,
                          assets_sql[i].path);
                goto fail;
            }
            int applied_already = is_applied(db, v);
            if (applied_already < 0) goto fail;
            if (!applied_already) {
                next_v = v;
                next = &assets_sql[i];
            }
        }
        if (!next) {
            db_rollback(db);
            break;
        }
        char *sql = malloc(next->len + 1);
        if (!sql) goto fail;
        memcpy(sql, next->data, next->len);
        sql[next->len] = '\0';
        enum db_err e = db_exec_script(db, sql);
        free(sql);
        if (e != DB_OK) {
            log_error("migrate: %s failed: %s", next->path, db_errmsg(db));
            goto fail;
        }
        const char *name = strchr(next->path, '/') + 1;
        if (db_exec(db, SQL_RECORD,
                    DB_ARGS(DBP_INT(next_v), DBP_TEXT(name), DBP_INT(util_now_ms())),
                    NULL) != DB_OK ||
            db_commit(db) != DB_OK) {
            log_error("migrate: cannot record %s: %s", next->path, db_errmsg(db));
            goto fail;
        }
        log_info("migrate: applied %s", next->path);
        applied++;
    }
    return applied;
fail:
    db_rollback(db);
    return -1;
}
