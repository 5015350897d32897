/*
 * test_openapi.c — YAML → JSON conversion (scalar typing, limits, aliases),
 * JSON-or-YAML detection, validation messages and operations extraction.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/openapi.c"

static char err[256];

static cJSON *yaml(const char *text)
{
    err[0] = '\0';
    return openapi_yaml_to_json(text, strlen(text), err);
}

static void assert_json(const cJSON *j, const char *want)
{
    char *s = cJSON_PrintUnformatted(j);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
}

static void test_yaml_scalars(void **state)
{
    (void)state;
    cJSON *j = yaml("a: 1\nb: -2.5\nc: true\nd: null\ne: ~\nf: '1'\ng: \"true\"\nh: 1.0.0\n"
                    "i: hello world\nj: 3.0\nk: 1e3\nl: 0x10\nm: 12345678901234567890\n"
                    "200: ok\nn: !!str 5\no:\n");
    assert_non_null(j);
    assert_json(j,
                "{\"a\":1,\"b\":-2.5,\"c\":true,\"d\":null,\"e\":null,\"f\":\"1\",\"g\":\"true\","
                "\"h\":\"1.0.0\",\"i\":\"hello world\",\"j\":3,\"k\":1000,\"l\":\"0x10\","
                "\"m\":\"12345678901234567890\",\"200\":\"ok\",\"n\":\"5\",\"o\":null}");
    cJSON_Delete(j);
    j = yaml("- a\n- [1, 2]\n- {x: y}\n- - nested\n");
    assert_json(j, "[\"a\",[1,2],{\"x\":\"y\"},[\"nested\"]]");
    cJSON_Delete(j);
    j = yaml("text: |\n  line 1\n  line 2\nfolded: >-\n  a\n  b\n");
    assert_json(j, "{\"text\":\"line 1\\nline 2\\n\",\"folded\":\"a b\"}");
    cJSON_Delete(j);
}

static void test_yaml_rejects(void **state)
{
    (void)state;
    assert_null(yaml("a: &x 1\nb: *x\n"));
    assert_non_null(strstr(err, "anchors"));
    assert_null(yaml("a: 1\na: 2\n"));
    assert_string_equal(err, "line 2: duplicate key \"a\"");
    assert_null(yaml("a: [1\n"));
    assert_non_null(strstr(err, "line "));
    assert_null(yaml("? [a]\n: 1\n"));
    assert_non_null(strstr(err, "mapping keys"));
    assert_null(yaml("---\na: 1\n---\nb: 2\n"));
    assert_non_null(strstr(err, "one YAML document"));
    assert_null(yaml(""));
    /* Depth bound: 100 nested flow sequences. */
    char deep[256];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    deep[200] = '\0';
    assert_null(yaml(deep));
    assert_non_null(strstr(err, "nested deeper"));
}

static void test_parse_detects(void **state)
{
    (void)state;
    int is_yaml = -1;
    const char *json = " {\"openapi\": \"3.0.0\"}";
    cJSON *j = openapi_parse(json, strlen(json), &is_yaml, err);
    assert_non_null(j);
    assert_int_equal(is_yaml, 0);
    cJSON_Delete(j);
    const char *y = "openapi: 3.0.0\n";
    j = openapi_parse(y, strlen(y), &is_yaml, err);
    assert_non_null(j);
    assert_int_equal(is_yaml, 1);
    assert_json(j, "{\"openapi\":\"3.0.0\"}");
    cJSON_Delete(j);
    /* A YAML flow mapping that is not JSON. */
    const char *flow = "{openapi: 3.0.0}";
    j = openapi_parse(flow, strlen(flow), &is_yaml, err);
    assert_non_null(j);
    assert_int_equal(is_yaml, 1);
    cJSON_Delete(j);
    assert_null(openapi_parse("\xff", 1, &is_yaml, err));
    assert_string_equal(err, "the document must be valid UTF-8");
    assert_null(openapi_parse("", 0, &is_yaml, err));
}

