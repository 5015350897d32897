/*
 * tenant.c — the shared tenant rules (tenant.h).
 * Threading: pure functions.
 */
#include "portico/tenant.h"

#include <string.h>

#include "portico/limits.h"
#include "portico/principal.h"
#include "portico/rbac.h"

bool tenant_all(const struct principal *p)
{
    return p && (rbac_role_perms(p->role) & PERM_ALL_TENANTS) != 0;
}

bool tenant_id_valid(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (n == 0 || n > AUTH_TENANT_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}
