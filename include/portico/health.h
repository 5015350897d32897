/*
 * health.h — the gateway health worker: periodically derives every
 * gateway's status from stored times, records each transition once in
 * gateway_events (even with several replicas) and publishes it.
 * Threading: one background thread with its own database connection.
 */
#ifndef PORTICO_HEALTH_H
#define PORTICO_HEALTH_H

struct config;

int health_start(void);
void health_stop(void);
/* One pass (used by the worker and by tests); returns transitions recorded. */
int health_run_once(void);

#endif
