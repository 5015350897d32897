/*
 * test_subscriptions.c — unit tests for the pure parts of self-service:
 * an API's subscription settings as the catalog applies them (mode, plans,
 * every bad shape), and the JSON string writer the gateway config uses.
 * Threading: single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../server/subscriptions.c"

#include <stdlib.h>

static int apply(const char *json, char **mode, cJSON **plans, char *err)
{
    cJSON *body = cJSON_Parse(json);
    assert_non_null(body);
    int rc = subscriptions_apply_settings(body, mode, plans, err);
    cJSON_Delete(body);
    return rc;
}

static void test_settings(void **state)
{
    (void)state;
    char err[JSON_ERR_MAX];
    char *mode = util_strdup("approval");
    cJSON *plans = cJSON_CreateArray();
    /* Absent fields leave both alone. */
    assert_int_equal(apply("{\"name\":\"x\"}", &mode, &plans, err), 0);
    assert_string_equal(mode, "approval");
    assert_int_equal(cJSON_GetArraySize(plans), 0);
    assert_int_equal(apply("{\"subscription\":\"auto\",\"plans\":[{\"name\":\"gold\","
                           "\"requests_per_minute\":600},{\"name\":\"free-1.0_x\","
                           "\"requests_per_minute\":1}]}",
                           &mode, &plans, err),
                     0);
    assert_string_equal(mode, "auto");
    char *printed = json_print(plans);
    assert_string_equal(printed, "[{\"name\":\"gold\",\"requests_per_minute\":600},"
                                 "{\"name\":\"free-1.0_x\",\"requests_per_minute\":1}]");
    free(printed);
    /* null clears the plans. */
    assert_int_equal(apply("{\"plans\":null}", &mode, &plans, err), 0);
    assert_int_equal(cJSON_GetArraySize(plans), 0);

    static const struct {
        const char *body, *msg;
    } bad[] = {
        {"{\"subscription\":\"open\"}", "subscription:"},
        {"{\"plans\":{}}", "plans: must be an array"},
        {"{\"plans\":[1]}", "plans[0]: must be an object"},
        {"{\"plans\":[{\"name\":\"a\"}]}", "plans[0].requests_per_minute: is required"},
        {"{\"plans\":[{\"name\":\"a\",\"requests_per_minute\":0}]}",
         "plans[0].requests_per_minute"},
        {"{\"plans\":[{\"name\":\"a\",\"requests_per_minute\":100000001}]}",
         "plans[0].requests_per_minute"},
        {"{\"plans\":[{\"name\":\"a b\",\"requests_per_minute\":1}]}", "plans[0].name: only"},
        {"{\"plans\":[{\"name\":\"\",\"requests_per_minute\":1}]}", "plans[0].name"},
        {"{\"plans\":[{\"name\":\"a\",\"requests_per_minute\":1,\"x\":1}]}", "plans[0].x"},
        {"{\"plans\":[{\"name\":\"a\",\"requests_per_minute\":1},{\"name\":\"a\","
         "\"requests_per_minute\":2}]}",
         "plans[1].name: \"a\" is already a plan"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(apply(bad[i].body, &mode, &plans, err), -1);
        assert_non_null(strstr(err, bad[i].msg));
        /* A failed apply changes nothing. */
        assert_string_equal(mode, "auto");
        assert_int_equal(cJSON_GetArraySize(plans), 0);
    }
    free(mode);
    cJSON_Delete(plans);
}

static void test_json_strbuf_string(void **state)
{
    (void)state;
    struct strbuf b;
    strbuf_init(&b, 1024);
    json_strbuf_string(&b, "plain");
    json_strbuf_string(&b, "q\"b\\n\n\x01\x7f é");
    json_strbuf_string(&b, "");
    char *s = strbuf_take(&b);
    assert_string_equal(s, "\"plain\"\"q\\\"b\\\\n\\u000a\\u0001\x7f é\"\"\"");
    /* What it writes parses back to the input. */
    cJSON *j = cJSON_Parse(s + 7);
    assert_non_null(j);
    assert_string_equal(j->valuestring, "q\"b\\n\n\x01\x7f é");
    cJSON_Delete(j);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_json_strbuf_string),
    };
    return cmocka_run_group_tests_name("subscriptions", tests, NULL, NULL);
}
