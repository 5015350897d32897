/*
 * search_index.c — the in-process portal search index (see search_index.h
 * for how it stays in step with the database).
 *
 * It holds only what portal search needs, for the APIs the portal can list
 * at all (published or deprecated, and portal_visible): id, tenant,
 * audience, lower-cased name, category, tags, updated_at and search_text.
 * A query applies exactly the SQL path's rules: visibility, category, every
 * tag, and every word as a literal substring of search_text (byte
 * substring of lower-cased UTF-8 == `LIKE '%word%' ESCAPE '\'` on the
 * lower-cased column, on both databases); then rank, order, facets, page.
 *
 * Speed: each entry carries a 4096-bit signature of the hashed 1-, 2- and
 * 3-byte grams of its text (grams with whitespace are skipped: words have
 * none). A word's grams must all be set for the entry to be a candidate
 * (no false negatives; false positives are removed by the exact substring
 * check, which anchors on the word's rarest byte). Ordering uses each
 * entry's precomputed position in (name_lower, id) order, so sorting the
 * matches compares integers only.
 *
 * Threading: `idx` is guarded by `lock` (pthread rwlock): queries hold it
 * shared; refreshes hold it exclusively. `disabled` is set once.
 */
#define _GNU_SOURCE
#include "portico/search_index.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/db.h"
#include "portico/json.h"
#include "portico/log.h"
#include "portico/util.h"

#define SIG_BITS 4096
#define SIG_WORDS (SIG_BITS / 64)
#define GRAMS_PER_WORD_MAX 48
#define CHANGES_BATCH 1000 /* more pending changes than this: reload everything */

static const char SQL_REV[] = "SELECT rev FROM search_state WHERE id = 1";
static const char SQL_CHANGES[] =
    "SELECT rev, api_id FROM api_changes WHERE rev > $1 ORDER BY rev LIMIT 1001";
#define ENTRY_COLS                                                                                 \
    "SELECT id, tenant_id, name_lower, category, tags_json, audience, search_text, updated_at "    \
    "FROM apis WHERE status IN ('published', 'deprecated') AND portal_visible = 1"
static const char SQL_ALL[] = ENTRY_COLS;
static const char SQL_ONE[] = ENTRY_COLS " AND id = $1";

struct entry {
    char id[CRYPTO_UUID_LEN + 1];
    char tenant_id[AUTH_TENANT_MAX + 1];
    bool internal;
    char *name_lower;
    char *category;
    char **tags;
    int ntags;
    char *text;
    size_t text_len;
    int64_t updated_at;
    uint32_t name_pos; /* position in (name_lower, id) order */
    uint64_t sig[SIG_WORDS];
};

/* The hot fields of one entry, in (name_lower, id) order. */
struct hot {
    size_t text_off, name_off; /* into arena (NUL-terminated) */
    uint32_t text_len, name_len;
    int32_t cat;             /* into cats; -1 = no category */
    uint32_t tag_off, ntags; /* into tag_ids */
    int64_t updated_at;
    bool internal;
};

