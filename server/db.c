/*
 * db.c — the database facade: backend selection, per-thread connections and
 * the result container shared by both backends.
 * Threading: `backend` is set once by db_init before threads start; each
 * thread's connection lives in thread-local storage.
 */
#include "portico/db.h"

#include <stdlib.h>
#include <string.h>

#include "portico/config.h"
#include "portico/log.h"
#include "portico/util.h"

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

static const struct db_ops *backend;
static _Thread_local struct db *thread_db;

struct db_result {
    int cols;
    size_t rows, cap;
    char ***data; /* data[row][col], each row one allocation */
};

int db_init(const struct config *cfg)
{
    backend = cfg->database.url[0] ? &db_pg_ops : &db_sqlite_ops;
    return backend->global_init(cfg);
}

void db_shutdown(void)
{
    db_thread_close();
    if (backend) backend->global_cleanup();
}

const struct db_ops *db_backend(void)
{
    return backend;
}

unsigned db_caps(void)
{
    return backend ? backend->caps : 0;
}

struct db *db_thread(void)
{
    if (!thread_db && backend) {
        struct db *db = NULL;
        if (backend->open(&db) == DB_OK) thread_db = db;
    }
    return thread_db;
}

void db_thread_close(void)
{
    if (thread_db && backend) backend->close(thread_db);
    thread_db = NULL;
}

enum db_err db_open(struct db **out)
{
    return backend ? backend->open(out) : DB_ERR_UNAVAILABLE;
}

void db_close(struct db *db)
{
    if (db && backend) backend->close(db);
}

/* Every statement goes through here; `cache`: the SQL is static text. */
static enum db_err run(struct db *db, const char *sql, const struct db_param *params, int n,
                       struct db_result **out, long *affected, bool cache)
{
    if (out) *out = NULL;
    if (!db) return DB_ERR_UNAVAILABLE;
    return backend->query(db, sql, params, n, out, affected, cache);
}

enum db_err db_query(struct db *db, const char *sql, const struct db_param *params, int n,
                     struct db_result **out)
{
    return run(db, sql, params, n, out, NULL, true);
}

enum db_err db_exec(struct db *db, const char *sql, const struct db_param *params, int n,
                    long *affected)
{
    return run(db, sql, params, n, NULL, affected, true);
}

enum db_err db_query_dynamic(struct db *db, const char *sql, const struct db_param *params, int n,
                             struct db_result **out)
{
    return run(db, sql, params, n, out, NULL, false);
}

enum db_err db_exec_dynamic(struct db *db, const char *sql, const struct db_param *params, int n,
                            long *affected)
{
    return run(db, sql, params, n, NULL, affected, false);
}

void db_where_init(struct db_where *w, const char *base)
{
    memset(w, 0, sizeof *w);
    strbuf_init(&w->sql, DB_WHERE_SQL_MAX);
    strbuf_puts(&w->sql, base);
}

void db_where_add(struct db_where *w, const char *frag, const struct db_param *vals, int nvals)
{
    int used = 0;
    for (const char *p = frag; *p; p++) {
        if (*p != '?') {
            strbuf_append(&w->sql, p, 1);
            continue;
        }
        if (used >= nvals || w->n >= DB_PARAMS_MAX) {
            w->sql.failed = true;
            return;
        }
        w->params[w->n++] = vals[used++];
        strbuf_printf(&w->sql, "$%d", w->n);
    }
    if (used != nvals) w->sql.failed = true;
}

bool db_where_failed(const struct db_where *w)
{
    return w->sql.failed || !w->sql.data;
}

void db_where_cleanup(struct db_where *w)
{
    strbuf_cleanup(&w->sql);
    w->n = 0;
}

enum db_err db_where_query(struct db *db, const struct db_where *w, struct db_result **out)
{
    if (out) *out = NULL;
    if (db_where_failed(w)) return DB_ERR_INTERNAL;
    return db_query_dynamic(db, w->sql.data, w->params, w->n, out);
}

char *db_like_pattern(const char *pre, const char *s, size_t n, const char *post)
{
    char *out = malloc(strlen(pre) + 2 * n + strlen(post) + 1);
    if (!out) return NULL;
    char *o = out;
    for (const char *c = pre; *c; c++) *o++ = *c;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '%' || s[i] == '_') *o++ = '\\';
        *o++ = s[i];
    }
    for (const char *c = post; *c; c++) *o++ = *c;
    *o = '\0';
    return out;
}

/* ---- statement cache index (for the backends) ---------------------------- */

static unsigned long sql_hash(const char *s)
{
    unsigned long h = 5381;
    for (; *s; s++) h = h * 33 + (unsigned char)*s;
    return h;
}

int db_stmt_cache_find(struct db_stmt_cache *c, const char *sql)
{
    unsigned long h = sql_hash(sql);
    for (int i = 0; i < DB_STMT_CACHE_SLOTS; i++) {
        struct db_stmt_slot *s = &c->slot[i];
        if (s->sql && s->hash == h && strcmp(s->sql, sql) == 0) {
            s->used = ++c->tick;
            return i;
        }
    }
    return -1;
}

int db_stmt_cache_victim(struct db_stmt_cache *c, bool *evict)
{
    int lru = 0;
    for (int i = 0; i < DB_STMT_CACHE_SLOTS; i++) {
        if (!c->slot[i].sql) {
            *evict = false;
            return i;
        }
        if (c->slot[i].used < c->slot[lru].used) lru = i;
    }
    *evict = true;
    return lru;
}

