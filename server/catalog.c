/*
 * catalog.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/catalog.h"
#include "portico/http.h"

int catalog_upsert(struct db *db, const cJSON *api, const char *tenant_id, cJSON **out, char *err) { (void)db; (void)api; (void)tenant_id; (void)out; (void)err; return 4; }
int catalog_handle_portal_list(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int catalog_handle_portal_get(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int catalog_handle_list(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int catalog_handle_create(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int catalog_handle_import(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int catalog_handle_get(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int catalog_handle_update(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
int catalog_handle_delete(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
