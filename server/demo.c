/*
 * demo.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/demo.h"

int demo_seed(struct db *db) { (void)db; return 0; }
int demo_start_gateways(const struct config *cfg, int port) { (void)cfg; (void)port; return 0; }
void demo_stop(void) {}
