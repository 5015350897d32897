/*
 * search.c — parsing and escaping of catalog search queries, the name rank,
 * and the searchable text of an API. See search.h for the semantics.
 * Threading: pure functions; no shared state.
 */
#include "portico/search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/db.h"
#include "portico/util.h"

bool search_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

const char *search_next_word(const char **p, size_t *len)
{
    const char *s = *p;
    while (*s && search_is_space((unsigned char)*s)) s++;
    const char *w = s;
    while (*s && !search_is_space((unsigned char)*s)) s++;
    *p = s;
    *len = (size_t)(s - w);
    return *len ? w : NULL;
}

char *search_escape_like(const char *s)
{
    return s ? db_like_pattern("", s, strlen(s), "") : NULL;
}

/* "<pre><escaped s><post>"; malloc'd, NULL on OOM. */
static char *pattern(const char *pre, const char *s, const char *post)
{
    return db_like_pattern(pre, s, strlen(s), post);
}

void search_query_cleanup(struct search_query *q)
{
    if (!q) return;
    free(q->text);
    for (int i = 0; i < q->nwords; i++) {
        free(q->words[i]);
        free(q->patterns[i]);
    }
    free(q->name_prefix);
    free(q->name_contains);
    memset(q, 0, sizeof *q);
}

int search_query_parse(const char *raw, size_t len, struct search_query *q, char *err)
{
    int rc = -2;
    char *copy = NULL;
    memset(q, 0, sizeof *q);
    if (!raw) raw = "";
    if (memchr(raw, '\0', len)) {
        snprintf(err, SEARCH_ERR_MAX, "q: must not contain NUL characters");
        return -1;
    }
    if (!util_utf8_valid(raw, len)) {
        snprintf(err, SEARCH_ERR_MAX, "q: must be valid UTF-8");
        return -1;
    }
    /* Trim ASCII whitespace at both ends. */
    size_t start = 0, end = len;
    while (start < end && search_is_space((unsigned char)raw[start])) start++;
    while (end > start && search_is_space((unsigned char)raw[end - 1])) end--;
    if (util_utf8_len(raw + start, end - start) > SEARCH_QUERY_MAX) {
        snprintf(err, SEARCH_ERR_MAX, "q: must be at most %d characters", SEARCH_QUERY_MAX);
        return -1;
    }
    copy = malloc(end - start + 1);
    if (!copy) goto out;
    memcpy(copy, raw + start, end - start);
    copy[end - start] = '\0';
    q->text = util_utf8_lower(copy);
    if (!q->text) goto out;
    if (q->text[0] == '\0') {
        rc = 0;
        goto out;
    }
    /* Split into words; count first so too many words is a clean 400. */
    int nwords = 0;
    size_t wn;
    for (const char *p = q->text; search_next_word(&p, &wn);) nwords++;
    if (nwords > SEARCH_WORDS_MAX) {
        snprintf(err, SEARCH_ERR_MAX, "q: must have at most %d words", SEARCH_WORDS_MAX);
        search_query_cleanup(q);
        rc = -1;
        goto out;
    }
    const char *w, *p = q->text;
    while ((w = search_next_word(&p, &wn))) {
        char *word = malloc(wn + 1);
        if (!word) goto oom;
        memcpy(word, w, wn);
        word[wn] = '\0';
        q->words[q->nwords] = word;
        q->patterns[q->nwords] = pattern("%", word, "%");
        q->nwords++;
        if (!q->patterns[q->nwords - 1]) goto oom;
    }
    q->name_prefix = pattern("", q->text, "%");
    q->name_contains = pattern("%", q->text, "%");
    if (!q->name_prefix || !q->name_contains) goto oom;
    rc = 0;
    goto out;
oom:
    search_query_cleanup(q);
    rc = -2;
out:
    free(copy);
    if (rc == -2) {
        search_query_cleanup(q);
        snprintf(err, SEARCH_ERR_MAX, "out of memory");
    }
    return rc;
}

enum search_rank search_rank_name(const char *name_lower, const char *query_lower)
{
    if (strcmp(name_lower, query_lower) == 0) return SEARCH_RANK_EXACT;
    size_t qn = strlen(query_lower);
    if (strncmp(name_lower, query_lower, qn) == 0) return SEARCH_RANK_PREFIX;
    if (strstr(name_lower, query_lower)) return SEARCH_RANK_CONTAINS;
    return SEARCH_RANK_OTHER;
}

char *search_text_build(const char *const *fields, size_t n)
{
    struct strbuf b;
    strbuf_init(&b, 64u * 1024 * 1024);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!fields[i] || !fields[i][0]) continue;
        if (!first) strbuf_append(&b, "\n", 1);
        strbuf_puts(&b, fields[i]);
        first = false;
    }
    if (first) strbuf_append(&b, "", 0);
    char *joined = strbuf_take(&b);
    if (!joined) return util_strdup("");
    char *lower = util_utf8_lower(joined);
    free(joined);
    return lower;
}
