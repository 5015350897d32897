/*
 * events.h — gateway events: the Server-Sent Events fan-out for
 * GET /v1/gateways/events, the bounded stream count, and (on PostgreSQL)
 * LISTEN/NOTIFY so events raised on one replica reach every replica.
 * Threading: subscribers and the event queue are mutex/condvar protected.
 */
#ifndef PORTICO_EVENTS_H
#define PORTICO_EVENTS_H

struct config;
struct req;

int events_start(const struct config *cfg);
/* Wakes and closes every open stream (before the HTTP server stops). */
void events_stop(void);
/* Publishes an event (type "gateway.registered" etc., data a JSON text) to
 * every stream on every replica. */
void events_publish(const char *type, const char *json_data);
int events_open_streams(void);

int events_handle_stream(struct req *r);

#endif
