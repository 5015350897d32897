/*
 * apidoc.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/apidoc.h"
#include "portico/http.h"

int apidoc_handle_get(struct req *r) { return http_send_error(r, 501, "not_implemented", "not implemented yet"); }
