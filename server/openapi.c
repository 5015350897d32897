/*
 * openapi.c — reading OpenAPI documents: JSON or YAML text to cJSON (YAML
 * through libyaml's event parser), the minimal structural checks import
 * needs, and the operations list derived from `paths`.
 *
 * YAML → JSON rules: quoted scalars stay strings; plain scalars that read as
 * null/true/false/integers/decimals become those JSON types (YAML 1.2 core
 * schema); mapping keys are always strings; anchors and aliases are
 * rejected (they allow exponential "billion laughs" documents); nesting
 * deeper than OPENAPI_MAX_DEPTH, more than OPENAPI_MAX_NODES values and
 * duplicate keys are rejected with the line number.
 *
 * Threading: pure functions.
 */
#include "portico/openapi.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "portico/json.h"
#include "portico/limits.h"
#include "portico/util.h"

#define OPENAPI_ERR_MAX 256
#define OPENAPI_MAX_DEPTH HTTP_JSON_MAX_DEPTH
#define OPENAPI_MAX_NODES 500000

static const char *const METHODS[] = {"get",   "put",  "post",    "delete",
                                      "patch", "head", "options", "trace"};

/* ---- YAML → cJSON ------------------------------------------------------ */

static bool all_digits(const char *s)
{
    if (!*s) return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) return false;
    return true;
}

/* YAML 1.2 core-schema decimal float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool is_float(const char *s)
{
    const char *p = s;
    if (*p == '-' || *p == '+') p++;
    bool digits = false;
    while (isdigit((unsigned char)*p)) p++, digits = true;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) p++, digits = true;
    }
    if (!digits) return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '-' || *p == '+') p++;
        if (!isdigit((unsigned char)*p)) return false;
        while (isdigit((unsigned char)*p)) p++;
    }
    return *p == '\0';
}

/* The JSON value of a plain YAML scalar. Caller owns the result. */
static cJSON *plain_scalar(const char *v)
{
    if (!*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
        strcmp(v, "NULL") == 0)
        return cJSON_CreateNull();
    if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0 || strcmp(v, "TRUE") == 0)
        return cJSON_CreateTrue();
    if (strcmp(v, "false") == 0 || strcmp(v, "False") == 0 || strcmp(v, "FALSE") == 0)
        return cJSON_CreateFalse();
    const char *digits = (*v == '-' || *v == '+') ? v + 1 : v;
    /* Integers that a double holds exactly; longer ones stay text. */
    if (all_digits(digits) && strlen(digits) <= 15) return cJSON_CreateNumber(strtod(v, NULL));
    if (!all_digits(digits) && is_float(v)) {
        double d = strtod(v, NULL);
        if (isfinite(d)) return cJSON_CreateNumber(d);
    }
    return cJSON_CreateString(v);
}

struct frame {
    cJSON *node;
    char *key; /* pending mapping key (mappings only) */
};

/* Adds `item` to the container on top of the stack (or makes it the root).
 * Takes ownership of item. 0 ok, -1 with err. */
static int attach(struct frame *stack, int depth, cJSON **root, cJSON *item, const char *value,
                  bool scalar, unsigned long line, char *err)
{
    if (depth == 0) {
        *root = item;
        return 0;
    }
    struct frame *top = &stack[depth - 1];
    if (cJSON_IsArray(top->node)) {
        cJSON_AddItemToArray(top->node, item);
        return 0;
    }
    if (!top->key) {
        if (!scalar) {
            cJSON_Delete(item);
            snprintf(err, OPENAPI_ERR_MAX, "line %lu: mapping keys must be plain values", line);
            return -1;
        }
        cJSON_Delete(item);
        top->key = util_strdup(value);
        if (!top->key) {
            snprintf(err, OPENAPI_ERR_MAX, "out of memory");
            return -1;
        }
        if (cJSON_GetObjectItemCaseSensitive(top->node, top->key)) {
            snprintf(err, OPENAPI_ERR_MAX, "line %lu: duplicate key \"%.80s\"", line, top->key);
            return -1;
        }
        return 0;
    }
    cJSON_AddItemToObject(top->node, top->key, item);
    free(top->key);
    top->key = NULL;
    return 0;
}

