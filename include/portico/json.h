/*
 * json.h — typed, validating getters over cJSON for request bodies, so every
 * handler reports a bad field the same way: 400 {"error":{"code":
 * "invalid_field","message":"<field>: <reason>"}}.
 * Threading: pure functions.
 */
#ifndef PORTICO_JSON_H
#define PORTICO_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#define JSON_ERR_MAX 256

/* Results: 0 = present and valid (out set), 1 = absent or null (out untouched;
 * an error is written when `required`), -1 = invalid (err written). */
int json_string(const cJSON *obj, const char *field, size_t min_chars, size_t max_chars,
                bool required, const char **out, char *err);
int json_int(const cJSON *obj, const char *field, int64_t min, int64_t max, bool required,
             int64_t *out, char *err);
int json_number(const cJSON *obj, const char *field, double min, double max, bool required,
                double *out, char *err);
int json_bool(const cJSON *obj, const char *field, bool required, bool *out, char *err);
/* One of a "|"-separated set of strings. */
int json_enum(const cJSON *obj, const char *field, const char *choices, bool required,
              const char **out, char *err);
/* An array of strings, each min..max chars, at most max_items. */
int json_string_array(const cJSON *obj, const char *field, size_t max_items, size_t min_chars,
                      size_t max_chars, bool required, const cJSON **out, char *err);
/* Rejects keys not in the "|"-separated `allowed` list; 0 when clean. */
int json_only_keys(const cJSON *obj, const char *allowed, char *err);

/* Compact serialisation; caller frees with free(). NULL on OOM. */
char *json_print(const cJSON *json);
/* Parses with a nesting limit (limits.h); NULL when invalid or too deep. */
cJSON *json_parse(const char *text, size_t len);
/* When text is a JSON document with a string (value or key) holding a \u0000
 * escape, writes that string's path ("name", "tags[1]", "a.b") into field
 * and returns true: cJSON would silently cut the string at the NUL. */
bool json_nul_field(const char *text, size_t len, char *field, size_t n);
/* Adds "key": string or null. */
void json_add_str_or_null(cJSON *obj, const char *key, const char *value);
struct strbuf;
/* Appends s as a JSON string literal (quoted, escaped) to b. */
void json_strbuf_string(struct strbuf *b, const char *s);
/* Adds the list envelope's "total", "page" and "page_size" to root. */
void json_add_paging(cJSON *root, int64_t total, long page, long page_size);
/* Adds an RFC 3339 time, or null when ms < 0. */
void json_add_time(cJSON *obj, const char *key, int64_t ms);

#endif
