/*
 * json.c — validating getters and helpers over cJSON.
 * Threading: pure functions.
 */
#include "portico/json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "portico/limits.h"
#include "portico/util.h"

static const cJSON *field_of(const cJSON *obj, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    return (v && !cJSON_IsNull(v)) ? v : NULL;
}

static int absent(const char *field, bool required, char *err)
{
    if (required) {
        snprintf(err, JSON_ERR_MAX, "%s: is required", field);
        return -1;
    }
    return 1;
}

int json_string(const cJSON *obj, const char *field, size_t min_chars, size_t max_chars,
                bool required, const char **out, char *err)
{
    const cJSON *v = field_of(obj, field);
    if (!v) return absent(field, required, err);
    if (!cJSON_IsString(v) || !v->valuestring) {
        snprintf(err, JSON_ERR_MAX, "%s: must be a string", field);
        return -1;
    }
    const char *s = v->valuestring;
    size_t n = strlen(s);
    if (!util_utf8_valid(s, n)) {
        snprintf(err, JSON_ERR_MAX, "%s: must be valid UTF-8", field);
        return -1;
    }
    size_t chars = util_utf8_len(s, n);
    if (chars < min_chars || chars > max_chars) {
        if (min_chars > 0 && chars < min_chars && min_chars == 1)
            snprintf(err, JSON_ERR_MAX, "%s: must not be empty", field);
        else
            snprintf(err, JSON_ERR_MAX, "%s: must be %zu to %zu characters", field, min_chars,
                     max_chars);
        return -1;
    }
    *out = s;
    return 0;
}

int json_int(const cJSON *obj, const char *field, int64_t min, int64_t max, bool required,
             int64_t *out, char *err)
{
    const cJSON *v = field_of(obj, field);
    if (!v) return absent(field, required, err);
    double d = v->valuedouble;
    if (!cJSON_IsNumber(v) || !isfinite(d) || d != floor(d)) {
        snprintf(err, JSON_ERR_MAX, "%s: must be an integer", field);
        return -1;
    }
    /* (double)INT64_MAX rounds up to 2^63, which no int64_t holds: reject
     * values outside [-2^63, 2^63) before comparing with the bounds. */
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0 || d < (double)min ||
        d > (double)max || (int64_t)d < min || (int64_t)d > max) {
        snprintf(err, JSON_ERR_MAX, "%s: must be from %lld to %lld", field, (long long)min,
                 (long long)max);
        return -1;
    }
    *out = (int64_t)d;
    return 0;
}

int json_number(const cJSON *obj, const char *field, double min, double max, bool required,
                double *out, char *err)
{
    const cJSON *v = field_of(obj, field);
    if (!v) return absent(field, required, err);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        snprintf(err, JSON_ERR_MAX, "%s: must be a number", field);
        return -1;
    }
    if (v->valuedouble < min || v->valuedouble > max) {
        snprintf(err, JSON_ERR_MAX, "%s: must be from %g to %g", field, min, max);
        return -1;
    }
    *out = v->valuedouble;
    return 0;
}

int json_bool(const cJSON *obj, const char *field, bool required, bool *out, char *err)
{
    const cJSON *v = field_of(obj, field);
    if (!v) return absent(field, required, err);
    if (!cJSON_IsBool(v)) {
        snprintf(err, JSON_ERR_MAX, "%s: must be true or false", field);
        return -1;
    }
    *out = cJSON_IsTrue(v);
    return 0;
}

static bool in_set(const char *choices, const char *v)
{
    size_t vl = strlen(v);
    const char *p = choices;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == vl && strncmp(p, v, n) == 0) return true;
        if (!bar) return false;
        p = bar + 1;
    }
}

int json_enum(const cJSON *obj, const char *field, const char *choices, bool required,
              const char **out, char *err)
{
    const cJSON *v = field_of(obj, field);
    if (!v) return absent(field, required, err);
    if (!cJSON_IsString(v) || !in_set(choices, v->valuestring)) {
        char list[160];
        util_copy(list, sizeof list, choices);
        for (char *c = list; *c; c++)
            if (*c == '|') *c = ',';
        snprintf(err, JSON_ERR_MAX, "%s: must be one of %s", field, list);
        return -1;
    }
    *out = v->valuestring;
    return 0;
}

int json_string_array(const cJSON *obj, const char *field, size_t max_items, size_t min_chars,
                      size_t max_chars, bool required, const cJSON **out, char *err)
{
    const cJSON *v = field_of(obj, field);
    if (!v) return absent(field, required, err);
    if (!cJSON_IsArray(v)) {
        snprintf(err, JSON_ERR_MAX, "%s: must be an array of strings", field);
        return -1;
    }
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v)
    {
        if (++n > max_items) {
            snprintf(err, JSON_ERR_MAX, "%s: at most %zu items", field, max_items);
            return -1;
        }
        if (!cJSON_IsString(it) || !it->valuestring) {
            snprintf(err, JSON_ERR_MAX, "%s: must be an array of strings", field);
            return -1;
        }
        size_t len = strlen(it->valuestring);
        if (!util_utf8_valid(it->valuestring, len)) {
            snprintf(err, JSON_ERR_MAX, "%s: items must be valid UTF-8", field);
            return -1;
        }
        size_t chars = util_utf8_len(it->valuestring, len);
        if (chars < min_chars || chars > max_chars) {
            snprintf(err, JSON_ERR_MAX, "%s: each item must be %zu to %zu characters", field,
                     min_chars, max_chars);
            return -1;
        }
    }
    *out = v;
    return 0;
}

