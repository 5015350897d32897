/*
 * test_db.c — the database facade against a real SQLite file and, when
 * PORTICO_TEST_PG_URL is set, a real PostgreSQL: migrations, parameters of
 * every type, NULLs, constraint errors, transactions, concurrent writers,
 * refusing a newer schema, an unreachable server.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "portico/config.h"
#include "portico/crypto.h"
#include "portico/db.h"
#include "portico/migrate.h"

static struct config cfg;
static char sqlite_dir[64] = "/tmp/portico-test-db-XXXXXX";
static char sqlite_path[128];

static int setup_backend(const char *pg_url)
{
    memset(&cfg, 0, sizeof cfg);
    snprintf(sqlite_path, sizeof sqlite_path, "%s/sub/p.db", sqlite_dir);
    cfg.database.url = (char *)(pg_url ? pg_url : "");
    cfg.database.sqlite_path = sqlite_path;
    if (db_init(&cfg) != 0) return -1;
    struct db *db = db_thread();
    if (!db) return -1;
    /* Start from an empty schema each run. */
    db_exec_script(db, "DROP TABLE IF EXISTS t_items; DROP TABLE IF EXISTS t_conc;");
    return migrate_run(db) < 0 ? -1 : 0;
}

static int setup_sqlite(void **state)
{
    (void)state;
    if (!mkdtemp(sqlite_dir)) return -1;
    return setup_backend(NULL);
}

static int setup_pg(void **state)
{
    (void)state;
    return setup_backend(getenv("PORTICO_TEST_PG_URL"));
}

static int teardown(void **state)
{
    (void)state;
    db_shutdown();
    return 0;
}

static void test_migrations_idempotent(void **state)
{
    (void)state;
    struct db *db = db_thread();
    assert_int_equal(migrate_run(db), 0);
    struct db_result *res = NULL;
    assert_int_equal(db_query(db, "SELECT MAX(version) FROM schema_migrations", DB_NOARGS, &res),
                     DB_OK);
    assert_int_equal(db_get_int(res, 0, 0), migrate_latest());
    db_result_free(res);
    assert_true(migrate_latest() >= 1);
}

static void test_params_and_types(void **state)
{
    (void)state;
    struct db *db = db_thread();
    assert_int_equal(
        db_exec_script(
            db, "CREATE TABLE t_items (id TEXT PRIMARY KEY, n BIGINT, r DOUBLE PRECISION, s TEXT)"),
        DB_OK);
    long affected = -1;
    assert_int_equal(db_exec(db, "INSERT INTO t_items (id, n, r, s) VALUES ($1, $2, $3, $4)",
                             DB_ARGS(DBP_TEXT("a"), DBP_INT(9007199254740993LL), DBP_REAL(0.25),
                                     DBP_TEXT("x'); DROP TABLE t_items; --")),
                             &affected),
                     DB_OK);
    assert_int_equal(affected, 1);
    assert_int_equal(db_exec(db, "INSERT INTO t_items (id, n, r, s) VALUES ($1, $2, $3, $4)",
                             DB_ARGS(DBP_TEXT("b"), DBP_NULL, DBP_NULL, DBP_TEXT(NULL)), NULL),
                     DB_OK);
    struct db_result *res = NULL;
    assert_int_equal(
        db_query(db, "SELECT id, n, r, s FROM t_items WHERE id = $1 OR id = $1 || 'zz' ORDER BY id",
                 DB_ARGS(DBP_TEXT("a")), &res),
        DB_OK);
    assert_int_equal(db_rows(res), 1);
    assert_int_equal(db_cols(res), 4);
    assert_string_equal(db_get(res, 0, 0), "a");
    assert_int_equal(db_get_int(res, 0, 1), 9007199254740993LL);
    assert_true(db_get_double(res, 0, 2) == 0.25);
    assert_string_equal(db_get(res, 0, 3), "x'); DROP TABLE t_items; --");
    db_result_free(res);
    assert_int_equal(
        db_query(db, "SELECT n, r, s FROM t_items WHERE id = $1", DB_ARGS(DBP_TEXT("b")), &res),
        DB_OK);
    assert_true(db_is_null(res, 0, 0));
    assert_true(db_is_null(res, 0, 1));
    assert_null(db_get(res, 0, 2));
    assert_null(db_get(res, 5, 0)); /* out of range is NULL, not a crash */
    db_result_free(res);
}