cJSON *openapi_yaml_to_json(const char *text, size_t len, char *err)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    struct frame stack[OPENAPI_MAX_DEPTH];
    int depth = 0;
    long nodes = 0;
    cJSON *root = NULL;
    bool done = false, failed = false, docs = false;

    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, OPENAPI_ERR_MAX, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    while (!done && !failed) {
        if (!yaml_parser_parse(&parser, &ev)) {
            snprintf(err, OPENAPI_ERR_MAX, "line %lu, column %lu: %s",
                     (unsigned long)parser.problem_mark.line + 1,
                     (unsigned long)parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "invalid YAML");
            failed = true;
            break;
        }
        unsigned long line = (unsigned long)ev.start_mark.line + 1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT: done = true; break;
        case YAML_DOCUMENT_START_EVENT:
            if (docs) {
                snprintf(err, OPENAPI_ERR_MAX, "line %lu: only one YAML document is allowed", line);
                failed = true;
            }
            docs = true;
            break;
        case YAML_ALIAS_EVENT:
            snprintf(err, OPENAPI_ERR_MAX, "line %lu: YAML aliases (*name) are not supported",
                     line);
            failed = true;
            break;
        case YAML_SCALAR_EVENT:
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            const yaml_char_t *anchor = ev.type == YAML_SCALAR_EVENT ? ev.data.scalar.anchor
                                        : ev.type == YAML_SEQUENCE_START_EVENT
                                            ? ev.data.sequence_start.anchor
                                            : ev.data.mapping_start.anchor;
            if (anchor) {
                snprintf(err, OPENAPI_ERR_MAX, "line %lu: YAML anchors (&name) are not supported",
                         line);
                failed = true;
                break;
            }
            if (++nodes > OPENAPI_MAX_NODES) {
                snprintf(err, OPENAPI_ERR_MAX, "line %lu: the document has too many values", line);
                failed = true;
                break;
            }
            if (depth > 0 && !cJSON_IsArray(stack[depth - 1].node) && !stack[depth - 1].key &&
                ev.type != YAML_SCALAR_EVENT) {
                snprintf(err, OPENAPI_ERR_MAX, "line %lu: mapping keys must be plain values", line);
                failed = true;
                break;
            }
            if (ev.type == YAML_SCALAR_EVENT) {
                const char *v = (const char *)ev.data.scalar.value;
                if (strlen(v) != ev.data.scalar.length) {
                    snprintf(err, OPENAPI_ERR_MAX, "line %lu: NUL characters are not allowed",
                             line);
                    failed = true;
                    break;
                }
                bool is_key =
                    depth > 0 && !cJSON_IsArray(stack[depth - 1].node) && !stack[depth - 1].key;
                const char *tag = (const char *)ev.data.scalar.tag;
                bool as_string = is_key || ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
                                 (tag && strcmp(tag, YAML_STR_TAG) == 0);
                cJSON *item = as_string ? cJSON_CreateString(v) : plain_scalar(v);
                if (!item) {
                    snprintf(err, OPENAPI_ERR_MAX, "out of memory");
                    failed = true;
                    break;
                }
                if (attach(stack, depth, &root, item, v, true, line, err) != 0) failed = true;
                break;
            }
            if (depth >= OPENAPI_MAX_DEPTH) {
                snprintf(err, OPENAPI_ERR_MAX, "line %lu: nested deeper than %d levels", line,
                         OPENAPI_MAX_DEPTH);
                failed = true;
                break;
            }
            cJSON *item =
                ev.type == YAML_SEQUENCE_START_EVENT ? cJSON_CreateArray() : cJSON_CreateObject();
            if (!item) {
                snprintf(err, OPENAPI_ERR_MAX, "out of memory");
                failed = true;
                break;
            }
            if (attach(stack, depth, &root, item, NULL, false, line, err) != 0) {
                failed = true;
                break;
            }
            stack[depth].node = item;
            stack[depth].key = NULL;
            depth++;
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth > 0) {
                depth--;
                free(stack[depth].key);
                stack[depth].key = NULL;
            }
            break;
        default: break;
        }
        yaml_event_delete(&ev);
    }
    for (int i = 0; i < depth; i++) free(stack[i].key);
    yaml_parser_delete(&parser);
    if (failed) {
        cJSON_Delete(root);
        return NULL;
    }
    if (!root) {
        snprintf(err, OPENAPI_ERR_MAX, "the document is empty");
        return NULL;
    }
    return root;
}

cJSON *openapi_parse(const char *text, size_t len, int *is_yaml, char *err)
{
    if (!text || len == 0) {
        snprintf(err, OPENAPI_ERR_MAX, "the document is empty");
        return NULL;
    }
    if (!util_utf8_valid(text, len)) {
        snprintf(err, OPENAPI_ERR_MAX, "the document must be valid UTF-8");
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        snprintf(err, OPENAPI_ERR_MAX, "the document must not contain NUL characters");
        return NULL;
    }
    size_t i = 0;
    while (i < len && isspace((unsigned char)text[i])) i++;
    if (i < len && (text[i] == '{' || text[i] == '[')) {
        cJSON *j = json_parse(text, len);
        if (j) {
            if (is_yaml) *is_yaml = 0;
            return j;
        }
    }
    cJSON *y = openapi_yaml_to_json(text, len, err);
    if (y && is_yaml) *is_yaml = 1;
    return y;
}

/* ---- validation --------------------------------------------------------- */

