/*
 * catalog.h — the API catalog: management (/v1/apis, import) and the portal
 * (/v1/portal/apis) with literal-safe search, facets and ranking.
 * Threading: stateless; database access through db_thread().
 */
#ifndef PORTICO_CATALOG_H
#define PORTICO_CATALOG_H

#include <cJSON.h>

struct db;
struct req;

/* Creates or updates (by tenant+name+version) an API from a JSON object in
 * the management shape. Used by import and the demo seed. On success returns
 * 0 and, when out is non-NULL, the stored API (caller frees). On a validation
 * problem returns -1 with err (>= 256 bytes) naming the field; on a database
 * error returns the db_err as a positive number. */
int catalog_upsert(struct db *db, const cJSON *api, const char *tenant_id, cJSON **out, char *err);

int catalog_handle_portal_list(struct req *r);
int catalog_handle_portal_get(struct req *r);
int catalog_handle_list(struct req *r);
int catalog_handle_create(struct req *r);
int catalog_handle_import(struct req *r);
int catalog_handle_get(struct req *r);
int catalog_handle_update(struct req *r);
int catalog_handle_delete(struct req *r);

#endif
