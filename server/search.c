/*
 * search.c — parsing and escaping of catalog search queries, the name rank,
 * and the searchable text of an API. See search.h for the semantics.
 * Threading: pure functions; no shared state.
 */
#include "portico/search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/util.h"

bool search_is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char *search_escape_like(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s);
    char *out = malloc(2 * n + 1);
    if (!out) return NULL;
    size_t o = 0;
    /* One pass gives the same result as escaping `\` first, then `%`, then
     * `_`: every special character gets exactly one backslash in front. */
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' || s[i] == '%' || s[i] == '_') out[o++] = '\\';
        out[o++] = s[i];
    }
    out[o] = '\0';
    return out;
}

/* "<pre><escaped s><post>"; malloc'd, NULL on OOM. */
static char *pattern(const char *pre, const char *s, const char *post)
{
    char *esc = search_escape_like(s);
    if (!esc) return NULL;
    size_t n = strlen(pre) + strlen(esc) + strlen(post) + 1;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%s%s%s", pre, esc, post);
    free(esc);
    return out;
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
    for (const char *p = q->text; *p;) {
        while (*p && search_is_space((unsigned char)*p)) p++;
        if (!*p) break;
        nwords++;
        while (*p && !search_is_space((unsigned char)*p)) p++;
    }
    if (nwords > SEARCH_WORDS_MAX) {
        snprintf(err, SEARCH_ERR_MAX, "q: must have at most %d words", SEARCH_WORDS_MAX);
        search_query_cleanup(q);
        rc = -1;
        goto out;
    }
    for (const char *p = q->text; *p;) {
        while (*p && search_is_space((unsigned char)*p)) p++;
        if (!*p) break;
        const char *w = p;
        while (*p && !search_is_space((unsigned char)*p)) p++;
        char *word = malloc((size_t)(p - w) + 1);
        if (!word) goto oom;
        memcpy(word, w, (size_t)(p - w));
        word[p - w] = '\0';
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
