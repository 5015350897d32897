/*
 * routes.c — the route table: every path Portico answers, with its method,
 * handler, required permissions and flags. The dispatcher (http.c) matches
 * in order, so fixed segments come before {captures} on the same prefix.
 * Threading: a static const table.
 */
#include "portico/apidoc.h"
#include "portico/apikeys.h"
#include "portico/applications.h"
#include "portico/audit.h"
#include "portico/auth.h"
#include "portico/catalog.h"
#include "portico/deployments.h"
#include "portico/events.h"
#include "portico/gateway_history.h"
#include "portico/gateways.h"
#include "portico/http.h"
#include "portico/routes.h"
#include "portico/metrics.h"
#include "portico/oidc.h"
#include "portico/probes.h"
#include "portico/signin.h"
#include "portico/subscriptions.h"

#define PUB ROUTE_PUBLIC
#define GW ROUTE_GATEWAY
#define JSON ROUTE_JSON
#define NOAUDIT ROUTE_NO_AUDIT

static const struct route table[] = {
    /* probes and monitoring */
    {"GET", "/healthz", probes_handle_healthz, PERM_NONE, PUB | NOAUDIT, "healthz"},
    {"GET", "/health", probes_handle_healthz, PERM_NONE, PUB | NOAUDIT, "health"},
    {"GET", "/readyz", probes_handle_readyz, PERM_NONE, PUB | NOAUDIT, "readyz"},
    {"GET", "/metrics", metrics_handle_get, PERM_NONE, PUB | NOAUDIT, "metrics"},
    {"GET", "/v1/openapi.json", apidoc_handle_get, PERM_NONE, PUB, "openapi"},

    /* browser sign-in flows */
    {"POST", "/auth/apikey", signin_handle_apikey, PERM_NONE,
     PUB | JSON | ROUTE_AUTH_FLOW | ROUTE_CSRF_EXEMPT, "auth.apikey"},
    {"POST", "/auth/logout", signin_handle_logout, PERM_NONE, ROUTE_AUTH_FLOW, "auth.logout"},
    {"GET", "/auth/login", oidc_handle_login, PERM_NONE, PUB | ROUTE_AUTH_FLOW, "auth.login"},
    {"GET", "/auth/callback", oidc_handle_callback, PERM_NONE, PUB | ROUTE_AUTH_FLOW,
     "auth.callback"},

    /* identity */
    {"GET", "/v1/auth/config", auth_handle_config, PERM_NONE, PUB, "auth.config"},
    {"GET", "/v1/whoami", auth_handle_whoami, PERM_NONE, 0, "whoami"},

    /* API keys */
    {"GET", "/v1/apikeys", apikeys_handle_list, PERM_KEYS, 0, "apikeys.list"},
    {"POST", "/v1/apikeys", apikeys_handle_create, PERM_KEYS, JSON, "apikeys.create"},
    {"DELETE", "/v1/apikeys/{id}", apikeys_handle_delete, PERM_KEYS, 0, "apikeys.delete"},

    /* catalog: portal */
    {"GET", "/v1/portal/apis", catalog_handle_portal_list, PERM_READ, 0, "portal.list"},
    {"GET", "/v1/portal/apis/{id}", catalog_handle_portal_get, PERM_READ, 0, "portal.get"},

    /* catalog: management */
    {"GET", "/v1/apis", catalog_handle_list, PERM_CATALOG_READ, 0, "apis.list"},
    {"POST", "/v1/apis", catalog_handle_create, PERM_CATALOG_WRITE, JSON, "apis.create"},
    {"POST", "/v1/apis/import", catalog_handle_import, PERM_CATALOG_WRITE, ROUTE_ANY_BODY,
     "apis.import"},
    {"GET", "/v1/apis/{id}", catalog_handle_get, PERM_CATALOG_READ, 0, "apis.get"},
    {"PUT", "/v1/apis/{id}", catalog_handle_update, PERM_CATALOG_PUBLISH, JSON, "apis.update"},
    {"DELETE", "/v1/apis/{id}", catalog_handle_delete, PERM_CATALOG_WRITE, 0, "apis.delete"},

    /* gateways: console */
    {"GET", "/v1/gateways", gateways_handle_list, PERM_READ, 0, "gateways.list"},
    {"GET", "/v1/gateways/events", events_handle_stream, PERM_READ, ROUTE_STREAM,
     "gateways.events"},
    {"GET", "/v1/gateways/history", gateway_history_handle_fleet, PERM_READ, 0,
     "gateways.history.fleet"},
    {"GET", "/v1/gateways/{id}/history", gateway_history_handle_get, PERM_READ, 0,
     "gateways.history"},
    {"GET", "/v1/gateways/{id}", gateways_handle_get, PERM_READ, 0, "gateways.get"},
    {"DELETE", "/v1/gateways/{id}", gateways_handle_delete, PERM_GATEWAY_ADMIN, 0,
     "gateways.delete"},
    {"POST", "/v1/gateways/{id}/maintenance", gateways_handle_maintenance, PERM_GATEWAY_MAINT, JSON,
     "gateways.maintenance"},

    /* gateways: protocol */
    {"POST", "/v1/internal/gateways/register", gateways_handle_register, PERM_NONE, GW | JSON,
     "gateways.register"},
    {"POST", "/v1/internal/gateways/{id}/heartbeat", gateways_handle_heartbeat, PERM_NONE,
     GW | JSON | NOAUDIT, "gateways.heartbeat"},
    {"GET", "/v1/internal/gateways/{id}/config", gateways_handle_config, PERM_NONE, GW | NOAUDIT,
     "gateways.config"},

    /* deployments */
    {"GET", "/v1/deployments", deployments_handle_list, PERM_READ, 0, "deployments.list"},
    {"POST", "/v1/deployments", deployments_handle_create, PERM_DEPLOY, JSON, "deployments.create"},
    {"POST", "/v1/deployments/{id}/sync", deployments_handle_sync, PERM_DEPLOY, 0,
     "deployments.sync"},
    {"GET", "/v1/deployments/{id}", deployments_handle_get, PERM_READ, 0, "deployments.get"},
    {"POST", "/v1/internal/gateways/{id}/deployments/{deployment_id}/status",
     gateways_handle_deployment_report, PERM_NONE, GW | JSON, "deployments.report"},

    /* self-service: applications and subscriptions (handlers check ownership) */
    {"GET", "/v1/applications", applications_handle_list, PERM_READ, 0, "applications.list"},
    {"POST", "/v1/applications", applications_handle_create, PERM_READ, JSON,
     "applications.create"},
    {"GET", "/v1/applications/{id}", applications_handle_get, PERM_READ, 0, "applications.get"},
    {"PATCH", "/v1/applications/{id}", applications_handle_update, PERM_READ, JSON,
     "applications.update"},
    {"DELETE", "/v1/applications/{id}", applications_handle_delete, PERM_READ, 0,
     "applications.delete"},
    {"GET", "/v1/subscriptions", subscriptions_handle_list, PERM_READ, 0, "subscriptions.list"},
    {"POST", "/v1/subscriptions", subscriptions_handle_create, PERM_READ, JSON,
     "subscriptions.create"},
    {"GET", "/v1/subscriptions/{id}", subscriptions_handle_get, PERM_READ, 0, "subscriptions.get"},
    {"DELETE", "/v1/subscriptions/{id}", subscriptions_handle_cancel, PERM_READ, 0,
     "subscriptions.cancel"},
    {"POST", "/v1/subscriptions/{id}/approve", subscriptions_handle_approve, PERM_READ, 0,
     "subscriptions.approve"},
    {"POST", "/v1/subscriptions/{id}/reject", subscriptions_handle_reject, PERM_READ, JSON,
     "subscriptions.reject"},
    {"POST", "/v1/subscriptions/{id}/revoke", subscriptions_handle_revoke, PERM_READ, JSON,
     "subscriptions.revoke"},
    {"POST", "/v1/subscriptions/{id}/regenerate-key", subscriptions_handle_regenerate_key,
     PERM_READ, 0, "subscriptions.regenerate_key"},

    /* audit */
    {"GET", "/v1/audit", audit_handle_list, PERM_AUDIT, 0, "audit.list"},
    {"GET", "/v1/audit/export.ndjson", audit_handle_export, PERM_AUDIT, ROUTE_STREAM,
     "audit.export"},
};

const struct route *routes_table(size_t *count)
{
    *count = sizeof table / sizeof table[0];
    return table;
}
