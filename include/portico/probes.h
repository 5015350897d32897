/*
 * probes.h — liveness and readiness: GET /healthz and GET /readyz.
 * Threading: the readiness result is cached under a mutex for READY_RECHECK_S.
 */
#ifndef PORTICO_PROBES_H
#define PORTICO_PROBES_H

struct req;

int probes_handle_healthz(struct req *r);
int probes_handle_readyz(struct req *r);

#endif
