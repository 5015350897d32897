/*
 * db_pg.c — the PostgreSQL backend on libpq: one connection per thread,
 * connect and statement timeouts, reconnect after the server restarts, named
 * prepared statements of the static SQL cached per connection (least
 * recently used given up when full; run-time SQL runs unnamed), LISTEN/NOTIFY.
 * Threading: a struct db belongs to one thread; `pg_url` is written once by
 * global_init before threads start.
 */
#define _GNU_SOURCE
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/config.h"
#include "portico/db.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/util.h"

struct db {
    PGconn *conn;
    struct db_stmt_cache cache;
    uint64_t stmt_id[DB_STMT_CACHE_SLOTS]; /* by cache slot: prepared as "p<id>" */
    uint64_t next_id;
    int in_tx;
    char err[256];
};

static char *pg_url;

static int pg_global_init(const struct config *cfg)
{
    pg_url = util_strdup(cfg->database.url);
    return pg_url ? 0 : -1;
}

static void pg_global_cleanup(void)
{
    free(pg_url);
    pg_url = NULL;
}

/* Forgets every cached statement (the connection is new or closing: the
 * server-side statements went with the old session). */
static void clear_cache(struct db *db)
{
    for (int i = 0; i < DB_STMT_CACHE_SLOTS; i++) db_stmt_cache_clear(&db->cache, i);
}

static PGconn *connect_pg(void)
{
    char timeout[16], options[64];
    snprintf(timeout, sizeof timeout, "%d", DB_PG_CONNECT_TIMEOUT_S);
    snprintf(options, sizeof options, "-c statement_timeout=%d", DB_PG_STATEMENT_TIMEOUT_MS);
    const char *keys[] = {"dbname", "connect_timeout", "options", "application_name", NULL};
    const char *vals[] = {pg_url, timeout, options, "portico", NULL};
    return PQconnectdbParams(keys, vals, 1);
}

static void quiet_notice(void *arg, const char *message)
{
    (void)arg, (void)message;
}

static enum db_err pg_open(struct db **out)
{
    struct db *db = calloc(1, sizeof *db);
    if (!db) return DB_ERR_INTERNAL;
    db->conn = connect_pg();
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        /* libpq's message may echo connection parameters; keep it out of
         * client responses, log only its first line. */
        const char *m = db->conn ? PQerrorMessage(db->conn) : "out of memory";
        char first[200];
        util_copy(first, sizeof first, m);
        char *nl = strchr(first, '\n');
        if (nl) *nl = '\0';
        log_warn("database: cannot connect to PostgreSQL: %s", first);
        PQfinish(db->conn);
        free(db);
        return DB_ERR_UNAVAILABLE;
    }
    PQsetNoticeProcessor(db->conn, quiet_notice, NULL);
    *out = db;
    return DB_OK;
}

static void pg_close(struct db *db)
{
    if (!db) return;
    clear_cache(db);
    PQfinish(db->conn);
    free(db);
}

static bool ensure_connected(struct db *db)
{
    if (PQstatus(db->conn) == CONNECTION_OK) return true;
    clear_cache(db);
    db->in_tx = 0;
    PQreset(db->conn);
    if (PQstatus(db->conn) != CONNECTION_OK) return false;
    PQsetNoticeProcessor(db->conn, quiet_notice, NULL);
    log_info("database: reconnected to PostgreSQL");
    return true;
}

static enum db_err classify(struct db *db, PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn);
    util_copy(db->err, sizeof db->err, msg && msg[0] ? msg : PQerrorMessage(db->conn));
    char *nl = strchr(db->err, '\n');
    if (nl) *nl = '\0';
    if (PQstatus(db->conn) != CONNECTION_OK) return DB_ERR_UNAVAILABLE;
    if (!state) return DB_ERR_UNAVAILABLE;
    if (strncmp(state, "23", 2) == 0) return DB_ERR_CONSTRAINT;
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
        strncmp(state, "53", 2) == 0)
        return DB_ERR_UNAVAILABLE;
    if (strcmp(state, "57014") == 0 || strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "55P03") == 0)
        return DB_ERR_BUSY;
    return DB_ERR_INTERNAL;
}