int db_stmt_cache_store(struct db_stmt_cache *c, int i, const char *sql)
{
    struct db_stmt_slot *s = &c->slot[i];
    free(s->sql);
    s->sql = util_strdup(sql);
    if (!s->sql) return -1;
    s->hash = sql_hash(sql);
    s->used = ++c->tick;
    return 0;
}

void db_stmt_cache_clear(struct db_stmt_cache *c, int i)
{
    free(c->slot[i].sql);
    c->slot[i].sql = NULL;
}

int db_stmt_cache_count(struct db *db)
{
    struct db_stmt_cache *c = db && backend ? backend->stmt_cache(db) : NULL;
    int n = 0;
    for (int i = 0; c && i < DB_STMT_CACHE_SLOTS; i++) n += c->slot[i].sql != NULL;
    return n;
}

bool db_stmt_cache_has(struct db *db, const char *sql)
{
    struct db_stmt_cache *c = db && backend ? backend->stmt_cache(db) : NULL;
    for (int i = 0; c && i < DB_STMT_CACHE_SLOTS; i++)
        if (c->slot[i].sql && strcmp(c->slot[i].sql, sql) == 0) return true;
    return false;
}

enum db_err db_exec_script(struct db *db, const char *sql)
{
    return db ? backend->exec_script(db, sql) : DB_ERR_UNAVAILABLE;
}

enum db_err db_begin(struct db *db)
{
    return db ? backend->begin(db) : DB_ERR_UNAVAILABLE;
}

enum db_err db_commit(struct db *db)
{
    return db ? backend->commit(db) : DB_ERR_UNAVAILABLE;
}

enum db_err db_rollback(struct db *db)
{
    return db ? backend->rollback(db) : DB_ERR_UNAVAILABLE;
}

enum db_err db_ping(struct db *db)
{
    return db ? backend->ping(db) : DB_ERR_UNAVAILABLE;
}

enum db_err db_notify(struct db *db, const char *channel, const char *payload)
{
    return db ? backend->notify(db, channel, payload) : DB_ERR_UNAVAILABLE;
}

enum db_err db_listen(struct db *db, const char *channel)
{
    return db ? backend->listen(db, channel) : DB_ERR_UNAVAILABLE;
}

enum db_err db_wait_notify(struct db *db, int timeout_ms,
                           void (*cb)(const char *channel, const char *payload, void *ud), void *ud)
{
    return db ? backend->wait_notify(db, timeout_ms, cb, ud) : DB_ERR_UNAVAILABLE;
}

const char *db_errmsg(struct db *db)
{
    return db ? backend->errmsg(db) : "no database connection";
}

const char *db_err_name(enum db_err e)
{
    switch (e) {
    case DB_OK: return "ok";
    case DB_ERR_UNAVAILABLE: return "database unavailable";
    case DB_ERR_BUSY: return "database busy";
    case DB_ERR_CONSTRAINT: return "constraint violated";
    case DB_ERR_INTERNAL: return "database error";
    }
    return "database error";
}

struct db_result *db_result_new(int cols)
{
    struct db_result *r = calloc(1, sizeof *r);
    if (r) r->cols = cols;
    return r;
}

int db_result_add_row(struct db_result *res, const char *const *vals, const size_t *lens)
{
    if (res->rows == res->cap) {
        size_t cap = res->cap ? res->cap * 2 : 16;
        char ***d = realloc(res->data, cap * sizeof *d);
        if (!d) return -1;
        res->data = d;
        res->cap = cap;
    }
    size_t total = (size_t)res->cols * sizeof(char *);
    for (int c = 0; c < res->cols; c++)
        if (vals[c]) total += lens[c] + 1;
    char **row = malloc(total ? total : 1);
    if (!row) return -1;
    char *p = (char *)(row + res->cols);
    for (int c = 0; c < res->cols; c++) {
        if (!vals[c]) {
            row[c] = NULL;
            continue;
        }
        memcpy(p, vals[c], lens[c]);
        p[lens[c]] = '\0';
        row[c] = p;
        p += lens[c] + 1;
    }
    res->data[res->rows++] = row;
    return 0;
}

size_t db_rows(const struct db_result *res)
{
    return res ? res->rows : 0;
}

int db_cols(const struct db_result *res)
{
    return res ? res->cols : 0;
}

const char *db_get(const struct db_result *res, size_t row, int col)
{
    if (!res || row >= res->rows || col < 0 || col >= res->cols) return NULL;
    return res->data[row][col];
}

bool db_is_null(const struct db_result *res, size_t row, int col)
{
    return db_get(res, row, col) == NULL;
}

int64_t db_get_int(const struct db_result *res, size_t row, int col)
{
    const char *v = db_get(res, row, col);
    return v ? strtoll(v, NULL, 10) : 0;
}

double db_get_double(const struct db_result *res, size_t row, int col)
{
    const char *v = db_get(res, row, col);
    return v ? strtod(v, NULL) : 0.0;
}

void db_result_free(struct db_result *res)
{
    if (!res) return;
    for (size_t i = 0; i < res->rows; i++) free(res->data[i]);
    free(res->data);
    free(res);
}
