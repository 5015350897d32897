/*
 * rbac.h — roles, their scopes, and the permissions routes require.
 * Roles are not a simple ladder (devops may publish but not manage keys;
 * tenant-admin may manage keys but not put gateways in maintenance), so each
 * role maps to a permission set.
 * Threading: pure functions over static tables.
 */
#ifndef PORTICO_RBAC_H
#define PORTICO_RBAC_H

#include <stdbool.h>

enum role { ROLE_NONE = 0, ROLE_VIEWER, ROLE_DEVOPS, ROLE_TENANT_ADMIN, ROLE_CPI_ADMIN };

enum perm {
    PERM_NONE = 0,                 /* any caller that passed authentication */
    PERM_READ = 1 << 0,            /* portal catalog, gateways (read) */
    PERM_CATALOG_READ = 1 << 1,    /* management view of the catalog (drafts) */
    PERM_CATALOG_WRITE = 1 << 2,   /* create, edit, delete, import APIs */
    PERM_CATALOG_PUBLISH = 1 << 3, /* change status / visibility only */
    PERM_KEYS = 1 << 4,            /* manage API keys (own tenant) */
    PERM_GATEWAY_MAINT = 1 << 5,   /* maintenance on/off */
    PERM_GATEWAY_ADMIN = 1 << 6,   /* forget a gateway */
    PERM_DEPLOY = 1 << 7,          /* deployments */
    PERM_AUDIT = 1 << 8,           /* read the audit log (own tenant) */
    PERM_ALL_TENANTS = 1 << 9,     /* act across tenants */
};

/* "cpi-admin" → ROLE_CPI_ADMIN; ROLE_NONE for anything else. */
enum role rbac_role_parse(const char *name);
const char *rbac_role_name(enum role role);
/* Space-separated scopes of a role ("stoa:admin stoa:write stoa:read"). */
const char *rbac_role_scopes(enum role role);
unsigned rbac_role_perms(enum role role);
bool rbac_allows(enum role role, unsigned perms_required);
/* True when every permission of `role` is also one of `caller`'s: the roles
 * a caller may mint keys for, and see or revoke keys of. */
bool rbac_role_within(enum role role, enum role caller);
/* Fills names[] with the roles within caller's (at most n); returns how many. */
int rbac_roles_within(enum role caller, const char **names, int n);

#endif
