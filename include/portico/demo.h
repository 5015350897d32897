/*
 * demo.h — demo data for `make run`: a realistic catalog and simulated
 * gateways that register and heartbeat over the real HTTP protocol.
 * Threading: the simulator runs in its own thread.
 */
#ifndef PORTICO_DEMO_H
#define PORTICO_DEMO_H

struct config;
struct db;

/* Seeds the demo catalog when it is empty; returns APIs created or -1. */
int demo_seed(struct db *db);
/* Starts n simulated gateways against http://127.0.0.1:port. */
int demo_start_gateways(const struct config *cfg, int port);
void demo_stop(void);

#endif
