/*
 * deployments.h — deploying catalog APIs to gateways: GET|POST
 * /v1/deployments and POST /v1/deployments/{id}/sync (tenant-scoped); the
 * gateways' /config poll reads the pending ones.
 * Threading: stateless; database access through db_thread().
 */
#ifndef PORTICO_DEPLOYMENTS_H
#define PORTICO_DEPLOYMENTS_H

struct req;

int deployments_handle_list(struct req *r);
int deployments_handle_create(struct req *r);
int deployments_handle_sync(struct req *r);

#endif