static void test_constraint_and_tx(void **state)
{
    (void)state;
    struct db *db = db_thread();
    assert_int_equal(
        db_exec(db, "INSERT INTO t_items (id) VALUES ($1)", DB_ARGS(DBP_TEXT("a")), NULL),
        DB_ERR_CONSTRAINT);
    assert_int_equal(db_begin(db), DB_OK);
    assert_int_equal(
        db_exec(db, "INSERT INTO t_items (id) VALUES ($1)", DB_ARGS(DBP_TEXT("tx")), NULL), DB_OK);
    assert_int_equal(db_rollback(db), DB_OK);
    struct db_result *res = NULL;
    assert_int_equal(
        db_query(db, "SELECT COUNT(*) FROM t_items WHERE id = $1", DB_ARGS(DBP_TEXT("tx")), &res),
        DB_OK);
    assert_int_equal(db_get_int(res, 0, 0), 0);
    db_result_free(res);
    assert_int_equal(db_begin(db), DB_OK);
    assert_int_equal(
        db_exec(db, "INSERT INTO t_items (id) VALUES ($1)", DB_ARGS(DBP_TEXT("tx")), NULL), DB_OK);
    assert_int_equal(db_commit(db), DB_OK);
    assert_int_equal(
        db_query(db, "SELECT COUNT(*) FROM t_items WHERE id = $1", DB_ARGS(DBP_TEXT("tx")), &res),
        DB_OK);
    assert_int_equal(db_get_int(res, 0, 0), 1);
    db_result_free(res);
    /* A syntax error is an internal error, not a crash. */
    assert_int_equal(db_exec(db, "SELEKT nonsense", DB_NOARGS, NULL), DB_ERR_INTERNAL);
}

static void test_like_escape(void **state)
{
    (void)state;
    struct db *db = db_thread();
    db_exec(db, "INSERT INTO t_items (id, s) VALUES ($1, $2)",
            DB_ARGS(DBP_TEXT("p1"), DBP_TEXT("100% off")), NULL);
    db_exec(db, "INSERT INTO t_items (id, s) VALUES ($1, $2)",
            DB_ARGS(DBP_TEXT("p2"), DBP_TEXT("1000 off")), NULL);
    struct db_result *res = NULL;
    assert_int_equal(db_query(db, "SELECT id FROM t_items WHERE s LIKE $1 ESCAPE '\\' ORDER BY id",
                              DB_ARGS(DBP_TEXT("%100\\%%")), &res),
                     DB_OK);
    assert_int_equal(db_rows(res), 1);
    assert_string_equal(db_get(res, 0, 0), "p1");
    db_result_free(res);
}

#define WRITERS 16
#define WRITES 40

static void *writer(void *arg)
{
    long id = (long)arg;
    long failures = 0;
    for (int i = 0; i < WRITES; i++) {
        char key[64];
        snprintf(key, sizeof key, "w%ld-%d", id, i);
        enum db_err e;
        if (i % 4 == 0) {
            /* Some writes inside explicit transactions. */
            e = db_begin(db_thread());
            if (e == DB_OK)
                e = db_exec(db_thread(), "INSERT INTO t_conc (k) VALUES ($1)",
                            DB_ARGS(DBP_TEXT(key)), NULL);
            if (e == DB_OK)
                e = db_commit(db_thread());
            else
                db_rollback(db_thread());
        } else {
            e = db_exec(db_thread(), "INSERT INTO t_conc (k) VALUES ($1)", DB_ARGS(DBP_TEXT(key)),
                        NULL);
        }
        if (e != DB_OK) failures++;
    }
    db_thread_close();
    return (void *)failures;
}

static void test_concurrent_writers(void **state)
{
    (void)state;
    assert_int_equal(db_exec_script(db_thread(), "CREATE TABLE t_conc (k TEXT PRIMARY KEY)"),
                     DB_OK);
    pthread_t th[WRITERS];
    for (long i = 0; i < WRITERS; i++) pthread_create(&th[i], NULL, writer, (void *)i);
    long failures = 0;
    for (int i = 0; i < WRITERS; i++) {
        void *rv;
        pthread_join(th[i], &rv);
        failures += (long)rv;
    }
    assert_int_equal(failures, 0);
    struct db_result *res = NULL;
    assert_int_equal(db_query(db_thread(), "SELECT COUNT(*) FROM t_conc", DB_NOARGS, &res), DB_OK);
    assert_int_equal(db_get_int(res, 0, 0), WRITERS * WRITES);
    db_result_free(res);
}

