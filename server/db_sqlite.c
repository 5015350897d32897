/*
 * db_sqlite.c — the SQLite backend: WAL, busy_timeout, foreign keys, one
 * connection per thread, a per-connection cache of the static SQL's prepared
 * statements (least recently used given up when full; SQL built at run time
 * is prepared for its one call).
 * Threading: a struct db belongs to one thread; `sqlite_path` is written once
 * by global_init before threads start.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "portico/config.h"
#include "portico/db.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/util.h"

#define SQ_STR_(x) #x
#define SQ_STR(x) SQ_STR_(x)

struct db {
    sqlite3 *h;
    struct db_stmt_cache cache;
    sqlite3_stmt *stmt[DB_STMT_CACHE_SLOTS]; /* by cache slot */
    int in_tx;
    char err[256];
};

static char *sqlite_path;

static int mkdirs(const char *path)
{
    char buf[1024];
    if (!util_copy(buf, sizeof buf, path)) return -1;
    char *slash = strrchr(buf, '/');
    if (!slash) return 0;
    *slash = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0750) != 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    }
    if (buf[0] && mkdir(buf, 0750) != 0 && errno != EEXIST) return -1;
    return 0;
}

static int sq_global_init(const struct config *cfg)
{
    if (mkdirs(cfg->database.sqlite_path) != 0) {
        log_error("database: cannot create the directory of %s: %s", cfg->database.sqlite_path,
                  strerror(errno));
        return -1;
    }
    sqlite_path = util_strdup(cfg->database.sqlite_path);
    return sqlite_path ? 0 : -1;
}

static void sq_global_cleanup(void)
{
    free(sqlite_path);
    sqlite_path = NULL;
}

static enum db_err classify(struct db *db, int rc)
{
    util_copy(db->err, sizeof db->err, sqlite3_errmsg(db->h));
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return DB_OK;
    case SQLITE_CONSTRAINT: return DB_ERR_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return DB_ERR_BUSY;
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return DB_ERR_UNAVAILABLE;
    default: return DB_ERR_INTERNAL;
    }
}

static enum db_err sq_open(struct db **out)
{
    struct db *db = calloc(1, sizeof *db);
    if (!db) return DB_ERR_INTERNAL;
    int rc =
        sqlite3_open_v2(sqlite_path, &db->h,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        log_error("database: cannot open %s: %s", sqlite_path,
                  db->h ? sqlite3_errmsg(db->h) : "out of memory");
        sqlite3_close(db->h);
        free(db);
        return DB_ERR_UNAVAILABLE;
    }
    sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
    char *msg = NULL;
    /* wal_autocheckpoint 3000 pages (default 1000): a checkpoint copies each
     * hot page once however often it changed, so fewer, larger checkpoints
     * cost less per write (heartbeats: ~10% less CPU each, measured with
     * bench/gateways.sh) at the price of a longer pause when one runs. */
    /* cache_size: each worker thread has its own connection, and each
     * connection's page cache (2 MB by default) fills with whatever pages
     * its requests touched, so 16 threads grew RSS by up to 32 MB; the
     * kernel's page cache holds the file anyway (a miss costs one pread). */
    rc = sqlite3_exec(db->h,
                      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                      "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
                      "PRAGMA wal_autocheckpoint=3000; "
                      "PRAGMA cache_size=-" SQ_STR(DB_SQLITE_CACHE_KIB) ";",
                      NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        log_error("database: cannot configure %s: %s", sqlite_path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db->h);
        free(db);
        return DB_ERR_UNAVAILABLE;
    }
    *out = db;
    return DB_OK;
}

static void sq_close(struct db *db)
{
    if (!db) return;
    for (int i = 0; i < DB_STMT_CACHE_SLOTS; i++) {
        sqlite3_finalize(db->stmt[i]);
        db_stmt_cache_clear(&db->cache, i);
    }
    sqlite3_close(db->h);
    free(db);
}

/* Returns a prepared statement for sql; *owned is true when the caller must
 * finalize it (dynamic SQL, or no memory to cache it). */
static int prepare(struct db *db, const char *sql, bool cache, sqlite3_stmt **out, bool *owned)
{
    int i = cache ? db_stmt_cache_find(&db->cache, sql) : -1;
    if (i >= 0) {
        *out = db->stmt[i];
        *owned = false;
        return SQLITE_OK;
    }
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(db->h, sql, -1, cache ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
    if (rc != SQLITE_OK) return rc;
    *out = st;
    *owned = true;
    if (!cache) return SQLITE_OK;
    bool evict;
    i = db_stmt_cache_victim(&db->cache, &evict);
    if (evict) {
        sqlite3_finalize(db->stmt[i]);
        db->stmt[i] = NULL;
        db_stmt_cache_clear(&db->cache, i);
    }
    if (db_stmt_cache_store(&db->cache, i, sql) == 0) {
        db->stmt[i] = st;
        *owned = false;
    }
    return SQLITE_OK;
}

static int bind_params(sqlite3_stmt *st, const struct db_param *params, int n)
{
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx == 0) continue;
        int rc;
        switch (params[i].type) {
        case DB_T_TEXT:
            rc = params[i].text ? sqlite3_bind_text(st, idx, params[i].text, -1, SQLITE_STATIC)
                                : sqlite3_bind_null(st, idx);
            break;
        case DB_T_INT: rc = sqlite3_bind_int64(st, idx, params[i].i); break;
        case DB_T_REAL: rc = sqlite3_bind_double(st, idx, params[i].d); break;
        default: rc = sqlite3_bind_null(st, idx); break;
        }
        if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
}