int openapi_validate(const cJSON *doc, char *err)
{
    if (!cJSON_IsObject(doc)) {
        snprintf(err, OPENAPI_ERR_MAX, "document: must be an object (an OpenAPI 3 document)");
        return -1;
    }
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(doc, "openapi");
    if (!ver || cJSON_IsNull(ver)) {
        if (cJSON_GetObjectItemCaseSensitive(doc, "swagger"))
            snprintf(err, OPENAPI_ERR_MAX,
                     "openapi: is required (Swagger 2.0 documents are not supported; convert to "
                     "OpenAPI 3)");
        else
            snprintf(err, OPENAPI_ERR_MAX, "openapi: is required");
        return -1;
    }
    if (!cJSON_IsString(ver)) {
        snprintf(err, OPENAPI_ERR_MAX, "openapi: must be a string such as \"3.0.3\"");
        return -1;
    }
    if (strncmp(ver->valuestring, "3.", 2) != 0 || !isdigit((unsigned char)ver->valuestring[2])) {
        snprintf(err, OPENAPI_ERR_MAX, "openapi: must be 3.x (got \"%.40s\")", ver->valuestring);
        return -1;
    }
    const cJSON *info = cJSON_GetObjectItemCaseSensitive(doc, "info");
    if (!info || cJSON_IsNull(info)) {
        snprintf(err, OPENAPI_ERR_MAX, "info: is required");
        return -1;
    }
    if (!cJSON_IsObject(info)) {
        snprintf(err, OPENAPI_ERR_MAX, "info: must be an object");
        return -1;
    }
    static const char *const info_fields[] = {"title", "version"};
    for (size_t k = 0; k < 2; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(info, info_fields[k]);
        if (!v || cJSON_IsNull(v)) {
            snprintf(err, OPENAPI_ERR_MAX, "info.%s: is required", info_fields[k]);
            return -1;
        }
        if (!cJSON_IsString(v)) {
            snprintf(err, OPENAPI_ERR_MAX, "info.%s: must be a string%s", info_fields[k],
                     cJSON_IsNumber(v) ? " (quote it in YAML, e.g. \"1.0\")" : "");
            return -1;
        }
        if (!v->valuestring[0]) {
            snprintf(err, OPENAPI_ERR_MAX, "info.%s: must not be empty", info_fields[k]);
            return -1;
        }
    }
    const cJSON *paths = cJSON_GetObjectItemCaseSensitive(doc, "paths");
    bool v31 = strncmp(ver->valuestring, "3.0", 3) != 0;
    if (!paths || cJSON_IsNull(paths)) {
        if (v31) return 0; /* 3.1 documents may have only webhooks/components */
        snprintf(err, OPENAPI_ERR_MAX, "paths: is required");
        return -1;
    }
    if (!cJSON_IsObject(paths)) {
        snprintf(err, OPENAPI_ERR_MAX, "paths: must be an object");
        return -1;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, paths)
    {
        if (!p->string || p->string[0] != '/') {
            snprintf(err, OPENAPI_ERR_MAX, "paths.%.100s: must start with \"/\"",
                     p->string ? p->string : "");
            return -1;
        }
        if (!cJSON_IsObject(p)) {
            snprintf(err, OPENAPI_ERR_MAX, "paths.%.100s: must be an object", p->string);
            return -1;
        }
        for (size_t m = 0; m < sizeof METHODS / sizeof METHODS[0]; m++) {
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(p, METHODS[m]);
            if (op && !cJSON_IsObject(op)) {
                snprintf(err, OPENAPI_ERR_MAX, "paths.%.100s.%s: must be an object", p->string,
                         METHODS[m]);
                return -1;
            }
        }
    }
    return 0;
}

/* ---- operations --------------------------------------------------------- */

static const char *str_or_empty(const cJSON *obj, const char *field)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

cJSON *openapi_operations(const cJSON *doc)
{
    cJSON *ops = cJSON_CreateArray();
    if (!ops) return NULL;
    const cJSON *paths =
        cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "paths") : NULL;
    if (!cJSON_IsObject(paths)) return ops;
    const cJSON *p;
    cJSON_ArrayForEach(p, paths)
    {
        if (!cJSON_IsObject(p) || !p->string) continue;
        for (size_t m = 0; m < sizeof METHODS / sizeof METHODS[0]; m++) {
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(p, METHODS[m]);
            if (!cJSON_IsObject(op)) continue;
            char method[16];
            size_t k = 0;
            for (const char *c = METHODS[m]; *c && k + 1 < sizeof method; c++)
                method[k++] = (char)toupper((unsigned char)*c);
            method[k] = '\0';
            cJSON *o = cJSON_CreateObject();
            if (!o) goto oom;
            cJSON_AddItemToArray(ops, o);
            cJSON_AddStringToObject(o, "method", method);
            cJSON_AddStringToObject(o, "path", p->string);
            cJSON_AddStringToObject(o, "operation_id", str_or_empty(op, "operationId"));
            cJSON_AddStringToObject(o, "summary", str_or_empty(op, "summary"));
            cJSON *tags = cJSON_AddArrayToObject(o, "tags");
            const cJSON *t;
            const cJSON *src = cJSON_GetObjectItemCaseSensitive(op, "tags");
            if (tags && cJSON_IsArray(src)) {
                cJSON_ArrayForEach(t, src)
                {
                    if (cJSON_IsString(t) && t->valuestring)
                        cJSON_AddItemToArray(tags, cJSON_CreateString(t->valuestring));
                }
            }
        }
    }
    return ops;
oom:
    cJSON_Delete(ops);
    return NULL;
}
