/*
 * deployments.h — deploying catalog APIs to gateways and keeping them in
 * sync: GET|POST /v1/deployments, GET /v1/deployments/{id} (with history),
 * POST /v1/deployments/{id}/sync (tenant-scoped, catalog visibility), the
 * gateway's status report, and the pending_deployments of its config poll.
 * Threading: stateless; database access through the given or the thread's
 * connection.
 */
#ifndef PORTICO_DEPLOYMENTS_H
#define PORTICO_DEPLOYMENTS_H

#include "portico/db.h"

struct req;
struct cJSON;

/* "sha256:" + 64 hex digits */
#define DEPLOY_CONTENT_HASH_LEN 71

int deployments_handle_list(struct req *r);
int deployments_handle_get(struct req *r);
int deployments_handle_create(struct req *r);
int deployments_handle_sync(struct req *r);
/* POST /v1/internal/gateways/{id}/deployments/{deployment_id}/status */
int deployments_handle_report(struct req *r);

/* The content hash a gateway must apply for an API version (any field may
 * be NULL, read as ""). */
void deployments_content_hash(const char *name, const char *version, const char *base_path,
                              const char *servers_json, const char *openapi,
                              char out[DEPLOY_CONTENT_HASH_LEN + 1]);

/* The pending_deployments array of a gateway's config poll (every
 * deployment not synced), after creating what environment targets owe the
 * gateway and re-hashing edited APIs. tenant_id NULL = a shared gateway.
 * *out is set on success; caller frees with cJSON_Delete. */
enum db_err deployments_config(struct db *db, const char *gateway_id, const char *environment,
                               const char *tenant_id, struct cJSON **out);

/* Deploys an API to every gateway of an environment from now on (the
 * deployments appear at each gateway's next config poll); the demo uses it.
 * DB_ERR_CONSTRAINT when that target exists. */
enum db_err deployments_add_target(struct db *db, const char *api_id, const char *environment,
                                   const char *actor);

/* Re-hashes deployments whose API changed (synced ones become drifted);
 * the health worker calls it every pass. 0 or -1 on a database error. */
int deployments_reconcile(struct db *db);

#endif
