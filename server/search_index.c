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
 * Speed: each entry has a 4096-bit signature of the hashed 1-, 2- and
 * 3-byte grams of its text (grams with whitespace are skipped: words have
 * none), stored transposed as bit slices (one bitmap of all entries per
 * signature bit). A word's grams must all be set for the entry to be a
 * candidate (no false negatives; false positives are removed by the exact
 * substring check, which anchors on the word's rarest byte). Entries are
 * kept in (name_lower, id) order, so matches come out in name order.
 *
 * The exact matches of a query text (every word a substring of the text,
 * and which names contain the whole query) are kept for the last
 * SEARCH_CACHE_QUERIES query texts, tagged with the index generation, so a
 * repeated common term skips the substring checks. Visibility, category and
 * tag filters, facet counts and the page are computed per request from
 * interned per-entry ids, keeping only the first offset+limit entries of
 * each rank (or a bounded heap for sort=updated) instead of ordering every
 * match.
 *
 * Memory: each text is stored once, in the arena; a new entry's own text
 * copy and signature live only until the next rebuild moves them into the
 * arena and the slices (kept entries move there from the previous ones).
 *
 * Threading: `idx` is guarded by `lock` (pthread rwlock): queries hold it
 * shared; refreshes hold it exclusively. The query cache has its own mutex
 * (taken under the read lock). `disabled` is set once.
 */
#define _GNU_SOURCE
#include "portico/search_index.h"

#include <malloc.h>
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

/* One allocation: the struct, then the tag pointers, then the strings. */
struct entry {
    char id[CRYPTO_UUID_LEN + 1];
    bool internal;
    int ntags;
    const char *tenant_id;
    const char *name_lower;
    const char *category;
    const char **tags;
    /* Until the next rebuild copies them into the arena and the slices:
     * the text and its SIG_WORDS signature, owned by the entry (own_*) or
     * borrowed from a full load's rows and signature block. */
    const char *text;
    uint64_t *sig;
    char *own_text;
    uint64_t *own_sig;
    size_t text_len;
    int64_t updated_at;
    uint32_t pos; /* position in the compact copies; POS_NEW before a rebuild */
    const char *tagv[];
};

#define POS_NEW UINT32_MAX

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
    uint64_t gen;     /* changes with every rebuild (query cache tag) */
    struct entry **e; /* owned; sorted by (name_lower, id) after a rebuild */
    size_t n, cap;
    /* Compact copies rebuilt after every change (index_rebuild). */
    struct hot *hot;
    char *arena;
    uint32_t *tag_ids;
    uint64_t *slices; /* SIG_BITS bitmaps of nw words: entries having that bit */
    size_t nw;
    size_t built_n;    /* entries when the compact copies were built */
    const char **cats; /* interned category names (borrowed from entries) */
    size_t ncats;
    const char **tags; /* interned tag names */
    size_t ntags;
    uint32_t byte_freq[256];
};

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static struct index idx;
static uint64_t last_gen; /* under the write lock */
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
    free(e->own_text);
    free(e->own_sig);
    free(e);
}