static void test_refuses_newer_schema(void **state)
{
    (void)state;
    struct db *db = db_thread();
    assert_int_equal(
        db_exec(db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                DB_ARGS(DBP_INT(9999), DBP_TEXT("9999_future.sql"), DBP_INT(0)), NULL),
        DB_OK);
    assert_int_equal(migrate_run(db), -1);
    db_exec(db, "DELETE FROM schema_migrations WHERE version = $1", DB_ARGS(DBP_INT(9999)), NULL);
    assert_int_equal(migrate_run(db), 0);
}

/* A migration that landed out of order (a gap below the newest recorded
 * version) is still applied. */
static void test_gap_is_applied(void **state)
{
    (void)state;
    struct db *db = db_thread();
    /* Forget 005 while 006 stays recorded: 005 is now a gap below the newest. */
    assert_int_equal(
        db_exec_script(db, "DROP INDEX audit_events_tenant; DROP INDEX audit_events_path"), DB_OK);
    assert_int_equal(
        db_exec(db, "DELETE FROM schema_migrations WHERE version = $1", DB_ARGS(DBP_INT(5)), NULL),
        DB_OK);
    assert_true(migrate_latest() > 5);
    assert_int_equal(migrate_run(db), 1);
    struct db_result *res = NULL;
    assert_int_equal(db_query(db, "SELECT COUNT(*) FROM schema_migrations WHERE version = $1",
                              DB_ARGS(DBP_INT(5)), &res),
                     DB_OK);
    assert_int_equal(db_get_int(res, 0, 0), 1);
    db_result_free(res);
}

/* Static SQL is cached and, past the cache's size, the least recently used
 * statement is given up (the oldest text runs again, re-prepared); SQL built
 * at run time never takes a slot, however many different texts there are. */
static void test_statement_cache(void **state)
{
    (void)state;
    struct db *db = db_thread();
    struct db_result *res = NULL;
    char sql[128];
    int before = db_stmt_cache_count(db);
    for (int i = 0; i < 3 * DB_STMT_CACHE_SLOTS; i++) {
        snprintf(sql, sizeof sql, "SELECT COUNT(*) + %d FROM t_items WHERE id IN ($1, $2)", i);
        assert_int_equal(db_query_dynamic(db, sql, DB_ARGS(DBP_TEXT("a"), DBP_TEXT("b")), &res),
                         DB_OK);
        assert_int_equal(db_get_int(res, 0, 0), i + 2);
        db_result_free(res);
        assert_false(db_stmt_cache_has(db, sql));
    }
    assert_int_equal(db_stmt_cache_count(db), before);
    char first[128];
    snprintf(first, sizeof first, "SELECT %d + $1", -1);
    assert_int_equal(db_query(db, first, DB_ARGS(DBP_INT(1)), &res), DB_OK);
    db_result_free(res);
    assert_true(db_stmt_cache_has(db, first));
    for (int i = 0; i < DB_STMT_CACHE_SLOTS + 8; i++) {
        snprintf(sql, sizeof sql, "SELECT %d + $1", i);
        assert_int_equal(db_query(db, sql, DB_ARGS(DBP_INT(1)), &res), DB_OK);
        assert_int_equal(db_get_int(res, 0, 0), i + 1);
        db_result_free(res);
    }
    assert_int_equal(db_stmt_cache_count(db), DB_STMT_CACHE_SLOTS);
    assert_false(db_stmt_cache_has(db, first)); /* evicted: least recently used */
    assert_int_equal(db_query(db, first, DB_ARGS(DBP_INT(1)), &res), DB_OK);
    assert_int_equal(db_get_int(res, 0, 0), 0);
    db_result_free(res);
    assert_true(db_stmt_cache_has(db, first));
    /* Inside a transaction an eviction keeps the transaction working. */
    assert_int_equal(db_begin(db), DB_OK);
    assert_int_equal(db_query(db, "SELECT 1000 + $1", DB_ARGS(DBP_INT(1)), &res), DB_OK);
    assert_int_equal(db_get_int(res, 0, 0), 1001);
    db_result_free(res);
    assert_int_equal(db_commit(db), DB_OK);
}

