/*
 * subscriptions.h — developer self-service subscriptions
 * (/v1/subscriptions...): an application's subscription to an API, its
 * approval workflow (pending → active | rejected, active → revoked,
 * * → cancelled), its key ("sk_<id>_<secret>", shown once, stored as
 * SHA-256), an API's subscription settings (mode and plans, validated here
 * for catalog.c), and the active subscriptions a gateway's config carries.
 * Threading: stateless; database access through db_thread() or the
 * caller's connection.
 */
#ifndef PORTICO_SUBSCRIPTIONS_H
#define PORTICO_SUBSCRIPTIONS_H

#include <cJSON.h>

struct db;
struct req;

/* The mode of an API that never set one (also the column default). */
#define SUBSCRIPTIONS_MODE_DEFAULT "approval"
/* The plan a subscription gets when its API defines none. */
#define SUBSCRIPTIONS_DEFAULT_PLAN "default"

/* Applies the optional "subscription" (auto|approval|closed) and "plans"
 * ([{name, requests_per_minute}], null = none) fields of a catalog body:
 * replaces *mode (malloc'd, freed with free) and *plans (cJSON array, freed
 * with cJSON_Delete) when present and valid. 0, or -1 with err (>= 256
 * bytes) naming the field. */
int subscriptions_apply_settings(const cJSON *body, char **mode, cJSON **plans, char *err);
/* After an API's plans were stored: its pending and active subscriptions on
 * a plan that still exists take the plan's current rate (a subscription on a
 * removed plan keeps its rate). Failures are logged, not returned: the API
 * itself is already saved. */
void subscriptions_sync_plans(struct db *db, const char *api_id, const cJSON *plans);
/* Cancels every live subscription of application app_id (before the
 * application is deleted), publishing one event each. Returns a db_err. */
int subscriptions_cancel_application(struct req *r, struct db *db, const char *app_id);
/* Adds the gateway-side subscription contract to a gateway config object:
 * "subscriptions_etag" always; "subscriptions" ([{subscription_id, api_id,
 * plan, requests_per_minute, key_sha256}] of the active keyed subscriptions
 * of APIs deployed to gateway_id) unless the request's ?subscriptions_etag=
 * equals the current one, in which case "subscriptions_unchanged": true.
 * The etag hashes a revision counter every subscription write bumps (in its
 * transaction) with the gateway's deployments (count, latest times), so an
 * unchanged poll costs two small reads.
 * Returns a db_err; config is untouched on error. */
int subscriptions_gateway_config(struct db *db, struct req *r, const char *gateway_id,
                                 cJSON *config);

int subscriptions_handle_list(struct req *r);
int subscriptions_handle_create(struct req *r);
int subscriptions_handle_get(struct req *r);
int subscriptions_handle_cancel(struct req *r);
int subscriptions_handle_approve(struct req *r);
int subscriptions_handle_reject(struct req *r);
int subscriptions_handle_revoke(struct req *r);
int subscriptions_handle_regenerate_key(struct req *r);

#endif