/* search_is_space (ASCII whitespace), inlined for the signature loop. */
static inline bool is_ws(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

_Static_assert(SIG_BITS == 4096, "gram hashes are 12 bits");

/* A gram of n (1..3) bytes packed with its length, multiplicatively hashed
 * to 12 bits (cheap enough to run three times per byte of every text). */
static inline uint32_t gram_bits(uint32_t packed)
{
    return (packed * 0x9E3779B1u) >> 20;
}

static uint32_t gram_hash(const unsigned char *p, size_t n)
{
    uint32_t v = (uint32_t)n << 24;
    for (size_t i = 0; i < n; i++) v |= (uint32_t)p[i] << (8 * i);
    return gram_bits(v);
}

static void sig_build(struct entry *e)
{
    const unsigned char *t = (const unsigned char *)e->text;
    size_t len = e->text_len;
    for (size_t i = 0; i < len; i++) {
        if (is_ws(t[i])) continue;
        uint32_t v = t[i];
        uint32_t b = gram_bits(v | 1u << 24);
        e->sig[b >> 6] |= (uint64_t)1 << (b & 63);
        if (i + 1 >= len || is_ws(t[i + 1])) continue;
        v |= (uint32_t)t[i + 1] << 8;
        b = gram_bits(v | 2u << 24);
        e->sig[b >> 6] |= (uint64_t)1 << (b & 63);
        if (i + 2 >= len || is_ws(t[i + 2])) continue;
        v |= (uint32_t)t[i + 2] << 16;
        b = gram_bits(v | 3u << 24);
        e->sig[b >> 6] |= (uint64_t)1 << (b & 63);
    }
}

/* An entry from a SQL_ALL/SQL_ONE row; NULL on OOM. With sig (SIG_WORDS
 * zeroed words) the entry borrows its text from res and its signature from
 * sig until the next rebuild: a full load then leaves no per-entry
 * temporaries between the entries it keeps (which would pin the heap). */
/* Appends s (NULL = "") at *p, returning where it went. */
static const char *put_str(char **p, const char *s)
{
    const char *at = *p;
    size_t n = s ? strlen(s) : 0;
    if (n) memcpy(*p, s, n);
    (*p)[n] = '\0';
    *p += n + 1;
    return at;
}

static struct entry *entry_from_row(const struct db_result *res, size_t row, uint64_t *sig)
{
    const char *tj = db_get(res, row, 4);
    cJSON *tags = tj ? json_parse(tj, strlen(tj)) : NULL;
    if (!cJSON_IsArray(tags)) {
        cJSON_Delete(tags);
        tags = NULL;
    }
    const char *tenant = db_get(res, row, 1), *name = db_get(res, row, 2);
    const char *cat = db_get(res, row, 3);
    size_t bytes =
        (tenant ? strlen(tenant) : 0) + (name ? strlen(name) : 0) + (cat ? strlen(cat) : 0) + 3;
    size_t nt = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tags)
    {
        if (!cJSON_IsString(t)) continue;
        bytes += strlen(t->valuestring) + 1;
        nt++;
    }
    struct entry *e = calloc(1, sizeof *e + nt * sizeof e->tagv[0] + bytes);
    if (!e) {
        cJSON_Delete(tags);
        return NULL;
    }
    e->pos = POS_NEW;
    char *p = (char *)(e->tagv + nt);
    util_copy(e->id, sizeof e->id, db_get(res, row, 0));
    e->tenant_id = put_str(&p, tenant);
    e->name_lower = put_str(&p, name);
    e->category = put_str(&p, cat);
    e->tags = e->tagv;
    cJSON_ArrayForEach(t, tags)
    {
        if (cJSON_IsString(t)) e->tagv[e->ntags++] = put_str(&p, t->valuestring);
    }
    cJSON_Delete(tags);
    const char *aud = db_get(res, row, 5);
    e->internal = aud && strcmp(aud, "internal") == 0;
    const char *text = db_get(res, row, 6) ? db_get(res, row, 6) : "";
    if (sig) {
        e->text = text;
        e->sig = sig;
    } else {
        e->text = e->own_text = util_strdup(text);
        e->sig = e->own_sig = calloc(SIG_WORDS, sizeof *e->sig);
    }
    e->text_len = e->text ? strlen(e->text) : 0;
    e->updated_at = db_get_int(res, row, 7);
    if (!e->text || !e->sig) {
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
    x->ncats = x->ntags = x->nw = x->built_n = 0;
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

/* Sorts entries by (name_lower, id) and rebuilds the compact copies: kept
 * entries' text and signature bits come from the previous copies, new
 * entries' from their own (then freed). -1 on OOM (the index is then
 * unusable until reloaded). */
static int index_rebuild(struct index *x)
{
    struct index c; /* the new compact part */
    struct counter cat_map, tag_map;
    uint32_t *newpos = NULL; /* previous position → new one */
    uint64_t *acc = NULL;    /* one slice word per signature bit */
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
    newpos = malloc((x->built_n ? x->built_n : 1) * sizeof *newpos);
    acc = calloc(SIG_BITS, sizeof *acc);
    if (!c.hot || !c.arena || !c.tag_ids || !c.slices || !newpos || !acc ||
        !counter_init(&cat_map, 16) || !counter_init(&tag_map, 64))
        goto out;
    for (size_t p = 0; p < x->built_n; p++) newpos[p] = POS_NEW;
    for (size_t i = 0; i < x->n; i++)
        if (x->e[i]->pos != POS_NEW) newpos[x->e[i]->pos] = (uint32_t)i;
    size_t off = 0, toff = 0;
    for (size_t i = 0; i < x->n; i++) {
        const struct entry *e = x->e[i];
        struct hot *h = &c.hot[i];
        const char *text = e->text ? e->text : x->arena + x->hot[e->pos].text_off;
        h->text_off = off;
        h->text_len = (uint32_t)e->text_len;
        memcpy(c.arena + off, text, e->text_len + 1);
        off += e->text_len + 1;
        /* search_text starts with the name (the first field, which has no
         * newline); share those bytes so ranking touches the same line. */
        size_t nl = strlen(e->name_lower);
        h->name_len = (uint32_t)nl;
        if (nl <= e->text_len && memcmp(text, e->name_lower, nl) == 0 &&
            (text[nl] == '\n' || text[nl] == '\0')) {
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
    }
    /* New entries' signatures, 64 entries (one slice word) at a time: the
     * bits are gathered in acc (32 KB, cache-resident) and each slice word
     * written once, instead of one scattered write per set bit (at 100,000
     * APIs, 70 million writes across 50 MB made a full load take seconds). */
    for (size_t w = 0; w < c.nw; w++) {
        bool any = false;
        for (size_t j = 0; j < 64 && w * 64 + j < x->n; j++) {
            const struct entry *e = x->e[w * 64 + j];
            for (size_t sw = 0; e->sig && sw < SIG_WORDS; sw++) {
                uint64_t bits = e->sig[sw];
                any = any || bits;
                while (bits) {
                    acc[sw * 64 + (size_t)__builtin_ctzll(bits)] |= (uint64_t)1 << j;
                    bits &= bits - 1;
                }
            }
        }
        for (size_t b = 0; any && b < SIG_BITS; b++) {
            c.slices[b * c.nw + w] |= acc[b];
            acc[b] = 0;
        }
    }
    /* Kept entries' signature bits, slice by slice. */
    size_t old_nw = x->nw;
    for (size_t b = 0; x->built_n && b < SIG_BITS; b++) {
        const uint64_t *row = x->slices + b * old_nw;
        uint64_t *to = c.slices + b * c.nw;
        for (size_t w = 0; w < old_nw; w++) {
            uint64_t bits = row[w];
            while (bits) {
                uint32_t np = newpos[w * 64 + (size_t)__builtin_ctzll(bits)];
                bits &= bits - 1;
                if (np != POS_NEW) to[np / 64] |= (uint64_t)1 << (np % 64);
            }
        }
    }
    for (size_t i = 0; i < x->n; i++) {
        struct entry *e = x->e[i];
        free(e->own_text);
        free(e->own_sig);
        e->text = e->own_text = NULL;
        e->sig = e->own_sig = NULL;
        e->pos = (uint32_t)i;
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
    x->built_n = x->n;
    x->gen = ++last_gen;
    memset(&c, 0, sizeof c);
    /* Byte frequencies from a sample of texts pick each word's anchor. */
    memset(x->byte_freq, 0, sizeof x->byte_freq);
    size_t step = x->n > 512 ? x->n / 512 : 1;
    for (size_t i = 0; i < x->n; i += step) {
        const unsigned char *t = (const unsigned char *)x->arena + x->hot[i].text_off;
        for (size_t k = 0; k < x->hot[i].text_len; k++) x->byte_freq[t[k]]++;
    }
    rc = 0;
out:
    free(newpos);
    free(acc);
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
    uint64_t *sigs = NULL; /* the entries' signatures until the rebuild */
    struct index fresh;
    int rc = -1;
    memset(&fresh, 0, sizeof fresh);
    enum db_err e = db_query(db, SQL_ALL, DB_NOARGS, &res);
    if (e != DB_OK) return -1;
    size_t rows = db_rows(res);
    sigs = calloc((rows ? rows : 1) * SIG_WORDS, sizeof *sigs);
    if (!sigs) goto out;
    for (size_t i = 0; i < rows; i++) {
        struct entry *en = entry_from_row(res, i, sigs + i * SIG_WORDS);
        if (!en || !index_push(&fresh, en)) {
            entry_free(en);
            goto out;
        }
    }
    if (index_rebuild(&fresh) != 0) goto out;
    fresh.loaded = true;
    fresh.rev = rev;
    index_clear(&idx);
    idx = fresh;
    memset(&fresh, 0, sizeof fresh);
    rc = 0;
out:
    index_clear(&fresh);
    db_result_free(res);
    free(sigs);
    /* Loading peaks at about twice the texts (rows and arena); hand the
     * freed memory back instead of keeping it in this thread's arena. */
    malloc_trim(0);
    return rc;
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
        if (db_query(db, SQL_ONE, DB_ARGS(DBP_TEXT(id)), &row) != DB_OK) {
            idx.loaded = false; /* maybe half-applied: reload next time */
            goto out;
        }
        index_remove(&idx, id);
        if (db_rows(row) == 1) {
            struct entry *en = entry_from_row(row, 0, NULL);
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
    malloc_trim(0); /* the previous compact copies go back to the system */
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

/* ---- query cache: exact matches per query text ------------------------- */

struct cached {
    uint64_t gen; /* 0 = empty */
    uint64_t used;
    char *text;
    size_t nw;
    uint64_t *match;   /* entries having every word */
    uint64_t *name_in; /* entries whose name contains the whole text */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cached cache[SEARCH_CACHE_QUERIES];
static uint64_t cache_tick;

static void cached_free(struct cached *c)
{
    free(c->text);
    free(c->match);
    memset(c, 0, sizeof *c);
}

/* Copies the cached matches of text at gen into match/name_in. */
static bool cache_get(const char *text, uint64_t gen, size_t nw, uint64_t *match, uint64_t *name_in)
{
    bool hit = false;
    pthread_mutex_lock(&cache_lock);
    for (size_t k = 0; k < SEARCH_CACHE_QUERIES && !hit; k++) {
        struct cached *c = &cache[k];
        if (c->gen != gen || c->nw != nw || strcmp(c->text, text) != 0) continue;
        memcpy(match, c->match, nw * sizeof *match);
        memcpy(name_in, c->name_in, nw * sizeof *name_in);
        c->used = ++cache_tick;
        hit = true;
    }
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

/* Keeps a copy in the least recently used slot (nothing on OOM). */
static void cache_put(const char *text, uint64_t gen, size_t nw, const uint64_t *match,
                      const uint64_t *name_in)
{
    char *t = util_strdup(text);
    uint64_t *m = malloc((nw ? nw : 1) * 2 * sizeof *m);
    if (!t || !m) {
        free(t);
        free(m);
        return;
    }
    memcpy(m, match, nw * sizeof *m);
    memcpy(m + nw, name_in, nw * sizeof *m);
    pthread_mutex_lock(&cache_lock);
    struct cached *slot = &cache[0];
    for (size_t k = 0; k < SEARCH_CACHE_QUERIES; k++) {
        struct cached *c = &cache[k];
        if (c->gen != gen) { /* empty or stale: take it */
            slot = c;
            break;
        }
        if (c->used < slot->used) slot = c;
    }
    cached_free(slot);
    *slot = (struct cached){gen, ++cache_tick, t, nw, m, m + nw};
    pthread_mutex_unlock(&cache_lock);
}

/* Whole results: per request shape (query text, category, tags, who may
 * see internal APIs, sort), the total, the facet counts and the first
 * entries in order; a page within them costs no pass over the matches. */
struct rcached {
    uint64_t gen; /* 0 = empty */
    uint64_t used;
    char *key;
    long total;
    uint32_t *top; /* the first ntop entries in order */
    size_t ntop;
    long *counts; /* ncats category counts, then ntags tag counts */
    size_t ncats, ntags;
};

static struct rcached rcache[SEARCH_CACHE_RESULTS];

static void rcached_free(struct rcached *c)
{
    free(c->key);
    free(c->top);
    free(c->counts);
    memset(c, 0, sizeof *c);
}

static void cache_clear(void)
{
    pthread_mutex_lock(&cache_lock);
    for (size_t k = 0; k < SEARCH_CACHE_QUERIES; k++) cached_free(&cache[k]);
    for (size_t k = 0; k < SEARCH_CACHE_RESULTS; k++) rcached_free(&rcache[k]);
    pthread_mutex_unlock(&cache_lock);
}

/* The request's shape as a cache key (without the page); NULL on OOM. */
static char *result_key(const struct search_index_request *rq)
{
    struct strbuf b;
    strbuf_init(&b, 256);
    strbuf_puts(&b, rq->q->text ? rq->q->text : "");
    strbuf_puts(&b, "\x1f");
    strbuf_puts(&b, rq->category ? rq->category : "\x1e");
    for (int t = 0; t < rq->ntags; t++) {
        strbuf_puts(&b, "\x1f");
        strbuf_puts(&b, rq->tags[t]);
    }
    strbuf_puts(&b, "\x1d");
    if (!rq->signed_in)
        strbuf_puts(&b, "-");
    else if (rq->all_tenants)
        strbuf_puts(&b, "*");
    else
        strbuf_printf(&b, "t:%s", rq->tenant_id ? rq->tenant_id : "");
    strbuf_puts(&b, rq->by_updated ? "\x1du" : "\x1dr");
    if (b.failed) {
        strbuf_cleanup(&b);
        return NULL;
    }
    return strbuf_take(&b);
}

/* How many entries the page [from, from + limit) of total holds. */
static size_t page_count(long total, size_t from, size_t limit)
{
    size_t count = from < (size_t)total ? (size_t)total - from : 0;
    return count < limit ? count : limit;
}

/* A result with the page's `count` entries; -1 on OOM. */
static int fill_result(struct search_index_result *out, long total, const uint32_t *page,
                       size_t count, const long *cat_n, const long *tag_n)
{
    out->total = total;
    out->ids = calloc(count ? count : 1, sizeof *out->ids);
    out->categories = facet_json(idx.cats, cat_n, idx.ncats);
    out->tags = facet_json(idx.tags, tag_n, idx.ntags);
    if (!out->ids || !out->categories || !out->tags) {
        search_index_result_cleanup(out);
        return -1;
    }
    for (size_t k = 0; k < count; k++) memcpy(out->ids[k], idx.e[page[k]]->id, sizeof out->ids[k]);
    out->nids = count;
    return 0;
}

/* The cached result for key at the current generation, or NULL. Caller
 * holds cache_lock. */
static struct rcached *rcache_find(const char *key)
{
    for (size_t k = 0; k < SEARCH_CACHE_RESULTS; k++) {
        struct rcached *c = &rcache[k];
        if (c->gen == idx.gen && c->ncats == idx.ncats && c->ntags == idx.ntags &&
            strcmp(c->key, key) == 0)
            return c;
    }
    return NULL;
}

/* Answers from the result cache: 1 when it did, 0 when not kept (or OOM).
 * The page and the counts are copied under the lock, the JSON built after. */
static int rcache_answer(const char *key, size_t from, size_t limit,
                         struct search_index_result *out)
{
    uint32_t page[PAGE_SIZE_MAX];
    long *counts = malloc((idx.ncats + idx.ntags + 1) * sizeof *counts);
    long total = 0;
    size_t count = 0;
    bool hit = false;
    if (!counts || limit > PAGE_SIZE_MAX) {
        free(counts);
        return 0;
    }
    pthread_mutex_lock(&cache_lock);
    struct rcached *c = rcache_find(key);
    if (c) {
        total = c->total;
        count = page_count(total, from, limit);
        hit = !count || from + count <= c->ntop; /* else deeper than kept */
    }
    if (hit) {
        c->used = ++cache_tick;
        if (count) memcpy(page, c->top + from, count * sizeof *page);
        memcpy(counts, c->counts, (idx.ncats + idx.ntags) * sizeof *counts);
    }
    pthread_mutex_unlock(&cache_lock);
    int rc = hit && fill_result(out, total, page, count, counts, counts + idx.ncats) == 0;
    free(counts);
    return rc;
}

/* Keeps a result (takes key; nothing on OOM). */
static void rcache_put(char *key, long total, const uint32_t *top, size_t ntop, const long *cat_n,
                       const long *tag_n)
{
    uint32_t *t = malloc((ntop ? ntop : 1) * sizeof *t);
    long *counts = malloc((idx.ncats + idx.ntags + 1) * sizeof *counts);
    if (!t || !counts) {
        free(key);
        free(t);
        free(counts);
        return;
    }
    memcpy(t, top, ntop * sizeof *t);
    memcpy(counts, cat_n, idx.ncats * sizeof *counts);
    memcpy(counts + idx.ncats, tag_n, idx.ntags * sizeof *counts);
    pthread_mutex_lock(&cache_lock);
    struct rcached *slot = rcache_find(key); /* a shallower copy: replace it */
    for (size_t k = 0; !slot && k < SEARCH_CACHE_RESULTS; k++) {
        struct rcached *c = &rcache[k];
        if (c->gen != idx.gen) {
            slot = c;
            break;
        }
    }
    if (!slot) {
        slot = &rcache[0];
        for (size_t k = 1; k < SEARCH_CACHE_RESULTS; k++)
            if (rcache[k].used < slot->used) slot = &rcache[k];
    }
    rcached_free(slot);
    *slot =
        (struct rcached){idx.gen, ++cache_tick, key, total, t, ntop, counts, idx.ncats, idx.ntags};
    pthread_mutex_unlock(&cache_lock);
}

/* Every entry having all the words (signature filter, then the exact
 * substring check), and which of those have the whole text in their name. */
static void find_matches(const struct word *words, int nwords, const char *text, uint64_t *match,
                         uint64_t *name_in)
{
    size_t n = idx.n, nw = idx.nw, qlen = strlen(text);
    for (size_t w = 0; w < nw; w++) match[w] = ~(uint64_t)0;
    if (nw && n % 64) match[nw - 1] &= ((uint64_t)1 << (n % 64)) - 1;
    for (int k = 0; k < nwords; k++) {
        for (int b = 0; b < words[k].nbits; b++) {
            const uint64_t *slice = idx.slices + (size_t)words[k].bits[b] * nw;
            for (size_t w = 0; w < nw; w++) match[w] &= slice[w];
        }
    }
    for (size_t w = 0; w < nw; w++) {
        uint64_t bits = match[w], keep = 0, named = 0;
        while (bits) {
            unsigned bit = (unsigned)__builtin_ctzll(bits);
            bits &= bits - 1;
            const struct hot *h = &idx.hot[w * 64 + bit];
            const char *t = idx.arena + h->text_off;
            bool ok = true;
            for (int k = 0; ok && k < nwords; k++) ok = word_in(&words[k], t, h->text_len);
            if (!ok) continue;
            keep |= (uint64_t)1 << bit;
            if (memmem(idx.arena + h->name_off, h->name_len, text, qlen))
                named |= (uint64_t)1 << bit;
        }
        match[w] = keep;
        name_in[w] = named;
    }
}

/* ---- top-k -------------------------------------------------------------- */

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

/* A bounded max-heap of the `cap` first entries in updated order: its top
 * is the last of them, replaced by anything that sorts before it. */
static void heap_offer(struct by_updated *h, size_t *n, size_t cap, struct by_updated v)
{
    size_t i;
    if (*n < cap) {
        i = (*n)++;
        while (i > 0 && updated_cmp(&h[(i - 1) / 2], &v) < 0) {
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = v;
        return;
    }
    if (cap == 0 || updated_cmp(&v, &h[0]) >= 0) return;
    i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && updated_cmp(&h[c + 1], &h[c]) > 0) c++;
        if (updated_cmp(&h[c], &v) <= 0) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
}

/* Rank of entry i, whose name contains the query when named. */
static uint8_t entry_rank(const struct hot *h, bool named, const char *q, size_t qlen)
{
    if (!named) return SEARCH_RANK_OTHER;
    const char *name = idx.arena + h->name_off;
    if (h->name_len >= qlen && name[0] == q[0] && memcmp(name, q, qlen) == 0)
        return h->name_len == qlen ? SEARCH_RANK_EXACT : SEARCH_RANK_PREFIX;
    return SEARCH_RANK_CONTAINS;
}

/* Runs the query on the loaded index. Caller holds the read lock. */
static int run_query(const struct search_index_request *rq, struct search_index_result *out)
{
    const struct search_query *q = rq->q;
    struct word words[SEARCH_WORDS_MAX];
    uint64_t *match = NULL, *name_in = NULL;
    uint32_t *bucket[SEARCH_RANK_OTHER + 1] = {NULL};
    size_t bcount[SEARCH_RANK_OTHER + 1] = {0};
    long *cat_n = NULL, *tag_n = NULL;
    struct by_updated *heap = NULL;
    size_t nheap = 0;
    uint32_t *top = NULL;
    char *key = NULL;
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
    /* Only the first `need` entries in order can be on the page; at least
     * SEARCH_CACHE_TOP are kept for the next pages from the result cache. */
    size_t from = rq->offset < 0 ? 0 : (size_t)rq->offset;
    key = result_key(rq);
    if (key && rcache_answer(key, from, (size_t)rq->limit, out)) {
        free(key);
        return 0;
    }
    size_t need = from < n ? from + (size_t)rq->limit : 0;
    if (need < SEARCH_CACHE_TOP) need = SEARCH_CACHE_TOP;
    if (need > n) need = n;
    match = malloc((nw ? nw : 1) * 2 * sizeof *match);
    cat_n = calloc(idx.ncats ? idx.ncats : 1, sizeof *cat_n);
    tag_n = calloc(idx.ntags ? idx.ntags : 1, sizeof *tag_n);
    if (!match || !cat_n || !tag_n) goto out;
    name_in = match + nw;
    if (rq->by_updated) {
        heap = malloc((need ? need : 1) * sizeof *heap);
        if (!heap) goto out;
    } else {
        for (int r = 0; r <= (ranked ? SEARCH_RANK_OTHER : 0); r++)
            if (!(bucket[r] = malloc((need ? need : 1) * sizeof *bucket[r]))) goto out;
    }
    if (none) {
        memset(match, 0, nw * sizeof *match);
    } else if (q->nwords > 0) {
        if (!cache_get(q->text, idx.gen, nw, match, name_in)) {
            find_matches(words, q->nwords, q->text, match, name_in);
            cache_put(q->text, idx.gen, nw, match, name_in);
        }
    } else {
        for (size_t w = 0; w < nw; w++) match[w] = ~(uint64_t)0;
        if (nw && n % 64) match[nw - 1] &= ((uint64_t)1 << (n % 64)) - 1;
    }
    for (size_t w = 0; w < nw; w++) {
        uint64_t bits = match[w];
        while (bits) {
            unsigned bit = (unsigned)__builtin_ctzll(bits);
            size_t i = w * 64 + bit;
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
            if (!ok) continue;
            nm++;
            if (h->cat >= 0) cat_n[h->cat]++;
            for (uint32_t k = 0; k < h->ntags; k++) tag_n[tids[k]]++;
            if (rq->by_updated) {
                heap_offer(heap, &nheap, need, (struct by_updated){h->updated_at, (uint32_t)i});
                continue;
            }
            /* Entries come in (name_lower, id) order: each rank's first
             * `need` are all that rank can put on the page. */
            uint8_t r = ranked ? entry_rank(h, (name_in[w] >> bit) & 1, q->text, qlen) : 0;
            if (bcount[r] < need) bucket[r][bcount[r]] = (uint32_t)i;
            bcount[r]++;
        }
    }
    /* The first min(need, nm) entries in order. */
    size_t ntop = nm < need ? nm : need;
    top = malloc((ntop ? ntop : 1) * sizeof *top);
    if (!top) goto out;
    if (rq->by_updated) {
        qsort(heap, nheap, sizeof *heap, updated_cmp);
        for (size_t k = 0; k < ntop; k++) top[k] = heap[k].i;
    } else {
        size_t k = 0;
        for (int r = 0; r <= SEARCH_RANK_OTHER && k < ntop; r++)
            for (size_t j = 0; j < bcount[r] && j < need && k < ntop; j++) top[k++] = bucket[r][j];
    }
    size_t count = page_count((long)nm, from, (size_t)rq->limit);
    if (fill_result(out, (long)nm, count ? top + from : top, count, cat_n, tag_n) != 0) goto out;
    /* Deep pages are answered but not kept (bounded memory). */
    if (key && ntop <= 10 * SEARCH_CACHE_TOP) rcache_put(key, (long)nm, top, ntop, cat_n, tag_n);
    key = NULL;
    rc = 0;
out:
    free(key);
    free(top);
    free(match);
    for (int r = 0; r <= SEARCH_RANK_OTHER; r++) free(bucket[r]);
    free(cat_n);
    free(tag_n);
    free(heap);
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
    cache_clear();
    pthread_rwlock_unlock(&lock);
}
