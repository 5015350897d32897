/*
 * openapi.c — PLACEHOLDER until the module lands: every handler answers 501.
 * Threading: no state.
 */
#include "portico/openapi.h"
#include <stdio.h>

cJSON *openapi_parse(const char *text, size_t len, int *is_yaml, char *err) { (void)text; (void)len; (void)is_yaml; snprintf(err, 256, "not implemented"); return NULL; }
cJSON *openapi_yaml_to_json(const char *text, size_t len, char *err) { (void)text; (void)len; snprintf(err, 256, "not implemented"); return NULL; }
int openapi_validate(const cJSON *doc, char *err) { (void)doc; snprintf(err, 256, "not implemented"); return -1; }
cJSON *openapi_operations(const cJSON *doc) { (void)doc; return cJSON_CreateArray(); }
