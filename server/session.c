/*
 * session.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/session.h"
#include "portico/http.h"

const char *session_cookie_name(void) { return "portico_session"; }
int session_create(struct principal *p, const char *id_token, char *set_cookie, size_t n) { (void)p; (void)id_token; (void)set_cookie; (void)n; return 4; }
int session_lookup(const char *token, struct principal *p) { (void)token; (void)p; return 1; }
void session_clear_cookie(char *out, size_t n) { if (n) out[0] = 0; }
long session_purge_expired(void) { return 0; }
int session_handle_apikey_login(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int session_handle_logout(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
