/*
 * events.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/events.h"
#include "portico/http.h"

int events_start(const struct config *cfg) { (void)cfg; return 0; }
void events_stop(void) {}
void events_publish(const char *type, const char *json_data) { (void)type; (void)json_data; }
int events_open_streams(void) { return 0; }
int events_handle_stream(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
