/*
 * routes.h — the route table (server/routes.c): every handler with its
 * method, path pattern, required permissions and flags (struct route in
 * http.h). Threading: the table is static const.
 */
#ifndef PORTICO_ROUTES_H
#define PORTICO_ROUTES_H

#include <stddef.h>

struct route;

/* The table and its length; never NULL. */
const struct route *routes_table(size_t *count);

#endif
