/*
 * auth.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/auth.h"
#include <cJSON.h>
#include "portico/config.h"
#include "portico/http.h"

int auth_init(const struct config *cfg) { (void)cfg; return 0; }
void auth_cleanup(void) {}
int auth_resolve(struct req *r) { (void)r; return 0; }
int auth_gateway(struct req *r) { return http_send_error(r, 503, "gateway_keys_not_configured", "not implemented yet"); }
int auth_check_csrf(struct req *r) { (void)r; return 0; }
bool auth_origin_ok(struct req *r) { (void)r; return true; }
int auth_handle_config(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int auth_handle_whoami(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
cJSON *auth_whoami_json(const struct req *r) { (void)r; return NULL; }
