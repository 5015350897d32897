/*
 * search.h — catalog search semantics in one place: parsing the `q`
 * parameter (trim, length and UTF-8 checks, lower-casing, splitting into
 * whitespace-separated words), escaping words for `LIKE … ESCAPE '\'`, and
 * the relevance rank of a name against the query. The SQL path (catalog.c)
 * and the in-process index (search_index.c) both use these, so they agree.
 *
 * Semantics (DESIGN.md §7 "Search semantics"): every character is literal;
 * `\`, `%`, `_` are escaped (backslash first) and each word becomes the
 * pattern `%word%`; all words must match (AND), each in any field; matching
 * is against lower-cased text with a lower-cased word.
 *
 * Threading: pure functions.
 */
#ifndef PORTICO_SEARCH_H
#define PORTICO_SEARCH_H

#include <stdbool.h>
#include <stddef.h>

#include "portico/limits.h"

#define SEARCH_ERR_MAX 256

/* Ranks: lower sorts first. */
enum search_rank {
    SEARCH_RANK_EXACT = 0,    /* name equals the query (case-insensitively) */
    SEARCH_RANK_PREFIX = 1,   /* name starts with the query */
    SEARCH_RANK_CONTAINS = 2, /* name contains the query */
    SEARCH_RANK_OTHER = 3,    /* matched in other fields only */
};

struct search_query {
    char *text;                       /* trimmed, lower-cased query; "" = no filter */
    int nwords;                       /* 0 when text is "" */
    char *words[SEARCH_WORDS_MAX];    /* lower-cased words */
    char *patterns[SEARCH_WORDS_MAX]; /* "%<escaped word>%" */
    char *name_prefix;                /* "<escaped text>%" (NULL when no filter) */
    char *name_contains;              /* "%<escaped text>%" (NULL when no filter) */
};

/* Parses a decoded `q` value of `len` bytes (NULL = absent). On success
 * returns 0 and fills q (release with search_query_cleanup). On bad input
 * returns -1 with err ("q: reason", >= SEARCH_ERR_MAX bytes) and leaves q
 * empty. Out of memory returns -2. */
int search_query_parse(const char *raw, size_t len, struct search_query *q, char *err);
void search_query_cleanup(struct search_query *q);

/* Escapes `\`, then `%`, then `_` with a backslash. Returns a malloc'd
 * string the caller frees with free(); NULL on OOM. */
char *search_escape_like(const char *s);

/* True for the characters that separate words (ASCII whitespace). */
bool search_is_space(unsigned char c);
/* The one word splitter (catalog search and the gateways q filter): skips
 * separators from *p and returns the next word (*len bytes, not
 * NUL-terminated), advancing *p past it; NULL at the end. */
const char *search_next_word(const char **p, size_t *len);

/* Rank of a lower-cased name against the lower-cased whole query. */
enum search_rank search_rank_name(const char *name_lower, const char *query_lower);

/* Lower-cased concatenation of the searchable fields, each separated by
 * "\n" so a word (which never holds whitespace) cannot match across two
 * fields. `fields` holds n strings (NULL entries are skipped). Returns a
 * malloc'd string the caller frees with free(); NULL on OOM. */
char *search_text_build(const char *const *fields, size_t n);

#endif