struct index {
    bool loaded;
    int64_t rev;
    struct entry **e; /* owned; sorted by (name_lower, id) after a rebuild */
    size_t n, cap;
    /* Compact copies rebuilt after every change (index_rebuild). */
    struct hot *hot;
    char *arena;
    uint32_t *tag_ids;
    uint64_t *slices; /* SIG_BITS bitmaps of nw words: entries having that bit */
    size_t nw;
    const char **cats; /* interned category names (borrowed from entries) */
    size_t ncats;
    const char **tags; /* interned tag names */
    size_t ntags;
    uint32_t byte_freq[256];
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct index idx;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool disabled;

static void read_env(void)
{
    const char *v = getenv("PORTICO_SEARCH_INDEX");
    disabled = v && (strcmp(v, "off") == 0 || strcmp(v, "0") == 0 || strcmp(v, "false") == 0);
    if (disabled) log_info("search: in-process index off (PORTICO_SEARCH_INDEX); SQL only");
}

/* ---- entries ----------------------------------------------------------- */

static void entry_free(struct entry *e)
{
    if (!e) return;
    free(e->name_lower);
    free(e->category);
    for (int i = 0; i < e->ntags; i++) free(e->tags[i]);
    free(e->tags);
    free(e->text);
    free(e);
}

static bool is_ws(unsigned char c)
{
    return search_is_space(c);
}

static uint32_t gram_hash(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u ^ (uint32_t)n;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    return h % SIG_BITS;
}

static void sig_build(struct entry *e)
{
    memset(e->sig, 0, sizeof e->sig);
    const unsigned char *t = (const unsigned char *)e->text;
    for (size_t i = 0; i < e->text_len; i++) {
        for (size_t n = 1; n <= 3 && i + n <= e->text_len; n++) {
            if (is_ws(t[i + n - 1])) break;
            uint32_t b = gram_hash(t + i, n);
            e->sig[b >> 6] |= (uint64_t)1 << (b & 63);
        }
    }
}

/* An entry from a SQL_ALL/SQL_ONE row; NULL on OOM. */
static struct entry *entry_from_row(const struct db_result *res, size_t row)
{
    struct entry *e = calloc(1, sizeof *e);
    cJSON *tags = NULL;
    if (!e) return NULL;
    util_copy(e->id, sizeof e->id, db_get(res, row, 0));
    util_copy(e->tenant_id, sizeof e->tenant_id, db_get(res, row, 1));
    e->name_lower = util_strdup(db_get(res, row, 2) ? db_get(res, row, 2) : "");
    e->category = util_strdup(db_get(res, row, 3) ? db_get(res, row, 3) : "");
    const char *tj = db_get(res, row, 4);
    tags = tj ? json_parse(tj, strlen(tj)) : NULL;
    int nt = cJSON_IsArray(tags) ? cJSON_GetArraySize(tags) : 0;
    e->tags = calloc((size_t)(nt > 0 ? nt : 1), sizeof *e->tags);
    const cJSON *t;
    if (e->tags && nt > 0) {
        cJSON_ArrayForEach(t, tags)
        {
            if (cJSON_IsString(t)) e->tags[e->ntags++] = util_strdup(t->valuestring);
        }
    }
    const char *aud = db_get(res, row, 5);
    e->internal = aud && strcmp(aud, "internal") == 0;
    e->text = util_strdup(db_get(res, row, 6) ? db_get(res, row, 6) : "");
    e->text_len = e->text ? strlen(e->text) : 0;
    e->updated_at = db_get_int(res, row, 7);
    cJSON_Delete(tags);
    bool ok = e->name_lower && e->category && e->tags && e->text;
    for (int i = 0; ok && i < e->ntags; i++) ok = e->tags[i] != NULL;
    if (!ok) {
        entry_free(e);
        return NULL;
    }
    sig_build(e);
    return e;
}

static void compact_free(struct index *x)
{
    free(x->hot);
    free(x->arena);
    free(x->tag_ids);
    free(x->slices);
    free(x->cats);
    free(x->tags);
    x->hot = NULL;
    x->arena = NULL;
    x->tag_ids = NULL;
    x->slices = NULL;
    x->cats = x->tags = NULL;
    x->ncats = x->ntags = x->nw = 0;
}

static void index_clear(struct index *x)
{
    compact_free(x);
    for (size_t i = 0; i < x->n; i++) entry_free(x->e[i]);
    free(x->e);
    memset(x, 0, sizeof *x);
}

static bool index_push(struct index *x, struct entry *e)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 1024;
        struct entry **ne = realloc(x->e, cap * sizeof *ne);
        if (!ne) return false;
        x->e = ne;
        x->cap = cap;
    }
    x->e[x->n++] = e;
    return true;
}

static int name_order(const void *a, const void *b)
{
    const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
    int c = strcmp(x->name_lower, y->name_lower);
    return c ? c : strcmp(x->id, y->id);
}

/* Sorts entries by (name_lower, id) and records each one's position. */
/* A string → count table for facets (open addressing). */
struct counter {
    const char **keys;
    long *counts;
    size_t cap, n;
};

