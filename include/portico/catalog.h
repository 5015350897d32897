/*
 * catalog.h — the API catalog: management (/v1/apis, import) and the portal
 * (/v1/portal/apis) with literal-safe search, facets and ranking.
 * Threading: stateless; database access through db_thread().
 */
#ifndef PORTICO_CATALOG_H
#define PORTICO_CATALOG_H

#include <cJSON.h>
#include <stdbool.h>

#include "portico/crypto.h"
#include "portico/limits.h"

struct db;
struct req;

/* Creates or updates (by tenant+name+version) an API from a JSON object in
 * the management shape. Used by import and the demo seed. On success returns
 * 0 and, when out is non-NULL, the stored API (caller frees). On a validation
 * problem returns -1 with err (>= 256 bytes) naming the field; on a database
 * error returns the db_err as a positive number. */
int catalog_upsert(struct db *db, const cJSON *api, const char *tenant_id, cJSON **out, char *err);

/* What subscriptions.c needs of an API. */
struct catalog_ref {
    char id[CRYPTO_UUID_LEN + 1];
    char tenant_id[AUTH_TENANT_MAX + 1];
    char subscription[16]; /* "auto", "approval" or "closed" */
    char *plans_json;      /* the plans array as JSON text; the caller frees it */
};
/* Looks up API `id` exactly as the portal shows it to r's caller (the
 * visibility rule above): *visible false for a missing, draft, hidden or
 * other-tenant internal API. Fills out only when visible. Returns a db_err. */
int catalog_portal_ref(struct req *r, const char *id, struct catalog_ref *out, bool *visible);

int catalog_handle_portal_list(struct req *r);
int catalog_handle_portal_get(struct req *r);
int catalog_handle_list(struct req *r);
int catalog_handle_create(struct req *r);
int catalog_handle_import(struct req *r);
int catalog_handle_get(struct req *r);
int catalog_handle_update(struct req *r);
int catalog_handle_delete(struct req *r);

#endif
