/*
 * gateway_monitor.h — the gateway status monitor (formerly "health"): periodically derives every
 * gateway's status from stored times, records each transition once in
 * gateway_events (even with several replicas) and publishes it.
 * Threading: one background thread with its own database connection.
 */
#ifndef PORTICO_GATEWAY_MONITOR_H
#define PORTICO_GATEWAY_MONITOR_H

struct config;

int gateway_monitor_start(void);
void gateway_monitor_stop(void);
/* One pass (used by the worker and by tests); returns transitions recorded. */
int gateway_monitor_run_once(void);

#endif
