/*
 * demo_gateways.c — PLACEHOLDER until the module lands.
 * Threading: no state.
 */
#include "portico/demo.h"

int demo_start_gateways(const struct config *cfg, int port) { (void)cfg; (void)port; return 0; }
void demo_stop(void) {}
