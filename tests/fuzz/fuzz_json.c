/*
 * fuzz_json.c — request-body JSON: the UTF-8 check and json_parse the
 * dispatcher applies (http_json_body), then every validating getter of
 * json.h on the result, as handlers call them.
 * Properties: never crashes, leaks or trips UBSan (e.g. float→int casts out
 * of range); a getter returns 0, 1 or -1 and writes an error exactly when
 * it fails; values it accepts are within the bounds asked for; a parsed
 * document prints and parses back.
 * Threading: single-threaded (libFuzzer).
 */
#include <math.h>

#include "portico/json.h"
#include "portico/util.h"

#include "fuzz_common.h"

static const char *const FIELDS[] = {"name",         "version", "tags",   "uptime_seconds",
                                     "error_rate",   "enabled", "status", "hostname",
                                     "capabilities", "",        "a"};

static void check_rc(int rc, const char *err)
{
    CHECK(rc == 0 || rc == 1 || rc == -1);
    if (rc == -1) CHECK(err[0] != '\0' && strlen(err) < JSON_ERR_MAX);
}

static void probe(const cJSON *obj, const char *field)
{
    char err[JSON_ERR_MAX];
    const char *s = NULL;
    int64_t i = 0;
    double d = 0;
    bool b = false;
    const cJSON *arr = NULL;
    int rc;

    err[0] = '\0';
    rc = json_string(obj, field, 1, 200, false, &s, err);
    check_rc(rc, err);
    if (rc == 0) {
        CHECK(util_utf8_valid(s, strlen(s)));
        size_t chars = util_utf8_len(s, strlen(s));
        CHECK(chars >= 1 && chars <= 200);
    }
    err[0] = '\0';
    rc = json_string(obj, field, 0, 5000, true, &s, err);
    check_rc(rc, err);
    CHECK(rc != 1); /* required: absence is an error */

    err[0] = '\0';
    rc = json_int(obj, field, 0, INT64_MAX, false, &i, err);
    check_rc(rc, err);
    if (rc == 0) CHECK(i >= 0);
    err[0] = '\0';
    rc = json_int(obj, field, INT64_MIN, INT64_MAX, false, &i, err);
    check_rc(rc, err);
    err[0] = '\0';
    rc = json_int(obj, field, -5, 1000000, false, &i, err);
    check_rc(rc, err);
    if (rc == 0) CHECK(i >= -5 && i <= 1000000);

    err[0] = '\0';
    rc = json_number(obj, field, 0, 1, false, &d, err);
    check_rc(rc, err);
    if (rc == 0) CHECK(isfinite(d) && d >= 0 && d <= 1);

    err[0] = '\0';
    rc = json_bool(obj, field, false, &b, err);
    check_rc(rc, err);

    err[0] = '\0';
    rc = json_enum(obj, field, "draft|published|deprecated", false, &s, err);
    check_rc(rc, err);
    if (rc == 0)
        CHECK(strcmp(s, "draft") == 0 || strcmp(s, "published") == 0 ||
              strcmp(s, "deprecated") == 0);

    err[0] = '\0';
    rc = json_string_array(obj, field, 20, 1, 50, false, &arr, err);
    check_rc(rc, err);
    if (rc == 0) CHECK(cJSON_IsArray(arr) && cJSON_GetArraySize(arr) <= 20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256 * 1024) return -1;
    /* As http_json_body: the body must be valid UTF-8 first. */
    bool utf8 = util_utf8_valid((const char *)data, size);
    cJSON *j = json_parse((const char *)data, size);
    if (!j) return 0;
    (void)utf8;
    if (cJSON_IsObject(j)) {
        for (size_t k = 0; k < sizeof FIELDS / sizeof FIELDS[0]; k++) probe(j, FIELDS[k]);
        /* The document's own keys, including duplicates and odd names. */
        int n = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, j)
        {
            if (it->string && n++ < 8) probe(j, it->string);
        }
        char err[JSON_ERR_MAX] = "";
        int rc = json_only_keys(j, "name|version|tags|description", err);
        CHECK(rc == 0 || (rc == -1 && err[0]));
    }
    char *printed = json_print(j);
    CHECK(printed != NULL);
    cJSON *again = json_parse(printed, strlen(printed));
    CHECK(again != NULL);
    cJSON_Delete(again);
    free(printed);

    cJSON *out = cJSON_CreateObject();
    json_add_str_or_null(out, "s", cJSON_IsString(j) ? j->valuestring : NULL);
    json_add_time(out, "t",
                  cJSON_IsNumber(j) && isfinite(j->valuedouble) && fabs(j->valuedouble) < 1e15
                      ? (int64_t)j->valuedouble
                      : -1);
    cJSON_Delete(out);
    cJSON_Delete(j);
    return 0;
}