int json_only_keys(const cJSON *obj, const char *allowed, char *err)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
    {
        if (!it->string || !in_set(allowed, it->string)) {
            snprintf(err, JSON_ERR_MAX, "%.100s: unknown field", it->string ? it->string : "?");
            return -1;
        }
    }
    return 0;
}

char *json_print(const cJSON *json)
{
    return cJSON_PrintUnformatted(json);
}

/* Rejects nesting deeper than the limit before cJSON recurses. */
static bool depth_ok(const char *s, size_t len)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '[' || c == '{') {
            if (++depth > HTTP_JSON_MAX_DEPTH) return false;
        } else if (c == ']' || c == '}')
            depth--;
    }
    return true;
}

cJSON *json_parse(const char *text, size_t len)
{
    /* cJSON skips a NUL as whitespace: a body with one is never valid JSON. */
    if (!text || memchr(text, '\0', len) || !depth_ok(text, len)) return NULL;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!j) return NULL;
    /* Only whitespace may follow the value. */
    for (const char *p = end; p && p < text + len; p++) {
        if (*p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') {
            cJSON_Delete(j);
            return NULL;
        }
    }
    return j;
}

/* True when text[i..] starts the escape \u<hex> (case-insensitive). */
static bool escape_is(const char *text, size_t len, size_t i, const char *hex)
{
    if (i + 6 > len || text[i] != '\\' || text[i + 1] != 'u') return false;
    return strncasecmp(text + i + 2, hex, 4) == 0;
}

/* Appends ".key" / "[i]" for item under parent to path; false when full. */
static bool path_push(char *path, size_t n, const cJSON *parent, const cJSON *item, int index)
{
    size_t used = strlen(path);
    int w = cJSON_IsArray(parent)
                ? snprintf(path + used, n - used, "[%d]", index)
                : snprintf(path + used, n - used, "%s%s", used ? "." : "", item->string);
    return w >= 0 && (size_t)w < n - used;
}

/* Depth-first: the path of the first string or key holding byte 0x01. */
static bool find_marked(const cJSON *node, char *path, size_t n)
{
    const cJSON *item;
    int index = 0;
    if (cJSON_IsString(node)) return strchr(node->valuestring, 0x01) != NULL;
    cJSON_ArrayForEach(item, node)
    {
        size_t mark = strlen(path);
        bool key_marked = item->string && strchr(item->string, 0x01);
        if (!path_push(path, n, node, item, index)) path[mark] = '\0';
        if (key_marked || find_marked(item, path, n)) return true;
        path[mark] = '\0';
        index++;
    }
    return false;
}

bool json_nul_field(const char *text, size_t len, char *field, size_t n)
{
    bool nul = false, marker = false;
    if (!text || n == 0) return false;
    for (size_t i = 0; i + 1 < len; i++) {
        if (text[i] != '\\') continue;
        nul |= escape_is(text, len, i, "0000");
        marker |= escape_is(text, len, i, "0001");
        i++; /* skip the escaped character (an escaped backslash included) */
    }
    if (!nul) return false;
    util_copy(field, n, "a string");
    if (marker) return true; /* U+0001 is taken: report without the path */
    /* Parse a copy with each \u0000 turned into \u0001, then find the mark. */
    char *copy = malloc(len + 1);
    if (!copy) return true;
    memcpy(copy, text, len);
    copy[len] = '\0';
    for (size_t i = 0; i + 1 < len; i++) {
        if (copy[i] != '\\') continue;
        if (escape_is(copy, len, i, "0000")) copy[i + 5] = '1';
        i++;
    }
    cJSON *j = json_parse(copy, len);
    free(copy);
    char path[JSON_ERR_MAX / 2];
    path[0] = '\0';
    if (j && find_marked(j, path, sizeof path) && path[0]) util_copy(field, n, path);
    cJSON_Delete(j);
    return true;
}

void json_add_str_or_null(cJSON *obj, const char *key, const char *value)
{
    if (value)
        cJSON_AddStringToObject(obj, key, value);
    else
        cJSON_AddNullToObject(obj, key);
}

void json_add_time(cJSON *obj, const char *key, int64_t ms)
{
    if (ms < 0) {
        cJSON_AddNullToObject(obj, key);
        return;
    }
    char buf[32];
    util_time_format(ms, buf);
    cJSON_AddStringToObject(obj, key, buf);
}

void json_add_paging(cJSON *root, int64_t total, long page, long page_size)
{
    cJSON_AddNumberToObject(root, "total", (double)total);
    cJSON_AddNumberToObject(root, "page", (double)page);
    cJSON_AddNumberToObject(root, "page_size", (double)page_size);
}

void json_strbuf_string(struct strbuf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    strbuf_puts(b, "\"");
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        strbuf_append(b, run, (size_t)(s - run));
        char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], '\0'};
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            esc[2] = '\0';
        }
        strbuf_puts(b, esc);
        run = s + 1;
    }
    strbuf_append(b, run, (size_t)(s - run));
    strbuf_puts(b, "\"");
}
