/*
 * events.h — gateway events: the Server-Sent Events fan-out for
 * GET /v1/gateways/events, the bounded stream count, and (on PostgreSQL)
 * LISTEN/NOTIFY so events raised on one replica reach every replica.
 * Threading: the event ring and the stream count are protected by one
 * mutex with a condition variable that streams wait on; the listener thread
 * owns its database connection.
 */
#ifndef PORTICO_EVENTS_H
#define PORTICO_EVENTS_H

#include <stdbool.h>

struct config;
struct req;

#define EVENTS_CHANNEL "portico_events"

int events_start(void);
/* Wakes and closes every open stream (before the HTTP server stops) and
 * stops the listener thread. */
void events_stop(void);
/* Publishes an event (type "gateway.registered" etc., data a JSON text) to
 * every stream on every replica, for callers of every tenant. */
void events_publish(const char *type, const char *json_data);
/* The same, visible only to streams of tenant_id (and cross-tenant admins). */
void events_publish_tenant(const char *type, const char *tenant_id, const char *json_data);
/* The same, to this replica's streams only (no NOTIFY: for events that
 * describe this replica's own state, such as gateway.history). */
void events_publish_local(const char *type, const char *tenant_id, const char *json_data);
/* False when nobody can receive an event (no local stream and no other
 * replica): callers may skip building it. */
bool events_wanted(void);
/* A key was revoked or a session ended here: every stream re-checks its
 * credential now instead of at its next periodic check. */
void events_credentials_changed(void);
/* How a stream re-checks its credential (auth_still_valid; main sets it, so
 * events.c does not include auth.h: auth → apikeys → events would be a
 * circle). Without one, streams never end on a credential change. */
void events_use_credential_check(bool (*still_valid)(struct req *r));
int events_open_streams(void);

int events_handle_stream(struct req *r);

#endif
