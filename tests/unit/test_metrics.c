/*
 * test_metrics.c — unit tests for the metrics module: histogram text
 * rendering (cumulative buckets, +Inf, sum, count), bucket choice, label
 * escaping, and the bounded route/method labels of the request counter.
 * Threading: single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../server/metrics.c"
#include "portico/routes.h"

static void test_histogram_rendering(void **state)
{
    (void)state;
    uint64_t per[METRICS_BUCKETS + 1] = {0};
    per[0] = 1;               /* <= 0.001 */
    per[2] = 2;               /* <= 0.01 */
    per[8] = 3;               /* <= 1 */
    per[METRICS_BUCKETS] = 1; /* > 10 */
    struct strbuf b;
    strbuf_init(&b, 65536);
    render_histogram(&b, "x_seconds", "apis.get", per, 12345678);
    assert_false(b.failed);
    const char *want = "x_seconds_bucket{route=\"apis.get\",le=\"0.001\"} 1\n"
                       "x_seconds_bucket{route=\"apis.get\",le=\"0.005\"} 1\n"
                       "x_seconds_bucket{route=\"apis.get\",le=\"0.01\"} 3\n"
                       "x_seconds_bucket{route=\"apis.get\",le=\"0.025\"} 3\n"
                       "x_seconds_bucket{route=\"apis.get\",le=\"0.05\"} 3\n"
                       "x_seconds_bucket{route=\"apis.get\",le=\"0.1\"} 3\n"
                       "x_seconds_bucket{route=\"apis.get\",le=\"0.25\"} 3\n"
                       "x_seconds_bucket{route=\"apis.get\",le=\"0.5\"} 3\n"
                       "x_seconds_bucket{route=\"apis.get\",le=\"1\"} 6\n"
                       "x_seconds_bucket{route=\"apis.get\",le=\"2.5\"} 6\n"
                       "x_seconds_bucket{route=\"apis.get\",le=\"5\"} 6\n"
                       "x_seconds_bucket{route=\"apis.get\",le=\"10\"} 6\n"
                       "x_seconds_bucket{route=\"apis.get\",le=\"+Inf\"} 7\n"
                       "x_seconds_sum{route=\"apis.get\"} 12.345678\n"
                       "x_seconds_count{route=\"apis.get\"} 7\n";
    assert_string_equal(b.data, want);
    strbuf_cleanup(&b);
}

static void test_bucket_index(void **state)
{
    (void)state;
    assert_int_equal(bucket_index(0), 0);
    assert_int_equal(bucket_index(0.001), 0); /* le is inclusive */
    assert_int_equal(bucket_index(0.0011), 1);
    assert_int_equal(bucket_index(1), 8);
    assert_int_equal(bucket_index(10), 11);
    assert_int_equal(bucket_index(10.5), METRICS_BUCKETS);
}

static void test_label_escaping(void **state)
{
    (void)state;
    struct strbuf b;
    strbuf_init(&b, 1024);
    put_label_value(&b, "a\"b\\c\nd");
    assert_string_equal(b.data, "a\\\"b\\\\c\\nd");
    strbuf_cleanup(&b);
}

static void test_request_counter_labels_are_bounded(void **state)
{
    (void)state;
    assert_int_equal(method_index("GET"), 0);
    assert_int_equal(method_index("DELETE"), 4);
    assert_int_equal(method_index("BREW"), METRICS_METHODS - 1);
    assert_int_equal(method_index(NULL), METRICS_METHODS - 1);

    struct req r;
    memset(&r, 0, sizeof r);
    r.method = "PROPFIND";
    util_copy(r.path, sizeof r.path, "/v1/nothing/here");
    r.status = 404;
    assert_int_equal(slot_of(&r), METRICS_SLOT_UNMATCHED);
    r.method = "GET";
    util_copy(r.path, sizeof r.path, "/portal/index.html");
    r.status = 200;
    assert_int_equal(slot_of(&r), METRICS_SLOT_ASSETS);
    size_t count;
    const struct route *t = routes_table(&count);
    metrics_use_routes(t, count);
    r.route = &t[1];
    assert_int_equal(slot_of(&r), 1);

    observe(METRICS_SLOT_UNMATCHED, "BREW", 418, 2000);
    observe(METRICS_SLOT_UNMATCHED, "BREW", 999, 2000); /* nonsense status: 5xx */
    struct strbuf b;
    strbuf_init(&b, 1 << 20);
    render_requests(&b);
    assert_false(b.failed);
    assert_non_null(strstr(b.data, "portico_http_requests_total{route=\"unmatched\",method="
                                   "\"OTHER\",status_class=\"4xx\"} 1\n"));
    assert_non_null(strstr(b.data, "portico_http_requests_total{route=\"unmatched\",method="
                                   "\"OTHER\",status_class=\"5xx\"} 1\n"));
    assert_non_null(
        strstr(b.data, "portico_http_request_duration_seconds_count{route=\"unmatched\"} 2\n"));
    assert_non_null(strstr(b.data, "# TYPE portico_http_request_duration_seconds histogram\n"));
    assert_null(strstr(b.data, "BREW"));
    strbuf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histogram_rendering),
        cmocka_unit_test(test_bucket_index),
        cmocka_unit_test(test_label_escaping),
        cmocka_unit_test(test_request_counter_labels_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
