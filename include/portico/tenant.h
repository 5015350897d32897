/*
 * tenant.h — the tenant rules every module shares: who may act across
 * tenants, and what a tenant id may look like.
 * Threading: pure functions.
 */
#ifndef PORTICO_TENANT_H
#define PORTICO_TENANT_H

#include <stdbool.h>

struct principal;

/* True when p's role holds PERM_ALL_TENANTS (it sees and acts on every
 * tenant's rows); others are scoped to p->tenant_id. */
bool tenant_all(const struct principal *p);
/* A tenant id: 1..AUTH_TENANT_MAX characters from ASCII letters, digits,
 * '-', '_' and '.' (the same in every locale). */
bool tenant_id_valid(const char *t);

#endif