static void check_invalid(const char *text, const char *want)
{
    cJSON *j = openapi_parse(text, strlen(text), NULL, err);
    assert_non_null(j);
    assert_int_equal(openapi_validate(j, err), -1);
    assert_string_equal(err, want);
    cJSON_Delete(j);
}

static void test_validate(void **state)
{
    (void)state;
    check_invalid("[]", "document: must be an object (an OpenAPI 3 document)");
    check_invalid("{}", "openapi: is required");
    check_invalid("swagger: '2.0'",
                  "openapi: is required (Swagger 2.0 documents are not supported; convert to "
                  "OpenAPI 3)");
    check_invalid("openapi: 3.0", "openapi: must be a string such as \"3.0.3\"");
    check_invalid("openapi: '2.0'", "openapi: must be 3.x (got \"2.0\")");
    check_invalid("openapi: 3.0.0", "info: is required");
    check_invalid("openapi: 3.0.0\ninfo: x", "info: must be an object");
    check_invalid("openapi: 3.0.0\ninfo: {version: '1'}", "info.title: is required");
    check_invalid("openapi: 3.0.0\ninfo: {title: t}", "info.version: is required");
    check_invalid("openapi: 3.0.0\ninfo: {title: t, version: 1.5}",
                  "info.version: must be a string (quote it in YAML, e.g. \"1.0\")");
    check_invalid("openapi: 3.0.0\ninfo: {title: '', version: '1'}",
                  "info.title: must not be empty");
    check_invalid("openapi: 3.0.0\ninfo: {title: t, version: '1'}", "paths: is required");
    check_invalid("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: []",
                  "paths: must be an object");
    check_invalid("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {pets: {}}",
                  "paths.pets: must start with \"/\"");
    check_invalid("openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {/pets: {get: 1}}",
                  "paths./pets.get: must be an object");
    const char *ok31 = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\nwebhooks: {}";
    cJSON *j = openapi_parse(ok31, strlen(ok31), NULL, err);
    assert_int_equal(openapi_validate(j, err), 0);
    cJSON_Delete(j);
}

static void test_operations(void **state)
{
    (void)state;
    const char *text = "openapi: 3.0.0\n"
                       "info: {title: t, version: '1'}\n"
                       "paths:\n"
                       "  /pets:\n"
                       "    parameters: []\n"
                       "    post: {operationId: addPet, tags: [pets, write]}\n"
                       "    get: {operationId: listPets, summary: List}\n"
                       "    x-extension: {}\n"
                       "  /pets/{id}:\n"
                       "    trace: {}\n"
                       "    delete: {summary: 5}\n";
    cJSON *doc = openapi_parse(text, strlen(text), NULL, err);
    assert_int_equal(openapi_validate(doc, err), 0);
    cJSON *ops = openapi_operations(doc);
    /* Method order per path: get, put, post, delete, patch, head, options, trace. */
    assert_json(ops, "[{\"method\":\"GET\",\"path\":\"/pets\",\"operation_id\":\"listPets\","
                     "\"summary\":\"List\",\"tags\":[]},"
                     "{\"method\":\"POST\",\"path\":\"/pets\",\"operation_id\":\"addPet\","
                     "\"summary\":\"\",\"tags\":[\"pets\",\"write\"]},"
                     "{\"method\":\"DELETE\",\"path\":\"/pets/{id}\",\"operation_id\":\"\","
                     "\"summary\":\"\",\"tags\":[]},"
                     "{\"method\":\"TRACE\",\"path\":\"/pets/{id}\",\"operation_id\":\"\","
                     "\"summary\":\"\",\"tags\":[]}]");
    cJSON_Delete(ops);
    cJSON_Delete(doc);
    ops = openapi_operations(NULL);
    assert_json(ops, "[]");
    cJSON_Delete(ops);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_scalars),  cmocka_unit_test(test_yaml_rejects),
        cmocka_unit_test(test_parse_detects), cmocka_unit_test(test_validate),
        cmocka_unit_test(test_operations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