static bool counter_init(struct counter *c, size_t expect)
{
    c->cap = 64;
    while (c->cap < expect * 2) c->cap *= 2;
    c->n = 0;
    c->keys = calloc(c->cap, sizeof *c->keys);
    c->counts = calloc(c->cap, sizeof *c->counts);
    return c->keys && c->counts;
}

static void counter_cleanup(struct counter *c)
{
    free(c->keys);
    free(c->counts);
}

static uint64_t str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool counter_add(struct counter *c, const char *key)
{
    if ((c->n + 1) * 2 > c->cap) {
        struct counter bigger;
        if (!counter_init(&bigger, c->cap)) {
            counter_cleanup(&bigger);
            return false;
        }
        for (size_t i = 0; i < c->cap; i++) {
            if (!c->keys[i]) continue;
            size_t j = str_hash(c->keys[i]) & (bigger.cap - 1);
            while (bigger.keys[j]) j = (j + 1) & (bigger.cap - 1);
            bigger.keys[j] = c->keys[i];
            bigger.counts[j] = c->counts[i];
            bigger.n++;
        }
        counter_cleanup(c);
        *c = bigger;
    }
    size_t j = str_hash(key) & (c->cap - 1);
    while (c->keys[j] && strcmp(c->keys[j], key) != 0) j = (j + 1) & (c->cap - 1);
    if (!c->keys[j]) {
        c->keys[j] = key;
        c->n++;
    }
    c->counts[j]++;
    return true;
}

/* The id of key in the intern table c (whose counts hold ids), adding it
 * to list when new; -1 on OOM. */
static int32_t intern(struct counter *c, const char *key, const char ***list, size_t *n)
{
    size_t j = str_hash(key) & (c->cap - 1);
    while (c->keys[j] && strcmp(c->keys[j], key) != 0) j = (j + 1) & (c->cap - 1);
    if (c->keys[j]) return (int32_t)c->counts[j];
    /* New key: counter_add inserts it (growing the table) with count 1. */
    if (!counter_add(c, key)) return -1;
    const char **nl = realloc(*list, (*n + 1) * sizeof *nl);
    if (!nl) return -1;
    *list = nl;
    nl[*n] = key;
    j = str_hash(key) & (c->cap - 1);
    /* counter_add just inserted key: the probe always finds it. */
    // NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker)
    while (strcmp(c->keys[j], key) != 0) j = (j + 1) & (c->cap - 1);
    c->counts[j] = (long)*n;
    return (int32_t)(*n)++;
}

/* Sorts entries by (name_lower, id) and rebuilds the compact copies. -1 on
 * OOM (the index is then unusable until reloaded). */
