/*
 * search_index.h — an in-process copy of the portal-relevant catalog fields
 * that answers portal searches (filter, rank, facets, paging) without
 * scanning the database, with results identical to the SQL path in
 * catalog.c (same search.c semantics: lower-cased text, literal substring
 * per word, all words must match).
 *
 * It stays in step with the database through migration 003: every change
 * to `apis` bumps search_state.rev and logs (rev, api_id) in api_changes in
 * the same transaction. Each query reads the current rev (one indexed
 * single-row read); when it moved, the changed APIs are reloaded first (a
 * full reload when the log no longer reaches back far enough). So writes by
 * this process, by other replicas and by hand are all seen.
 *
 * Threading: one index per process, guarded by a pthread rwlock: queries
 * share it, refreshes take it exclusively.
 */
#ifndef PORTICO_SEARCH_INDEX_H
#define PORTICO_SEARCH_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include <cJSON.h>

#include "portico/crypto.h"
#include "portico/limits.h"
#include "portico/search.h"

struct db;

struct search_index_request {
    const struct search_query *q;
    const char *category;                      /* NULL = any */
    const char *tags[CATALOG_TAG_FILTERS_MAX]; /* all must be present */
    int ntags;
    bool signed_in;   /* internal APIs need a signed-in caller ... */
    bool all_tenants; /* ... of the same tenant, unless this */
    const char *tenant_id;
    bool by_updated; /* newest first instead of rank/name */
    long offset, limit;
};

struct search_index_result {
    long total;
    char (*ids)[CRYPTO_UUID_LEN + 1]; /* the page, in order */
    size_t nids;
    cJSON *categories; /* {name: count} */
    cJSON *tags;       /* {name: count} */
};

/* Answers a portal query. 0 with *out filled (release with
 * search_index_result_cleanup), or -1 when the index cannot answer (turned
 * off by PORTICO_SEARCH_INDEX=off, database error, out of memory): the
 * caller then runs the SQL path. */
int search_index_query(struct db *db, const struct search_index_request *rq,
                       struct search_index_result *out);
void search_index_result_cleanup(struct search_index_result *r);
/* Frees the index (tests, shutdown). */
void search_index_reset(void);

#endif
