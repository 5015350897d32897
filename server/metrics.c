/*
 * metrics.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/metrics.h"
#include "portico/http.h"

void metrics_observe(const struct req *r) { (void)r; }
void metrics_heartbeat(void) {}
void metrics_db_error(void) {}
int metrics_handle_get(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