static int index_rebuild(struct index *x)
{
    struct index c; /* the new compact part */
    struct counter cat_map, tag_map;
    int rc = -1;
    memset(&c, 0, sizeof c);
    memset(&cat_map, 0, sizeof cat_map);
    memset(&tag_map, 0, sizeof tag_map);
    if (x->n) qsort(x->e, x->n, sizeof *x->e, name_order);
    size_t bytes = 0, ntag_ids = 0;
    for (size_t i = 0; i < x->n; i++) {
        bytes += x->e[i]->text_len + strlen(x->e[i]->name_lower) + 2;
        ntag_ids += (size_t)x->e[i]->ntags;
    }
    c.nw = (x->n + 63) / 64;
    c.hot = calloc(x->n ? x->n : 1, sizeof *c.hot);
    c.arena = malloc(bytes ? bytes : 1);
    c.tag_ids = calloc(ntag_ids ? ntag_ids : 1, sizeof *c.tag_ids);
    c.slices = calloc((size_t)SIG_BITS * (c.nw ? c.nw : 1), sizeof *c.slices);
    if (!c.hot || !c.arena || !c.tag_ids || !c.slices || !counter_init(&cat_map, 16) ||
        !counter_init(&tag_map, 64))
        goto out;
    size_t off = 0, toff = 0;
    for (size_t i = 0; i < x->n; i++) {
        const struct entry *e = x->e[i];
        struct hot *h = &c.hot[i];
        h->text_off = off;
        h->text_len = (uint32_t)e->text_len;
        memcpy(c.arena + off, e->text, e->text_len + 1);
        off += e->text_len + 1;
        /* search_text starts with the name (the first field, which has no
         * newline); share those bytes so ranking touches the same line. */
        size_t nl = strlen(e->name_lower);
        h->name_len = (uint32_t)nl;
        if (nl <= e->text_len && memcmp(e->text, e->name_lower, nl) == 0 &&
            (e->text[nl] == '\n' || e->text[nl] == '\0')) {
            h->name_off = h->text_off;
        } else {
            h->name_off = off;
            memcpy(c.arena + off, e->name_lower, nl + 1);
            off += nl + 1;
        }
        h->cat = e->category[0] ? intern(&cat_map, e->category, &c.cats, &c.ncats) : -1;
        if (e->category[0] && h->cat < 0) goto out;
        h->tag_off = (uint32_t)toff;
        h->ntags = (uint32_t)e->ntags;
        for (int t = 0; t < e->ntags; t++) {
            int32_t id = intern(&tag_map, e->tags[t], &c.tags, &c.ntags);
            if (id < 0) goto out;
            c.tag_ids[toff++] = (uint32_t)id;
        }
        h->updated_at = e->updated_at;
        h->internal = e->internal;
        for (size_t w = 0; w < SIG_WORDS; w++) {
            uint64_t bits = e->sig[w];
            while (bits) {
                size_t b = w * 64 + (size_t)__builtin_ctzll(bits);
                bits &= bits - 1;
                c.slices[b * c.nw + i / 64] |= (uint64_t)1 << (i % 64);
            }
        }
    }
    compact_free(x);
    x->hot = c.hot;
    x->arena = c.arena;
    x->tag_ids = c.tag_ids;
    x->slices = c.slices;
    x->nw = c.nw;
    x->cats = c.cats;
    x->ncats = c.ncats;
    x->tags = c.tags;
    x->ntags = c.ntags;
    memset(&c, 0, sizeof c);
    /* Byte frequencies from a sample of texts pick each word's anchor. */
    memset(x->byte_freq, 0, sizeof x->byte_freq);
    size_t step = x->n > 512 ? x->n / 512 : 1;
    for (size_t i = 0; i < x->n; i += step) {
        const unsigned char *t = (const unsigned char *)x->e[i]->text;
        for (size_t k = 0; k < x->e[i]->text_len; k++) x->byte_freq[t[k]]++;
    }
    rc = 0;
out:
    compact_free(&c);
    counter_cleanup(&cat_map);
    counter_cleanup(&tag_map);
    return rc;
}

static enum db_err read_rev(struct db *db, int64_t *rev)
{
    struct db_result *res = NULL;
    enum db_err e = db_query(db, SQL_REV, DB_NOARGS, &res);
    if (e == DB_OK && db_rows(res) == 1)
        *rev = db_get_int(res, 0, 0);
    else if (e == DB_OK)
        e = DB_ERR_INTERNAL;
    db_result_free(res);
    return e;
}

/* Loads every listable API into a fresh index at `rev`. */
static int full_load(struct db *db, int64_t rev)
{
    struct db_result *res = NULL;
    struct index fresh;
    memset(&fresh, 0, sizeof fresh);
    enum db_err e = db_query(db, SQL_ALL, DB_NOARGS, &res);
    if (e != DB_OK) return -1;
    for (size_t i = 0; i < db_rows(res); i++) {
        struct entry *en = entry_from_row(res, i);
        if (!en || !index_push(&fresh, en)) {
            entry_free(en);
            db_result_free(res);
            index_clear(&fresh);
            return -1;
        }
    }
    db_result_free(res);
    if (index_rebuild(&fresh) != 0) {
        index_clear(&fresh);
        return -1;
    }
    fresh.loaded = true;
    fresh.rev = rev;
    index_clear(&idx);
    idx = fresh;
    return 0;
}

