/*
 * oidc.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/oidc.h"
#include <stdio.h>
#include "portico/http.h"

int oidc_init(const struct config *cfg) { (void)cfg; return 0; }
void oidc_cleanup(void) {}
bool oidc_enabled(void) { return false; }
bool oidc_ready(void) { return false; }
int oidc_verify_bearer(const char *token, struct principal *p) { (void)token; (void)p; return 1; }
void oidc_end_session_url(const char *id_token, char *out, size_t n) { (void)id_token; if (n) out[0] = 0; }
int oidc_check_cli(const struct config *cfg) { (void)cfg; fprintf(stderr, "not implemented yet\n"); return 1; }
int oidc_handle_login(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int oidc_handle_callback(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
