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
    "SELECT id, tenant_id, name_lower, category, tags_json, audience, search_text, updated_at "  \
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

struct index {
    bool loaded;
    int64_t rev;
    struct entry **e;
    size_t n, cap;
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

static void index_clear(struct index *x)
{
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
static void index_order(struct index *x)
{
    if (x->n) qsort(x->e, x->n, sizeof *x->e, name_order);
    for (size_t i = 0; i < x->n; i++) x->e[i]->name_pos = (uint32_t)i;
    memset(x->byte_freq, 0, sizeof x->byte_freq);
    /* Byte frequencies from a sample of texts pick each word's anchor. */
    size_t step = x->n > 512 ? x->n / 512 : 1;
    for (size_t i = 0; i < x->n; i += step) {
        const unsigned char *t = (const unsigned char *)x->e[i]->text;
        for (size_t k = 0; k < x->e[i]->text_len; k++) x->byte_freq[t[k]]++;
    }
}

static enum db_err read_rev(struct db *db, int64_t *rev)
{
    struct db_result *res = NULL;
    enum db_err e = db_query(db, SQL_REV, DB_NOARGS, &res);
    if (e == DB_OK && db_rows(res) == 1) *rev = db_get_int(res, 0, 0);
    else if (e == DB_OK) e = DB_ERR_INTERNAL;
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
    index_order(&fresh);
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
    idx.rev = db_get_int(ch, n - 1, 0);
    index_order(&idx);
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
    size_t step = count > GRAMS_PER_WORD_MAX ? (count + GRAMS_PER_WORD_MAX - 1) / GRAMS_PER_WORD_MAX
                                             : 1;
    for (size_t i = 0; i < count && w->nbits < GRAMS_PER_WORD_MAX; i += step)
        w->bits[w->nbits++] = gram_hash(p + i, g);
}

static bool word_in(const struct word *w, const struct entry *e)
{
    for (int i = 0; i < w->nbits; i++)
        if (!(e->sig[w->bits[i] >> 6] & ((uint64_t)1 << (w->bits[i] & 63)))) return false;
    if (w->len > e->text_len) return false;
    const char *t = e->text;
    char c = w->s[w->anchor];
    const char *p = t + w->anchor;
    const char *last = t + (e->text_len - w->len) + w->anchor; /* last anchor position */
    while (p <= last) {
        p = memchr(p, c, (size_t)(last - p) + 1);
        if (!p) return false;
        if (memcmp(p - w->anchor, w->s, w->len) == 0) return true;
        p++;
    }
    return false;
}

static bool visible_to(const struct entry *e, const struct search_index_request *rq)
{
    if (!e->internal) return true;
    if (!rq->signed_in) return false;
    return rq->all_tenants || strcmp(e->tenant_id, rq->tenant_id) == 0;
}

static bool has_tag(const struct entry *e, const char *tag)
{
    for (int i = 0; i < e->ntags; i++)
        if (strcmp(e->tags[i], tag) == 0) return true;
    return false;
}

struct match {
    uint64_t k1; /* rank, or inverted updated_at */
    uint32_t k2; /* name position */
    uint32_t i;  /* entry index */
};

static int match_cmp(const void *a, const void *b)
{
    const struct match *x = a, *y = b;
    if (x->k1 != y->k1) return x->k1 < y->k1 ? -1 : 1;
    return x->k2 < y->k2 ? -1 : x->k2 > y->k2 ? 1 : 0;
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

/* {name: count}, count desc then name (as the SQL path); caller frees. */
static cJSON *counter_json(const struct counter *c)
{
    cJSON *o = cJSON_CreateObject();
    struct kv *kv = calloc(c->n ? c->n : 1, sizeof *kv);
    if (!o || !kv) {
        free(kv);
        cJSON_Delete(o);
        return NULL;
    }
    size_t n = 0;
    for (size_t i = 0; i < c->cap; i++)
        if (c->keys[i]) kv[n++] = (struct kv){c->keys[i], c->counts[i]};
    qsort(kv, n, sizeof *kv, kv_cmp);
    for (size_t i = 0; i < n; i++) cJSON_AddNumberToObject(o, kv[i].k, (double)kv[i].v);
    free(kv);
    return o;
}

/* Runs the query on the loaded index. Caller holds the read lock. */
static int run_query(const struct search_index_request *rq, struct search_index_result *out)
{
    const struct search_query *q = rq->q;
    struct word words[SEARCH_WORDS_MAX];
    struct match *m = NULL;
    struct counter cats, tags;
    size_t nm = 0;
    int rc = -1;
    memset(&cats, 0, sizeof cats);
    memset(&tags, 0, sizeof tags);
    for (int i = 0; i < q->nwords; i++) word_prepare(&words[i], q->words[i], idx.byte_freq);
    m = malloc((idx.n ? idx.n : 1) * sizeof *m);
    if (!m || !counter_init(&cats, 16) || !counter_init(&tags, 64)) goto out;
    for (size_t i = 0; i < idx.n; i++) {
        const struct entry *e = idx.e[i];
        if (!visible_to(e, rq)) continue;
        if (rq->category && strcmp(e->category, rq->category) != 0) continue;
        bool ok = true;
        for (int t = 0; ok && t < rq->ntags; t++) ok = has_tag(e, rq->tags[t]);
        for (int w = 0; ok && w < q->nwords; w++) ok = word_in(&words[w], e);
        if (!ok) continue;
        uint64_t k1;
        if (rq->by_updated) k1 = (uint64_t)INT64_MAX - (uint64_t)(e->updated_at < 0 ? 0 : e->updated_at);
        else if (q->nwords > 0) k1 = (uint64_t)search_rank_name(e->name_lower, q->text);
        else k1 = 0;
        m[nm++] = (struct match){k1, e->name_pos, (uint32_t)i};
        if (e->category[0] && !counter_add(&cats, e->category)) goto out;
        for (int t = 0; t < e->ntags; t++)
            if (!counter_add(&tags, e->tags[t])) goto out;
    }
    qsort(m, nm, sizeof *m, match_cmp);
    memset(out, 0, sizeof *out);
    out->total = (long)nm;
    size_t from = rq->offset < 0 ? 0 : (size_t)rq->offset;
    size_t count = from < nm ? nm - from : 0;
    if (count > (size_t)rq->limit) count = (size_t)rq->limit;
    out->ids = calloc(count ? count : 1, sizeof *out->ids);
    out->categories = counter_json(&cats);
    out->tags = counter_json(&tags);
    if (!out->ids || !out->categories || !out->tags) {
        search_index_result_cleanup(out);
        goto out;
    }
    for (size_t i = 0; i < count; i++) memcpy(out->ids[i], idx.e[m[from + i].i]->id, sizeof out->ids[i]);
    out->nids = count;
    rc = 0;
out:
    free(m);
    counter_cleanup(&cats);
    counter_cleanup(&tags);
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
        if (!idx.loaded) rc = full_load(db, rev);
        else if (idx.rev < rev) rc = apply_changes(db, rev);
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
