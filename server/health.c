/*
 * health.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/health.h"

int health_start(const struct config *cfg) { (void)cfg; return 0; }
void health_stop(void) {}
int health_run_once(void) { return 0; }
