/*
 * metrics.h — Prometheus counters and histograms; GET /metrics.
 * Threading: counters are atomics or mutex-protected; any thread may record.
 */
#ifndef PORTICO_METRICS_H
#define PORTICO_METRICS_H

#include <stddef.h>

struct req;
struct route;

/* The route table whose positions label the request counters; set once
 * before the server starts (the table outlives the process). */
void metrics_use_routes(const struct route *table, size_t count);
/* Records one finished request (route name, status class, duration). */
void metrics_observe(const struct req *r);
void metrics_heartbeat(void);
void metrics_db_error(void);
int metrics_handle_get(struct req *r);

#endif
