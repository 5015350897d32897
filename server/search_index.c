/*
 * search_index.c — placeholder: always falls back to SQL.
 */
#include "portico/search_index.h"

#include <stdlib.h>
#include <string.h>

int search_index_query(struct db *db, const struct search_index_request *rq,
                       struct search_index_result *out)
{
    (void)db, (void)rq;
    memset(out, 0, sizeof *out);
    return -1;
}

void search_index_result_cleanup(struct search_index_result *r)
{
    if (!r) return;
    free(r->ids);
    cJSON_Delete(r->categories);
    cJSON_Delete(r->tags);
    memset(r, 0, sizeof *r);
}

void search_index_reset(void)
{
}