static void index_remove(struct index *x, const char *id)
{
    for (size_t i = 0; i < x->n; i++) {
        if (strcmp(x->e[i]->id, id) != 0) continue;
        entry_free(x->e[i]);
        x->e[i] = x->e[--x->n];
        return;
    }
}

/* Applies the logged changes after idx.rev. Caller holds the write lock. */
static int apply_changes(struct db *db, int64_t target)
{
    struct db_result *ch = NULL;
    int rc = -1;
    enum db_err e = db_query(db, SQL_CHANGES, DB_ARGS(DBP_INT(idx.rev)), &ch);
    if (e != DB_OK) goto out;
    size_t n = db_rows(ch);
    /* A gap means the log was pruned past us; too many means a bulk change. */
    if (n == 0 || n > CHANGES_BATCH || db_get_int(ch, 0, 0) != idx.rev + 1) {
        rc = full_load(db, target);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const char *id = db_get(ch, i, 1);
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++) seen = strcmp(db_get(ch, k, 1), id) == 0;
        if (seen) continue;
        struct db_result *row = NULL;
        if (db_query(db, SQL_ONE, DB_ARGS(DBP_TEXT(id)), &row) != DB_OK) goto out;
        index_remove(&idx, id);
        if (db_rows(row) == 1) {
            struct entry *en = entry_from_row(row, 0);
            if (!en || !index_push(&idx, en)) {
                entry_free(en);
                db_result_free(row);
                idx.loaded = false; /* half-applied: reload next time */
                goto out;
            }
        }
        db_result_free(row);
    }
    if (index_rebuild(&idx) != 0) {
        idx.loaded = false;
        goto out;
    }
    idx.rev = db_get_int(ch, n - 1, 0);
    rc = 0;
out:
    db_result_free(ch);
    return rc;
}

/* ---- queries ------------------------------------------------------------ */

struct word {
    const char *s;
    size_t len;
    size_t anchor; /* offset of the rarest byte */
    uint32_t bits[GRAMS_PER_WORD_MAX];
    int nbits;
};

static void word_prepare(struct word *w, const char *s, const uint32_t *freq)
{
    w->s = s;
    w->len = strlen(s);
    w->anchor = 0;
    for (size_t i = 1; i < w->len; i++)
        if (freq[(unsigned char)s[i]] < freq[(unsigned char)s[w->anchor]]) w->anchor = i;
    const unsigned char *p = (const unsigned char *)s;
    size_t g = w->len >= 3 ? 3 : w->len;
    size_t count = w->len - g + 1;
    w->nbits = 0;
    /* Any subset of the grams is a valid filter; spread the ones kept. */
    size_t step =
        count > GRAMS_PER_WORD_MAX ? (count + GRAMS_PER_WORD_MAX - 1) / GRAMS_PER_WORD_MAX : 1;
    for (size_t i = 0; i < count && w->nbits < GRAMS_PER_WORD_MAX; i += step)
        w->bits[w->nbits++] = gram_hash(p + i, g);
}

static bool word_in(const struct word *w, const char *t, size_t tlen)
{
    if (w->len > tlen) return false;
    char c = w->s[w->anchor];
    const char *p = t + w->anchor;
    const char *last = t + (tlen - w->len) + w->anchor; /* last anchor position */
    while (p <= last) {
        p = memchr(p, c, (size_t)(last - p) + 1);
        if (!p) return false;
        const char *start = p - w->anchor;
        /* Cheap first/last byte checks before the call. */
        if (start[0] == w->s[0] && start[w->len - 1] == w->s[w->len - 1] &&
            memcmp(start, w->s, w->len) == 0)
            return true;
        p++;
    }
    return false;
}

/* search_rank_name over a name of known length (not NUL-terminated). */
static uint8_t name_rank(const char *name, size_t nlen, const char *q, size_t qlen)
{
    if (nlen == qlen && memcmp(name, q, qlen) == 0) return SEARCH_RANK_EXACT;
    if (nlen >= qlen && memcmp(name, q, qlen) == 0) return SEARCH_RANK_PREFIX;
    if (memmem(name, nlen, q, qlen)) return SEARCH_RANK_CONTAINS;
    return SEARCH_RANK_OTHER;
}

