/*
 * audit.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/audit.h"
#include "portico/http.h"

int audit_start(const struct config *cfg) { (void)cfg; return 0; }
void audit_stop(void) {}
void audit_record_request(const struct req *r) { (void)r; }
void audit_record_auth(const struct req *r, const char *action, const char *subject) { (void)r; (void)action; (void)subject; }
uint64_t audit_dropped_total(void) { return 0; }
uint64_t audit_written_total(void) { return 0; }
int audit_handle_list(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int audit_handle_export(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
