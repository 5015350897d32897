/*
 * assets.h — the embedded files: the web UI (ui/dist) and the SQL migrations
 * (server/sql), compiled in by embed/. Serves /portal/, /console/, /assets/.
 * Threading: the tables are static const; lookups are read-only.
 */
#ifndef PORTICO_ASSETS_H
#define PORTICO_ASSETS_H

#include <stddef.h>

struct req;

struct embedded_file {
    const char *path; /* "portal/index.html", "sqlite/001_init.sql" */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* gzip copy or NULL when not smaller */
    size_t gz_len;
    const char *content_type;
    const char *etag; /* "\"<hash>\"" */
};

/* Generated tables (build/gen/). */
extern const struct embedded_file assets_ui[];
extern const size_t assets_ui_count;
extern const struct embedded_file assets_sql[];
extern const size_t assets_sql_count;
extern const struct embedded_file assets_docs[];
extern const size_t assets_docs_count;

/* Binary search in a sorted table; NULL when absent. */
const struct embedded_file *assets_find(const struct embedded_file *table, size_t count,
                                        const char *path);
/* Serves a UI path (GET/HEAD), with SPA fallback; always sends a response. */
int assets_handle(struct req *r);

#endif
