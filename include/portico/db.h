/*
 * db.h — the one database facade. Callers write SQL with $1..$N placeholders
 * (both backends accept them), bind every value through struct db_param, and
 * read results as text. Backends are `static const struct db_ops` tables
 * (db_sqlite.c, db_pg.c); callers test capabilities, never the backend.
 *
 * Threading: each thread uses its own connection from db_thread() (opened
 * lazily, closed by db_thread_close() when the thread ends). A struct db is
 * never shared between threads. db_init/db_shutdown run on the main thread.
 *
 * Conventions the schema follows so SQL stays portable: times are BIGINT
 * milliseconds since the epoch, booleans are INTEGER 0/1, JSON is TEXT,
 * case-insensitive search columns are lower-cased in C (util_utf8_lower).
 */
#ifndef PORTICO_DB_H
#define PORTICO_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portico/limits.h"
#include "portico/util.h"

struct config;
struct db;
struct db_result;
struct db_stmt_cache;

enum db_err {
    DB_OK = 0,
    DB_ERR_UNAVAILABLE, /* cannot reach / write the database: HTTP 503 */
    DB_ERR_BUSY,        /* locked beyond the busy timeout: HTTP 503 */
    DB_ERR_CONSTRAINT,  /* unique / foreign key / check violated: HTTP 409 */
    DB_ERR_INTERNAL,    /* anything else (bad SQL, OOM): HTTP 500, logged */
};

enum db_type { DB_T_NULL, DB_T_TEXT, DB_T_INT, DB_T_REAL };

struct db_param {
    enum db_type type;
    const char *text; /* DB_T_TEXT; NULL binds SQL NULL */
    int64_t i;
    double d;
};

#define DBP_NULL ((struct db_param){DB_T_NULL, NULL, 0, 0})
#define DBP_TEXT(s) ((struct db_param){DB_T_TEXT, (s), 0, 0})
#define DBP_INT(v) ((struct db_param){DB_T_INT, NULL, (int64_t)(v), 0})
#define DBP_REAL(v) ((struct db_param){DB_T_REAL, NULL, 0, (double)(v)})
#define DBP_BOOL(v) DBP_INT((v) ? 1 : 0)
/* DB_ARGS(DBP_TEXT(a), DBP_INT(b)) expands to "array, count". */
#define DB_ARGS(...)                                                                               \
    (const struct db_param[]){__VA_ARGS__},                                                        \
        (int)(sizeof((const struct db_param[]){__VA_ARGS__}) / sizeof(struct db_param))
#define DB_NOARGS NULL, 0

/* Capabilities a backend may have. */
#define DB_CAP_NOTIFY 0x1        /* LISTEN/NOTIFY across processes */
#define DB_CAP_ADVISORY_LOCK 0x2 /* pg_advisory_xact_lock */
#define DB_CAP_MULTI_PROCESS 0x4 /* several Portico processes may share it */

struct db_ops {
    const char *name; /* "sqlite" or "postgres": for logs and migrations dir */
    unsigned caps;
    int (*global_init)(const struct config *cfg);
    void (*global_cleanup)(void);
    /* Opens a connection; *out set on success. */
    enum db_err (*open)(struct db **out);
    void (*close)(struct db *db);
    /* cache: the SQL is static text (keep it prepared); false for SQL
     * built at run time, which must never take a statement-cache slot. */
    enum db_err (*query)(struct db *db, const char *sql, const struct db_param *params, int n,
                         struct db_result **out, long *affected, bool cache);
    /* Runs a script of several statements (migrations), no parameters. */
    enum db_err (*exec_script)(struct db *db, const char *sql);
    enum db_err (*begin)(struct db *db);
    enum db_err (*commit)(struct db *db);
    enum db_err (*rollback)(struct db *db);
    enum db_err (*ping)(struct db *db);
    /* NOTIFY channel payload (no-op where unsupported). */
    enum db_err (*notify)(struct db *db, const char *channel, const char *payload);
    /* LISTEN channel on this connection. */
    enum db_err (*listen)(struct db *db, const char *channel);
    /* Waits up to timeout_ms for notifications and calls cb for each. */
    enum db_err (*wait_notify)(struct db *db, int timeout_ms,
                               void (*cb)(const char *channel, const char *payload, void *ud),
                               void *ud);
    /* Last error text for logs (never sent to clients). */
    const char *(*errmsg)(struct db *db);
    /* The connection's statement cache (tests and diagnostics). */
    struct db_stmt_cache *(*stmt_cache)(struct db *db);
};

/* The one builder for SQL with optional filters: the text and its bound
 * values together. Fragments write '?' for each value (SQL text here never
 * holds a literal '?'); db_where_add numbers them $1..$N in order, so text
 * and values cannot drift apart. More values than DB_PARAMS_MAX, or no
 * memory, marks the builder failed (db_where_failed); nothing overflows. */
struct db_where {
    struct strbuf sql;
    struct db_param params[DB_PARAMS_MAX];
    int n;
};
void db_where_init(struct db_where *w, const char *base);
/* Appends frag, binding its '?'s to vals[0..nvals) in order (a '?' without
 * a value, or a value without a '?', fails the builder). */