/* Finds or prepares a named statement for static SQL; returns its name in
 * `name`, or "" to execute unnamed (dynamic SQL, or no memory to cache). A
 * full cache gives up its least recently used statement (DEALLOCATE; names
 * are never reused, so one that could not be deallocated cannot clash). */
static enum db_err prepared_name(struct db *db, const char *sql, int n, bool cache, char name[24])
{
    name[0] = '\0';
    if (!cache) return DB_OK;
    int i = db_stmt_cache_find(&db->cache, sql);
    if (i >= 0) {
        snprintf(name, 24, "p%llu", (unsigned long long)db->stmt_id[i]);
        return DB_OK;
    }
    bool evict;
    i = db_stmt_cache_victim(&db->cache, &evict);
    if (evict) {
        char drop[48];
        snprintf(drop, sizeof drop, "DEALLOCATE p%llu", (unsigned long long)db->stmt_id[i]);
        PQclear(PQexec(db->conn, drop));
        db_stmt_cache_clear(&db->cache, i);
    }
    uint64_t id = ++db->next_id;
    char fresh[24];
    snprintf(fresh, sizeof fresh, "p%llu", (unsigned long long)id);
    PGresult *r = PQprepare(db->conn, fresh, sql, n, NULL);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        enum db_err e = classify(db, r);
        PQclear(r);
        return e;
    }
    PQclear(r);
    if (db_stmt_cache_store(&db->cache, i, sql) != 0) return DB_OK; /* runs unnamed */
    db->stmt_id[i] = id;
    util_copy(name, 24, fresh);
    return DB_OK;
}

static enum db_err run(struct db *db, const char *sql, const struct db_param *params, int n,
                       struct db_result **out, long *affected, bool cache)
{
    char bufs[DB_PARAMS_MAX][32];
    const char *values[DB_PARAMS_MAX];
    struct db_result *rows = NULL;
    enum db_err err = DB_OK;
    PGresult *res = NULL;
    if (n > DB_PARAMS_MAX) return DB_ERR_INTERNAL;
    for (int i = 0; i < n; i++) {
        switch (params[i].type) {
        case DB_T_TEXT: values[i] = params[i].text; break;
        case DB_T_INT:
            snprintf(bufs[i], sizeof bufs[i], "%lld", (long long)params[i].i);
            values[i] = bufs[i];
            break;
        case DB_T_REAL:
            snprintf(bufs[i], sizeof bufs[i], "%.17g", params[i].d);
            values[i] = bufs[i];
            break;
        default: values[i] = NULL; break;
        }
    }
    char name[24];
    err = prepared_name(db, sql, n, cache, name);
    if (err != DB_OK) return err;
    if (name[0])
        res = PQexecPrepared(db->conn, name, n, values, NULL, NULL, 0);
    else
        res = PQexecParams(db->conn, sql, n, NULL, values, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        err = classify(db, res);
        if (err != DB_ERR_CONSTRAINT) log_warn("database: %s", db->err);
        goto out;
    }
    if (affected) {
        const char *t = PQcmdTuples(res);
        *affected = t && *t ? strtol(t, NULL, 10) : 0;
    }
    if (out) {
        int cols = PQnfields(res);
        int nrows = PQntuples(res);
        rows = db_result_new(cols);
        if (!rows || cols > 64) {
            err = DB_ERR_INTERNAL;
            goto out;
        }
        for (int r = 0; r < nrows; r++) {
            const char *vals[64];
            size_t lens[64];
            for (int c = 0; c < cols; c++) {
                vals[c] = PQgetisnull(res, r, c) ? NULL : PQgetvalue(res, r, c);
                lens[c] = (size_t)PQgetlength(res, r, c);
            }
            if (db_result_add_row(rows, vals, lens) != 0) {
                err = DB_ERR_INTERNAL;
                goto out;
            }
        }
        *out = rows;
        rows = NULL;
    }
out:
    PQclear(res);
    db_result_free(rows);
    return err;
}

