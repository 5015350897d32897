/*
 * gateways.h — the gateway registry: the gateway protocol
 * (/v1/internal/gateways/...), the console API (/v1/gateways...), status
 * rules derived from stored times, and deployments for /config.
 * Threading: stateless; database access through db_thread().
 */
#ifndef PORTICO_GATEWAYS_H
#define PORTICO_GATEWAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;
struct req;

/* The status rules: pure, unit-tested. last_hb_ms < 0 means never. */
const char *gateways_status(const struct config *cfg, bool maintenance, int64_t last_hb_ms,
                            bool has_error_rate, double error_rate, int64_t now_ms, char *reason,
                            size_t reason_len);

int gateways_handle_register(struct req *r);
int gateways_handle_heartbeat(struct req *r);
int gateways_handle_config(struct req *r);
int gateways_handle_list(struct req *r);
int gateways_handle_get(struct req *r);
int gateways_handle_delete(struct req *r);
int gateways_handle_maintenance(struct req *r);

int deployments_handle_list(struct req *r);
int deployments_handle_create(struct req *r);
int deployments_handle_sync(struct req *r);

#endif