void db_where_add(struct db_where *w, const char *frag, const struct db_param *vals, int nvals);
#define DB_WHERE_ADD(w, frag, ...) db_where_add((w), (frag), DB_ARGS(__VA_ARGS__))
bool db_where_failed(const struct db_where *w);
void db_where_cleanup(struct db_where *w);
/* Runs the built SQL (as db_query_dynamic: never statement-cached). */
enum db_err db_where_query(struct db *db, const struct db_where *w, struct db_result **out);

/* The one LIKE escaper: "<pre><s with \\, % and _ escaped>"<post>" for
 * `LIKE $n ESCAPE '\\'` (s is n bytes). Every special character gets one
 * backslash, the same as escaping \\ first, then % and _. Returns a
 * malloc'd string the caller frees with free(); NULL on OOM. */
char *db_like_pattern(const char *pre, const char *s, size_t n, const char *post);

/* For backends: the index of a per-connection statement cache. Slots hold
 * static SQL only (db_ops.query with cache = true); when every slot is
 * taken, the least recently used one is given up (the backend frees its
 * statement first), so the cache never stops caching. */
#define DB_STMT_CACHE_SLOTS 128
struct db_stmt_cache {
    struct db_stmt_slot {
        char *sql; /* NULL: free */
        unsigned long hash;
        uint64_t used; /* the tick of the last use (LRU) */
    } slot[DB_STMT_CACHE_SLOTS];
    uint64_t tick;
};
/* The slot holding sql (marked used), or -1. */
int db_stmt_cache_find(struct db_stmt_cache *c, const char *sql);
/* A slot for a new statement: a free one, else the least recently used
 * (*evict set: the backend must free that slot's statement, then call
 * db_stmt_cache_store). */
int db_stmt_cache_victim(struct db_stmt_cache *c, bool *evict);
/* Records sql in slot i (copies it); -1 when out of memory (slot stays free). */
int db_stmt_cache_store(struct db_stmt_cache *c, int i, const char *sql);
/* Frees slot i's text (the backend freed its statement). */
void db_stmt_cache_clear(struct db_stmt_cache *c, int i);
/* How many statements db's cache holds, and whether it holds sql. */
int db_stmt_cache_count(struct db *db);
bool db_stmt_cache_has(struct db *db, const char *sql);

/* Picks the backend from cfg (database.url) and prepares it (creates the
 * SQLite directory). 0 on success, -1 with a logged reason. */
int db_init(const struct config *cfg);
void db_shutdown(void);
const struct db_ops *db_backend(void);
unsigned db_caps(void);

/* This thread's connection, opened on first use. NULL when the database
 * cannot be reached (then every call returns DB_ERR_UNAVAILABLE). The
 * connection is owned by the thread; do not close it. */
struct db *db_thread(void);
/* Closes this thread's connection (thread exit hooks call it). */
void db_thread_close(void);
/* Opens a private connection the caller owns (close with db_close). */
enum db_err db_open(struct db **out);
void db_close(struct db *db);

/* Runs one statement. *out (may be NULL when no rows are wanted) receives the
 * rows; *affected (may be NULL) the number of changed rows. On error *out is
 * left NULL. Free results with db_result_free. */
enum db_err db_query(struct db *db, const char *sql, const struct db_param *params, int n,
                     struct db_result **out);
enum db_err db_exec(struct db *db, const char *sql, const struct db_param *params, int n,
                    long *affected);
/* The same for SQL built at run time (a WHERE from filters, an IN list):
 * prepared for this call only, so texts that vary never take a slot of the
 * connection's statement cache, which holds the static SQL constants. */
enum db_err db_query_dynamic(struct db *db, const char *sql, const struct db_param *params, int n,
                             struct db_result **out);
enum db_err db_exec_dynamic(struct db *db, const char *sql, const struct db_param *params, int n,
                            long *affected);
enum db_err db_exec_script(struct db *db, const char *sql);
enum db_err db_begin(struct db *db);
enum db_err db_commit(struct db *db);
enum db_err db_rollback(struct db *db);
enum db_err db_ping(struct db *db);
enum db_err db_notify(struct db *db, const char *channel, const char *payload);
enum db_err db_listen(struct db *db, const char *channel);
enum db_err db_wait_notify(struct db *db, int timeout_ms,
                           void (*cb)(const char *channel, const char *payload, void *ud),
                           void *ud);
const char *db_errmsg(struct db *db);
const char *db_err_name(enum db_err e);

/* Result access. Values are text as the database prints them (integers in
 * decimal, reals in shortest round-trip form); NULL for SQL NULL. */
size_t db_rows(const struct db_result *res);
int db_cols(const struct db_result *res);
const char *db_get(const struct db_result *res, size_t row, int col);
bool db_is_null(const struct db_result *res, size_t row, int col);
int64_t db_get_int(const struct db_result *res, size_t row, int col);
double db_get_double(const struct db_result *res, size_t row, int col);
void db_result_free(struct db_result *res);

/* For backends: build a result row by row. */
struct db_result *db_result_new(int cols);
/* Appends a row; vals[i] may be NULL; lens[i] its length. 0 on success. */
int db_result_add_row(struct db_result *res, const char *const *vals, const size_t *lens);

#endif
