/*
 * demo.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/demo.h"

int demo_seed(struct db *db) { (void)db; return 0; }