static enum db_err pg_query(struct db *db, const char *sql, const struct db_param *params, int n,
                            struct db_result **out, long *affected, bool cache)
{
    if (!ensure_connected(db)) {
        util_copy(db->err, sizeof db->err, "PostgreSQL unreachable");
        return DB_ERR_UNAVAILABLE;
    }
    bool was_in_tx = db->in_tx;
    enum db_err e = run(db, sql, params, n, out, affected, cache);
    /* A connection that died while idle (server restarted) never ran the
     * statement: reconnect and try once more outside transactions. */
    if (e == DB_ERR_UNAVAILABLE && !was_in_tx && PQstatus(db->conn) != CONNECTION_OK &&
        ensure_connected(db))
        e = run(db, sql, params, n, out, affected, cache);
    return e;
}

static enum db_err pg_exec_script(struct db *db, const char *sql)
{
    if (!ensure_connected(db)) return DB_ERR_UNAVAILABLE;
    PGresult *res = PQexec(db->conn, sql);
    enum db_err e = DB_OK;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) e = classify(db, res);
    PQclear(res);
    return e;
}

static enum db_err simple(struct db *db, const char *sql)
{
    PGresult *res = PQexec(db->conn, sql);
    enum db_err e = DB_OK;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) e = classify(db, res);
    PQclear(res);
    return e;
}

static enum db_err pg_begin(struct db *db)
{
    if (!ensure_connected(db)) return DB_ERR_UNAVAILABLE;
    enum db_err e = simple(db, "BEGIN");
    if (e == DB_OK) db->in_tx = 1;
    return e;
}

static enum db_err pg_commit(struct db *db)
{
    enum db_err e = simple(db, "COMMIT");
    db->in_tx = 0;
    return e;
}

static enum db_err pg_rollback(struct db *db)
{
    db->in_tx = 0;
    if (PQstatus(db->conn) != CONNECTION_OK) return DB_OK;
    if (PQtransactionStatus(db->conn) == PQTRANS_IDLE) return DB_OK;
    return simple(db, "ROLLBACK");
}

static enum db_err pg_ping(struct db *db)
{
    return pg_query(db, "SELECT 1", NULL, 0, NULL, NULL, true);
}

static enum db_err pg_notify(struct db *db, const char *channel, const char *payload)
{
    return pg_query(db, "SELECT pg_notify($1, $2)", DB_ARGS(DBP_TEXT(channel), DBP_TEXT(payload)),
                    NULL, NULL, true);
}

static enum db_err pg_listen(struct db *db, const char *channel)
{
    for (const char *c = channel; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || *c == '_')) return DB_ERR_INTERNAL;
    char sql[128];
    snprintf(sql, sizeof sql, "LISTEN %s", channel);
    if (!ensure_connected(db)) return DB_ERR_UNAVAILABLE;
    return simple(db, sql);
}

static enum db_err pg_wait_notify(struct db *db, int timeout_ms,
                                  void (*cb)(const char *, const char *, void *), void *ud)
{
    if (PQstatus(db->conn) != CONNECTION_OK) return DB_ERR_UNAVAILABLE;
    struct pollfd pfd = {.fd = PQsocket(db->conn), .events = POLLIN};
    int rc = poll(&pfd, 1, timeout_ms);
    if (rc < 0) return DB_OK;
    if (rc > 0 && !PQconsumeInput(db->conn)) {
        util_copy(db->err, sizeof db->err, PQerrorMessage(db->conn));
        return DB_ERR_UNAVAILABLE;
    }
    PGnotify *n;
    while ((n = PQnotifies(db->conn)) != NULL) {
        cb(n->relname, n->extra, ud);
        PQfreemem(n);
    }
    return PQstatus(db->conn) == CONNECTION_OK ? DB_OK : DB_ERR_UNAVAILABLE;
}

static const char *pg_errmsg(struct db *db)
{
    return db->err;
}

static struct db_stmt_cache *pg_stmt_cache(struct db *db)
{
    return &db->cache;
}

const struct db_ops db_pg_ops = {
    .name = "postgres",
    .caps = DB_CAP_NOTIFY | DB_CAP_ADVISORY_LOCK | DB_CAP_MULTI_PROCESS,
    .global_init = pg_global_init,
    .global_cleanup = pg_global_cleanup,
    .open = pg_open,
    .close = pg_close,
    .query = pg_query,
    .stmt_cache = pg_stmt_cache,
    .exec_script = pg_exec_script,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .ping = pg_ping,
    .notify = pg_notify,
    .listen = pg_listen,
    .wait_notify = pg_wait_notify,
    .errmsg = pg_errmsg,
};
