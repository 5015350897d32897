/*
 * apikeys.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/apikeys.h"
#include "portico/http.h"

int apikeys_load_file(const char *path, FILE *err) { (void)path; (void)err; return 0; }
void apikeys_free_file(void) {}
int apikeys_lookup(const char *key, struct principal *p) { (void)key; (void)p; return 1; }
int apikeys_create(const char *name, const char *role, const char *tenant, long long expires_at_ms, const char *created_by, char *key_out, char *id_out) { (void)name; (void)role; (void)tenant; (void)expires_at_ms; (void)created_by; (void)key_out; (void)id_out; return 4; }
int apikeys_handle_list(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int apikeys_handle_create(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int apikeys_handle_delete(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
