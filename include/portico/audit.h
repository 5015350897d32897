/*
 * audit.h — the audit log: a bounded ring buffer filled by request threads,
 * drained in batches by one writer thread; GET /v1/audit and the NDJSON export.
 * Threading: audit_record_* may be called from any thread (mutex-protected
 * ring); start/stop run on the main thread. Counters are atomics.
 */
#ifndef PORTICO_AUDIT_H
#define PORTICO_AUDIT_H

#include <stdint.h>

struct config;
struct req;

int audit_start(void);
/* Drains the buffer into the database, then stops the writer. */
void audit_stop(void);
/* Records a finished /v1 request (called by the dispatcher). */
void audit_record_request(const struct req *r);
/* Records an auth event: action is "sign_in", "sign_in_failed" or "sign_out". */
void audit_record_auth(const struct req *r, const char *action, const char *subject);
uint64_t audit_dropped_total(void);
uint64_t audit_written_total(void);
/* Database errors the audit writer met (part of portico_db_errors_total). */
uint64_t audit_db_errors_total(void);
/* Events waiting in the buffer for the writer. */
uint64_t audit_pending(void);

int audit_handle_list(struct req *r);
int audit_handle_export(struct req *r);

#endif
