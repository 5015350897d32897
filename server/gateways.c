/*
 * gateways.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/gateways.h"
#include "portico/http.h"

const char *gateways_status(const struct config *cfg, bool maintenance, int64_t last_hb_ms, bool has_error_rate, double error_rate, int64_t now_ms, char *reason, size_t reason_len) { (void)cfg; (void)maintenance; (void)last_hb_ms; (void)has_error_rate; (void)error_rate; (void)now_ms; if (reason_len) reason[0] = 0; return "offline"; }
int gateways_handle_register(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int gateways_handle_heartbeat(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int gateways_handle_config(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int gateways_handle_list(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int gateways_handle_get(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int gateways_handle_delete(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int gateways_handle_maintenance(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int deployments_handle_list(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int deployments_handle_create(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int deployments_handle_sync(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
