/*
 * apidoc.h — GET /v1/openapi.json: Portico's own OpenAPI document
 * (docs/openapi.yaml, embedded at build time, served as JSON).
 * Threading: the converted document is built once under pthread_once.
 */
#ifndef PORTICO_APIDOC_H
#define PORTICO_APIDOC_H

struct req;

int apidoc_handle_get(struct req *r);

#endif
