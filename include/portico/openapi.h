/*
 * openapi.h — reading OpenAPI documents: JSON or YAML text to cJSON (YAML
 * via libyaml), and the operations list (method, path, operationId,
 * summary, tags) derived from `paths`.
 * Threading: pure functions.
 */
#ifndef PORTICO_OPENAPI_H
#define PORTICO_OPENAPI_H

#include <stddef.h>

#include <cJSON.h>

/* Parses text as JSON, else as YAML. Returns the document (caller frees with
 * cJSON_Delete) or NULL with a reason in err (>= 256 bytes). *is_yaml tells
 * which syntax it was (may be NULL). */
cJSON *openapi_parse(const char *text, size_t len, int *is_yaml, char *err);
/* Converts YAML text to cJSON; NULL with err on failure. */
cJSON *openapi_yaml_to_json(const char *text, size_t len, char *err);
/* Checks the document is OpenAPI 3.x with info.title and info.version;
 * 0 ok, -1 with err naming the problem. */
int openapi_validate(const cJSON *doc, char *err);
/* [{method, path, operation_id, summary, tags}] from doc.paths; caller
 * frees. Never NULL unless out of memory. */
cJSON *openapi_operations(const cJSON *doc);

#endif
