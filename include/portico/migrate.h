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

#endif
