/*
 * apidoc.h — GET /v1/openapi.json: Portico's own OpenAPI document
 * (docs/openapi.yaml, converted to JSON and embedded at build time).
 * Threading: reads static const tables only.
 */
#ifndef PORTICO_APIDOC_H
#define PORTICO_APIDOC_H

struct req;

int apidoc_handle_get(struct req *r);

#endif
