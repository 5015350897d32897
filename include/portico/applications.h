/*
 * applications.h — developer applications (/v1/applications): a named client
 * owned by the signed-in subject within its tenant, the thing a developer
 * subscribes to APIs with (subscriptions.h).
 * Threading: stateless; database access through db_thread().
 */
#ifndef PORTICO_APPLICATIONS_H
#define PORTICO_APPLICATIONS_H

#include <stdbool.h>

struct req;

/* True when the caller is a signed-in subject (not anonymous, not a
 * gateway) that may own applications. */
bool applications_caller_ok(const struct req *r);
/* True when an application row's owner (subject, tenant) is the caller. */
bool applications_owned_by(const struct req *r, const char *owner_subject, const char *tenant_id);
/* Copies a canonical (lower-case) UUID from s into out; false when s is not
 * a UUID. */
bool applications_uuid(const char *s, char out[37]);

int applications_handle_list(struct req *r);
int applications_handle_create(struct req *r);
int applications_handle_get(struct req *r);
int applications_handle_update(struct req *r);
int applications_handle_delete(struct req *r);

#endif
