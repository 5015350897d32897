/*
 * test_migrate.c — the SQLite and PostgreSQL schemas agree: after every
 * migration has run on both, they have the same tables, the same columns
 * (name, a coarse type class, NOT NULL) and the same explicitly created
 * indexes (name and table). The only allowed difference is listed in
 * PG_ONLY. Also: a migration kept once in server/sql/common/ runs on both.
 * Needs PORTICO_TEST_PG_URL (make test-unit provides one); without it only
 * the SQLite description is checked for being non-empty.
 * Threading: single-threaded.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "portico/assets.h"
#include "portico/config.h"
#include "portico/db.h"
#include "portico/migrate.h"
#include "portico/util.h"

/* Objects only one backend has, on purpose. */
static const char *const PG_ONLY[] = {
    "index apis.apis_search_trgm", /* optional pg_trgm index for LIKE search */
};

static const char SQLITE_COLUMNS[] =
    "SELECT m.name, p.name, p.type, p.\"notnull\" + (p.pk > 0) FROM sqlite_master m, "
    "pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'";
static const char SQLITE_INDEXES[] =
    "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL";
static const char PG_COLUMNS[] =
    "SELECT c.table_name, c.column_name, c.data_type, "
    "CASE WHEN c.is_nullable = 'NO' THEN 1 ELSE 0 END FROM information_schema.columns c "
    "JOIN information_schema.tables t ON t.table_schema = c.table_schema "
    "AND t.table_name = c.table_name AND t.table_type = 'BASE TABLE' "
    "WHERE c.table_schema = current_schema()";
static const char PG_INDEXES[] =
    "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema() "
    "AND indexname NOT IN (SELECT conname FROM pg_constraint)";

static struct config cfg;
static char dir[64] = "/tmp/portico-test-migrate-XXXXXX";
static char path[128];

/* "int", "real" or "text": what both backends' declared types mean here. */
static const char *type_class(const char *t)
{
    if (strcasestr(t, "int") || strcasestr(t, "serial")) return "int";
    if (strcasestr(t, "real") || strcasestr(t, "double") || strcasestr(t, "numeric")) return "real";
    return "text";
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct desc {
    char *line[1024];
    size_t n;
};

static void add(struct desc *d, const char *text)
{
    assert_true(d->n < sizeof d->line / sizeof d->line[0]);
    d->line[d->n] = util_strdup(text);
    assert_non_null(d->line[d->n]);
    d->n++;
}

static void desc_free(struct desc *d)
{
    for (size_t i = 0; i < d->n; i++) free(d->line[i]);
    d->n = 0;
}

/* Migrates the backend cfg names and describes its schema, sorted. */
static void describe(const char *pg_url, struct desc *d)
{
    memset(&cfg, 0, sizeof cfg);
    cfg.database.url = (char *)(pg_url ? pg_url : "");
    cfg.database.sqlite_path = path;
    assert_int_equal(db_init(&cfg), 0);
    struct db *db = db_thread();
    assert_non_null(db);
    /* Other unit tests share the PostgreSQL database (and leave scratch
     * tables): migrate into a schema of this test's own. */
    if (pg_url)
        assert_int_equal(db_exec_script(db, "DROP SCHEMA IF EXISTS portico_test_migrate CASCADE;"
                                            "CREATE SCHEMA portico_test_migrate;"
                                            "SET search_path TO portico_test_migrate, public"),
                         DB_OK);
    assert_true(migrate_run(db) >= 0);
    struct db_result *res = NULL;
    char line[256];
    assert_int_equal(db_query(db, pg_url ? PG_COLUMNS : SQLITE_COLUMNS, DB_NOARGS, &res), DB_OK);
    for (size_t i = 0; i < db_rows(res); i++) {
        snprintf(line, sizeof line, "table %s", db_get(res, i, 0));
        bool seen = false;
        for (size_t k = 0; k < d->n; k++) seen = seen || strcmp(d->line[k], line) == 0;
        if (!seen) add(d, line);
        snprintf(line, sizeof line, "column %s.%s %s%s", db_get(res, i, 0), db_get(res, i, 1),
                 type_class(db_get(res, i, 2)), db_get_int(res, i, 3) ? " not null" : "");
        add(d, line);
    }
    db_result_free(res);
    assert_int_equal(db_query(db, pg_url ? PG_INDEXES : SQLITE_INDEXES, DB_NOARGS, &res), DB_OK);
    for (size_t i = 0; i < db_rows(res); i++) {
        snprintf(line, sizeof line, "index %s.%s", db_get(res, i, 0), db_get(res, i, 1));
        bool allowed = false;
        for (size_t k = 0; k < sizeof PG_ONLY / sizeof PG_ONLY[0]; k++)
            allowed = allowed || strcmp(line, PG_ONLY[k]) == 0;
        if (!allowed) add(d, line);
    }
    db_result_free(res);
    db_shutdown();
    qsort(d->line, d->n, sizeof d->line[0], cmp_str);
}

static void test_same_schema(void **state)
{
    (void)state;
    static struct desc sq, pg;
    describe(NULL, &sq);
    assert_true(sq.n > 50);
    const char *url = getenv("PORTICO_TEST_PG_URL");
    if (!url) {
        fprintf(stderr, "test_migrate: PORTICO_TEST_PG_URL not set: PostgreSQL not compared\n");
        desc_free(&sq);
        return;
    }
    describe(url, &pg);
    size_t i = 0, k = 0;
    int differences = 0;
    while (i < sq.n || k < pg.n) {
        int c = i == sq.n ? 1 : k == pg.n ? -1 : strcmp(sq.line[i], pg.line[k]);
        if (c < 0) fprintf(stderr, "only on SQLite:     %s\n", sq.line[i++]);
        if (c > 0) fprintf(stderr, "only on PostgreSQL: %s\n", pg.line[k++]);
        if (c == 0) i++, k++;
        differences += c != 0;
    }
    desc_free(&sq);
    desc_free(&pg);
    assert_int_equal(differences, 0);
}

/* Every version is embedded once per backend: in its own directory or in
 * common/, never both (the runner would not know which to apply). */
static void test_versions_unique(void **state)
{
    (void)state;
    const char *backends[] = {"sqlite", "postgres"};
    for (size_t b = 0; b < 2; b++) {
        int seen[10000] = {0};
        for (size_t i = 0; i < assets_sql_count; i++) {
            int v = migrate_version_of(assets_sql[i].path, backends[b]);
            if (v <= 0) continue;
            assert_int_equal(seen[v], 0);
            seen[v] = 1;
        }
    }
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/p.db", dir);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_schema),
        cmocka_unit_test(test_versions_unique),
    };
    int rc = cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        char f[160];
        snprintf(f, sizeof f, "%s%s", path, suffixes[i]);
        unlink(f);
    }
    rmdir(dir);
    return rc;
}
