/*
 * unit_db.h — shared by unit tests that need a throwaway SQLite database
 * with the full schema: a temp directory, a dev-profile config pointing at
 * it, migrations applied; and removing it all afterwards. Include it after
 * the module's .c file (it uses config, db, migrate and util).
 * Threading: single-threaded test helpers.
 */
#ifndef PORTICO_UNIT_DB_H
#define PORTICO_UNIT_DB_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "portico/migrate.h"

static char tmpdir[64];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Removes the files tests create in tmpdir, then tmpdir itself. */
static void rm_tmp(void)
{
    static const char *files[] = {"p.db", "p.db-wal", "p.db-shm", "p.yaml", "c.yaml"};
    char path[128];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
        unlink(path);
    }
    rmdir(tmpdir);
}

/* cmocka group setup: a fresh database in a new tmpdir; *state = config. */
static int setup_db(void **state)
{
    static struct config cfg;
    char cfgpath[128], yaml[256];
    util_copy(tmpdir, sizeof tmpdir, "/tmp/portico-unit-db-XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    snprintf(cfgpath, sizeof cfgpath, "%s/p.yaml", tmpdir);
    snprintf(yaml, sizeof yaml, "profile: dev\ndatabase:\n  sqlite_path: %s/p.db\n", tmpdir);
    write_file(cfgpath, yaml);
    if (config_load(cfgpath, &cfg, stderr) != 0) return -1;
    if (db_init(&cfg) != 0 || !db_thread() || migrate_run(db_thread()) < 0) return -1;
    *state = &cfg;
    return 0;
}

static int teardown_db(void **state)
{
    db_shutdown();
    config_free(*state);
    rm_tmp();
    return 0;
}

#endif
