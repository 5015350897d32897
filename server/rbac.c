/*
 * rbac.c — role names, scopes and permission sets.
 * Threading: static tables only.
 */
#include "portico/rbac.h"

#include <string.h>

static const struct {
    enum role role;
    const char *name;
    const char *scopes;
    unsigned perms;
} roles[] = {
    {ROLE_CPI_ADMIN, "cpi-admin", "stoa:admin stoa:write stoa:read",
     PERM_READ | PERM_CATALOG_READ | PERM_CATALOG_WRITE | PERM_CATALOG_PUBLISH | PERM_KEYS |
         PERM_GATEWAY_MAINT | PERM_GATEWAY_ADMIN | PERM_DEPLOY | PERM_AUDIT | PERM_ALL_TENANTS},
    {ROLE_TENANT_ADMIN, "tenant-admin", "stoa:write stoa:read",
     PERM_READ | PERM_CATALOG_READ | PERM_CATALOG_WRITE | PERM_CATALOG_PUBLISH | PERM_KEYS |
         PERM_DEPLOY | PERM_AUDIT},
    {ROLE_DEVOPS, "devops", "stoa:write stoa:read",
     PERM_READ | PERM_CATALOG_READ | PERM_CATALOG_PUBLISH | PERM_GATEWAY_MAINT | PERM_DEPLOY},
    {ROLE_VIEWER, "viewer", "stoa:read", PERM_READ},
};

enum role rbac_role_parse(const char *name)
{
    if (!name) return ROLE_NONE;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (strcmp(roles[i].name, name) == 0) return roles[i].role;
    return ROLE_NONE;
}

const char *rbac_role_name(enum role role)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].role == role) return roles[i].name;
    return "none";
}

const char *rbac_role_scopes(enum role role)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].role == role) return roles[i].scopes;
    return "";
}

unsigned rbac_role_perms(enum role role)
{
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++)
        if (roles[i].role == role) return roles[i].perms;
    return 0;
}

bool rbac_allows(enum role role, unsigned perms_required)
{
    if (role == ROLE_NONE) return false;
    return (rbac_role_perms(role) & perms_required) == perms_required;
}

bool rbac_role_within(enum role role, enum role caller)
{
    if (role == ROLE_NONE || caller == ROLE_NONE) return false;
    return (rbac_role_perms(role) & ~rbac_role_perms(caller)) == 0;
}

int rbac_roles_within(enum role caller, const char **names, int n)
{
    int k = 0;
    for (size_t i = 0; i < sizeof roles / sizeof roles[0] && k < n; i++)
        if (rbac_role_within(roles[i].role, caller)) names[k++] = roles[i].name;
    return k;
}
