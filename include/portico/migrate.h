/*
 * migrate.h — schema migrations embedded in the binary
 * (server/sql/<backend>/NNN_name.sql), applied in order, each in a
 * transaction, recorded in schema_migrations.
 * Threading: runs on the main thread before the server starts.
 */
#ifndef PORTICO_MIGRATE_H
#define PORTICO_MIGRATE_H

struct db;

/* Applies pending migrations. Refuses (-1) when the database is newer than
 * this binary. Returns the number applied, or -1 with a logged reason. */
int migrate_run(struct db *db);
/* The newest migration version embedded in this binary. */
int migrate_latest(void);

/* Migrations the backends share live in this directory of server/sql. */
#define MIGRATE_COMMON_DIR "common"
/* The version of an embedded migration path ("sqlite/003_x.sql" or
 * "common/004_x.sql": 3, 4) for `backend` ("sqlite" or "postgres"), or -1
 * when the file is not one of that backend's migrations. */
int migrate_version_of(const char *path, const char *backend);

#endif