static enum db_err sq_query(struct db *db, const char *sql, const struct db_param *params, int n,
                            struct db_result **out, long *affected, bool cache)
{
    sqlite3_stmt *st = NULL;
    bool owned = false;
    struct db_result *res = NULL;
    enum db_err err = DB_OK;
    int rc = prepare(db, sql, cache, &st, &owned);
    if (rc != SQLITE_OK) {
        err = classify(db, rc);
        log_error("database: prepare failed: %s", db->err);
        return err;
    }
    rc = bind_params(st, params, n);
    if (rc != SQLITE_OK) {
        err = classify(db, rc);
        goto out;
    }
    int cols = sqlite3_column_count(st);
    if (out) {
        res = db_result_new(cols);
        if (!res) {
            err = DB_ERR_INTERNAL;
            goto out;
        }
    }
    for (;;) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            if (!res) continue;
            const char *vals[64];
            size_t lens[64];
            if (cols > 64) {
                err = DB_ERR_INTERNAL;
                goto out;
            }
            for (int c = 0; c < cols; c++) {
                vals[c] = (const char *)sqlite3_column_text(st, c);
                lens[c] = (size_t)sqlite3_column_bytes(st, c);
            }
            if (db_result_add_row(res, vals, lens) != 0) {
                err = DB_ERR_INTERNAL;
                goto out;
            }
            continue;
        }
        if (rc == SQLITE_DONE) break;
        err = classify(db, rc);
        if (err != DB_ERR_CONSTRAINT) log_warn("database: %s", db->err);
        goto out;
    }
    if (affected) *affected = (long)sqlite3_changes(db->h);
out:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (owned) sqlite3_finalize(st);
    if (err == DB_OK && out) {
        *out = res;
        res = NULL;
    }
    db_result_free(res);
    return err;
}

static enum db_err sq_exec_script(struct db *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        util_copy(db->err, sizeof db->err, msg ? msg : sqlite3_errmsg(db->h));
        sqlite3_free(msg);
        enum db_err e = classify(db, rc);
        util_copy(db->err, sizeof db->err, sqlite3_errmsg(db->h));
        return e;
    }
    return DB_OK;
}

static enum db_err simple(struct db *db, const char *sql)
{
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? DB_OK : classify(db, rc);
}

static enum db_err sq_begin(struct db *db)
{
    /* IMMEDIATE takes the write lock now, so a transaction never fails later
     * with an unretryable SQLITE_BUSY on its first write. */
    return simple(db, "BEGIN IMMEDIATE");
}

static enum db_err sq_commit(struct db *db)
{
    return simple(db, "COMMIT");
}

static enum db_err sq_rollback(struct db *db)
{
    if (sqlite3_get_autocommit(db->h)) return DB_OK;
    return simple(db, "ROLLBACK");
}

static enum db_err sq_ping(struct db *db)
{
    return sq_query(db, "SELECT 1", NULL, 0, NULL, NULL, true);
}

static enum db_err sq_notify(struct db *db, const char *channel, const char *payload)
{
    (void)db, (void)channel, (void)payload;
    return DB_OK;
}

static enum db_err sq_listen(struct db *db, const char *channel)
{
    (void)db, (void)channel;
    return DB_OK;
}

static enum db_err sq_wait_notify(struct db *db, int timeout_ms,
                                  void (*cb)(const char *, const char *, void *), void *ud)
{
    (void)db, (void)timeout_ms, (void)cb, (void)ud;
    return DB_OK;
}

static const char *sq_errmsg(struct db *db)
{
    return db->err;
}

static struct db_stmt_cache *sq_stmt_cache(struct db *db)
{
    return &db->cache;
}

const struct db_ops db_sqlite_ops = {
    .name = "sqlite",
    .caps = 0,
    .global_init = sq_global_init,
    .global_cleanup = sq_global_cleanup,
    .open = sq_open,
    .close = sq_close,
    .query = sq_query,
    .stmt_cache = sq_stmt_cache,
    .exec_script = sq_exec_script,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .ping = sq_ping,
    .notify = sq_notify,
    .listen = sq_listen,
    .wait_notify = sq_wait_notify,
    .errmsg = sq_errmsg,
};