/* The WHERE builder numbers '?' in text order and never binds more values
 * than the facade takes; a '?' without a value (or the reverse) fails it. */
static void test_where_builder(void **state)
{
    (void)state;
    struct db *db = db_thread();
    struct db_where w;
    struct db_result *res = NULL;
    db_where_init(&w, "SELECT COUNT(*) FROM t_items WHERE 1 = 1");
    DB_WHERE_ADD(&w, " AND id IN (?, ?)", DBP_TEXT("a"), DBP_TEXT("b"));
    DB_WHERE_ADD(&w, " AND (n IS NULL OR n <> ?)", DBP_INT(-1));
    assert_false(db_where_failed(&w));
    assert_string_equal(w.sql.data, "SELECT COUNT(*) FROM t_items WHERE 1 = 1 AND id IN ($1, $2)"
                                    " AND (n IS NULL OR n <> $3)");
    assert_int_equal(w.n, 3);
    assert_int_equal(db_where_query(db, &w, &res), DB_OK);
    assert_int_equal(db_get_int(res, 0, 0), 2);
    db_result_free(res);
    db_where_cleanup(&w);

    db_where_init(&w, "SELECT 1 WHERE 1 = 1");
    for (int i = 0; i < DB_PARAMS_MAX; i++) DB_WHERE_ADD(&w, " AND ? = 1", DBP_INT(1));
    assert_false(db_where_failed(&w));
    DB_WHERE_ADD(&w, " AND ? = 1", DBP_INT(1)); /* one too many */
    assert_true(db_where_failed(&w));
    assert_int_equal(w.n, DB_PARAMS_MAX);
    assert_int_equal(db_where_query(db, &w, &res), DB_ERR_INTERNAL);
    assert_null(res);
    db_where_cleanup(&w);

    db_where_init(&w, "SELECT 1");
    db_where_add(&w, " WHERE ? = ?", DB_ARGS(DBP_INT(1))); /* a '?' without a value */
    assert_true(db_where_failed(&w));
    db_where_cleanup(&w);
    db_where_init(&w, "SELECT 1");
    DB_WHERE_ADD(&w, " WHERE 1 = 1", DBP_INT(1)); /* a value without a '?' */
    assert_true(db_where_failed(&w));
    db_where_cleanup(&w);
}

static void test_pg_unreachable(void **state)
{
    (void)state;
    db_shutdown();
    cfg.database.url = "postgres://postgres@127.0.0.1:1/nothing";
    assert_int_equal(db_init(&cfg), 0);
    assert_null(db_thread());
    assert_int_equal(db_exec(db_thread(), "SELECT 1", DB_NOARGS, NULL), DB_ERR_UNAVAILABLE);
    struct db *d = NULL;
    assert_int_equal(db_open(&d), DB_ERR_UNAVAILABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrations_idempotent), cmocka_unit_test(test_params_and_types),
        cmocka_unit_test(test_constraint_and_tx),     cmocka_unit_test(test_like_escape),
        cmocka_unit_test(test_concurrent_writers),    cmocka_unit_test(test_refuses_newer_schema),
        cmocka_unit_test(test_gap_is_applied),        cmocka_unit_test(test_statement_cache),
        cmocka_unit_test(test_where_builder),
    };
    int rc = cmocka_run_group_tests_name("db (sqlite)", tests, setup_sqlite, teardown);
    /* The SQLite directory (created by db_init) is removed file by file. */
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char f[160];
        snprintf(f, sizeof f, "%s%s", sqlite_path, suffixes[i]);
        unlink(f);
    }
    char sub[100];
    snprintf(sub, sizeof sub, "%s/sub", sqlite_dir);
    rmdir(sub);
    rmdir(sqlite_dir);
    if (getenv("PORTICO_TEST_PG_URL")) {
        rc |= cmocka_run_group_tests_name("db (postgres)", tests, setup_pg, teardown);
        const struct CMUnitTest pg_only[] = {cmocka_unit_test(test_pg_unreachable)};
        rc |= cmocka_run_group_tests_name("db (postgres unreachable)", pg_only, NULL, teardown);
    } else {
        fprintf(stderr, "test_db: PORTICO_TEST_PG_URL not set: PostgreSQL part not run\n");
    }
    return rc;
}