/* The interned id of name in list, or -1. */
static int32_t lookup(const char *const *list, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0) return (int32_t)i;
    return -1;
}

struct kv {
    const char *k;
    long v;
};

static int kv_cmp(const void *a, const void *b)
{
    const struct kv *x = a, *y = b;
    if (x->v != y->v) return x->v > y->v ? -1 : 1;
    return strcmp(x->k, y->k);
}

/* {name: count} for the non-zero counts, count desc then name (as the SQL
 * path orders them); caller frees. */
static cJSON *facet_json(const char *const *names, const long *counts, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    struct kv *kv = calloc(n ? n : 1, sizeof *kv);
    if (!o || !kv) {
        free(kv);
        cJSON_Delete(o);
        return NULL;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (counts[i]) kv[m++] = (struct kv){names[i], counts[i]};
    qsort(kv, m, sizeof *kv, kv_cmp);
    for (size_t i = 0; i < m; i++) cJSON_AddNumberToObject(o, kv[i].k, (double)kv[i].v);
    free(kv);
    return o;
}

struct by_updated {
    int64_t at;
    uint32_t i;
};

static int updated_cmp(const void *a, const void *b)
{
    const struct by_updated *x = a, *y = b;
    if (x->at != y->at) return x->at > y->at ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i ? 1 : 0;
}

/* Runs the query on the loaded index. Caller holds the read lock. */
static int run_query(const struct search_index_request *rq, struct search_index_result *out)
{
    const struct search_query *q = rq->q;
    struct word words[SEARCH_WORDS_MAX];
    uint64_t *cand = NULL;
    uint32_t *mi = NULL, *order = NULL;
    uint8_t *rank = NULL;
    long *cat_n = NULL, *tag_n = NULL;
    struct by_updated *bu = NULL;
    int32_t want_tags[CATALOG_TAG_FILTERS_MAX];
    size_t n = idx.n, nw = idx.nw, nm = 0;
    int rc = -1;
    bool none = false, ranked = q->nwords > 0 && !rq->by_updated;
    size_t qlen = q->text ? strlen(q->text) : 0;

    memset(out, 0, sizeof *out);
    for (int i = 0; i < q->nwords; i++) word_prepare(&words[i], q->words[i], idx.byte_freq);
    int32_t want_cat = rq->category ? lookup(idx.cats, idx.ncats, rq->category) : -1;
    if (rq->category && want_cat < 0) none = true;
    for (int t = 0; t < rq->ntags; t++) {
        want_tags[t] = lookup(idx.tags, idx.ntags, rq->tags[t]);
        if (want_tags[t] < 0) none = true;
    }
    cand = malloc((nw ? nw : 1) * sizeof *cand);
    mi = malloc((n ? n : 1) * sizeof *mi);
    rank = malloc(n ? n : 1);
    cat_n = calloc(idx.ncats ? idx.ncats : 1, sizeof *cat_n);
    tag_n = calloc(idx.ntags ? idx.ntags : 1, sizeof *tag_n);
    if (!cand || !mi || !rank || !cat_n || !tag_n) goto out;
    /* Candidates: entries whose signature has every gram of every word. */
    for (size_t w = 0; w < nw; w++) cand[w] = none ? 0 : ~(uint64_t)0;
    if (nw && n % 64) cand[nw - 1] &= ((uint64_t)1 << (n % 64)) - 1;
    for (int k = 0; k < q->nwords && !none; k++) {
        for (int b = 0; b < words[k].nbits; b++) {
            const uint64_t *slice = idx.slices + (size_t)words[k].bits[b] * nw;
            for (size_t w = 0; w < nw; w++) cand[w] &= slice[w];
        }
    }
    for (size_t w = 0; w < nw; w++) {
        uint64_t bits = cand[w];
        while (bits) {
            size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            const struct hot *h = &idx.hot[i];
            if (h->internal && !(rq->signed_in && (rq->all_tenants || strcmp(idx.e[i]->tenant_id,
                                                                             rq->tenant_id) == 0)))
                continue;
            if (rq->category && h->cat != want_cat) continue;
            const uint32_t *tids = idx.tag_ids + h->tag_off;
            bool ok = true;
            for (int t = 0; ok && t < rq->ntags; t++) {
                ok = false;
                for (uint32_t k = 0; k < h->ntags && !ok; k++)
                    ok = tids[k] == (uint32_t)want_tags[t];
            }
            const char *text = idx.arena + h->text_off;
            for (int k = 0; ok && k < q->nwords; k++) ok = word_in(&words[k], text, h->text_len);
            if (!ok) continue;
            if (ranked) rank[nm] = name_rank(idx.arena + h->name_off, h->name_len, q->text, qlen);
            mi[nm++] = (uint32_t)i;
            if (h->cat >= 0) cat_n[h->cat]++;
            for (uint32_t k = 0; k < h->ntags; k++) tag_n[tids[k]]++;
        }
    }
    /* Order: matches are already in (name_lower, id) order. */
    order = malloc((nm ? nm : 1) * sizeof *order);
    if (!order) goto out;
    if (rq->by_updated) {
        bu = malloc((nm ? nm : 1) * sizeof *bu);
        if (!bu) goto out;
        for (size_t k = 0; k < nm; k++)
            bu[k] = (struct by_updated){idx.hot[mi[k]].updated_at, mi[k]};
        qsort(bu, nm, sizeof *bu, updated_cmp);
        for (size_t k = 0; k < nm; k++) order[k] = bu[k].i;
    } else if (ranked) {
        size_t o = 0; /* stable bucket sort by rank */
        for (int r = SEARCH_RANK_EXACT; r <= SEARCH_RANK_OTHER; r++)
            for (size_t k = 0; k < nm; k++)
                if (rank[k] == r) order[o++] = mi[k];
    } else {
        memcpy(order, mi, nm * sizeof *order);
    }
    out->total = (long)nm;
    size_t from = rq->offset < 0 ? 0 : (size_t)rq->offset;
    size_t count = from < nm ? nm - from : 0;
    if (count > (size_t)rq->limit) count = (size_t)rq->limit;
    out->ids = calloc(count ? count : 1, sizeof *out->ids);
    out->categories = facet_json(idx.cats, cat_n, idx.ncats);
    out->tags = facet_json(idx.tags, tag_n, idx.ntags);
    if (!out->ids || !out->categories || !out->tags) {
        search_index_result_cleanup(out);
        goto out;
    }
    for (size_t k = 0; k < count; k++)
        memcpy(out->ids[k], idx.e[order[from + k]]->id, sizeof out->ids[k]);
    out->nids = count;
    rc = 0;
out:
    free(cand);
    free(mi);
    free(order);
    free(rank);
    free(cat_n);
    free(tag_n);
    free(bu);
    return rc;
}

int search_index_query(struct db *db, const struct search_index_request *rq,
                       struct search_index_result *out)
{
    int64_t rev = 0;
    memset(out, 0, sizeof *out);
    pthread_once(&once, read_env);
    if (disabled || !db || rq->limit < 1) return -1;
    if (read_rev(db, &rev) != DB_OK) return -1;
    pthread_rwlock_rdlock(&lock);
    if (!idx.loaded || idx.rev < rev) {
        pthread_rwlock_unlock(&lock);
        pthread_rwlock_wrlock(&lock);
        int rc = 0;
        if (!idx.loaded)
            rc = full_load(db, rev);
        else if (idx.rev < rev)
            rc = apply_changes(db, rev);
        pthread_rwlock_unlock(&lock);
        if (rc != 0) {
            log_warn("search: index refresh failed; answering from SQL");
            return -1;
        }
        pthread_rwlock_rdlock(&lock);
    }
    int rc = idx.loaded ? run_query(rq, out) : -1;
    pthread_rwlock_unlock(&lock);
    return rc;
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
    pthread_rwlock_wrlock(&lock);
    index_clear(&idx);
    pthread_rwlock_unlock(&lock);
}
