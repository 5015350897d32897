/*
 * test_gateway_history.c — the history's aggregation core with a fixed
 * clock: request deltas, restarts (requests_total or uptime going
 * backwards), the open-minute table and late heartbeats, gaps in a series,
 * the replica merge, and on a throwaway SQLite database the upsert merge,
 * folding minute rows into hours at the 48 h edge and pruning.
 * (server/gateway_history.c is included to reach its statics.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../server/gateway_history.c"
#include "unit_db.h"

#define T0 1800000000000LL /* a whole hour: 2027-01-15T08:00:00Z */
#define MIN GATEWAY_HISTORY_MINUTE_MS
#define GAP 90000 /* the offline window */
#define GW_ID "33333333-3333-4333-8333-333333333333"

static struct gateway_history_sample beat(int64_t at, int64_t uptime, int64_t requests, double rate)
{
    struct gateway_history_sample s;
    memset(&s, 0, sizeof s);
    s.at = at;
    s.uptime = uptime;
    s.has_requests = true;
    s.requests = requests;
    s.has_rate = true;
    s.rate = rate;
    s.has_routes = true;
    s.routes = 8;
    s.status = rate > 0.05 ? "degraded" : "online";
    return s;
}

/* The same with the previous heartbeat's values, as the database returns them. */
static struct gateway_history_sample after(struct gateway_history_sample s, int64_t prev_at,
                                           int64_t prev_uptime, int64_t prev_requests)
{
    s.has_prev = s.has_prev_uptime = s.has_prev_requests = true;
    s.prev_at = prev_at;
    s.prev_uptime = prev_uptime;
    s.prev_requests = prev_requests;
    return s;
}

static void test_delta(void **state)
{
    (void)state;
    bool has, restart;
    int64_t d;
    /* 30 s later, 300 more requests. */
    struct gateway_history_sample s = after(beat(T0 + 30000, 130, 1300, 0.01), T0, 100, 1000);
    gateway_history_delta(&s, GAP, &has, &d, &restart);
    assert_true(has);
    assert_int_equal(d, 300);
    assert_false(restart);
    /* requests_total went backwards: a restart; the new counter is the delta. */
    s = after(beat(T0 + 30000, 20, 40, 0), T0, 100, 1000);
    gateway_history_delta(&s, GAP, &has, &d, &restart);
    assert_true(restart);
    assert_true(has);
    assert_int_equal(d, 40);
    /* uptime went backwards though the counter did not (a persisted counter). */
    s = after(beat(T0 + 30000, 5, 1200, 0), T0, 100, 1000);
    gateway_history_delta(&s, GAP, &has, &d, &restart);
    assert_true(restart);
    assert_int_equal(d, 1200);
    /* A restart long ago (uptime beyond the window): no delta to trust. */
    s = after(beat(T0 + 30000, 3600, 10, 0), T0, 7200, 1000);
    gateway_history_delta(&s, GAP, &has, &d, &restart);
    assert_true(restart);
    assert_false(has);
    /* The previous heartbeat is older than the window: offline in between. */
    s = after(beat(T0 + GAP + 1, 400, 5000, 0), T0, 100, 1000);
    gateway_history_delta(&s, GAP, &has, &d, &restart);
    assert_false(has);
    assert_false(restart);
    /* Exactly the window still counts. */
    s = after(beat(T0 + GAP, 190, 5000, 0), T0, 100, 1000);
    gateway_history_delta(&s, GAP, &has, &d, &restart);
    assert_true(has);
    assert_int_equal(d, 4000);
    /* No requests_total in this heartbeat, or none before: unknown, not 0. */
    s = after(beat(T0 + 30000, 130, 0, 0), T0, 100, 1000);
    s.has_requests = false;
    gateway_history_delta(&s, GAP, &has, &d, &restart);
    assert_false(has);
    s = beat(T0 + 30000, 130, 1300, 0);
    gateway_history_delta(&s, GAP, &has, &d, &restart);
    assert_false(has);
}

static void test_point_add_last_and_max(void **state)
{
    (void)state;
    struct gateway_history_point p;
    gateway_history_point_init(&p, T0, 60);
    struct gateway_history_sample a = after(beat(T0 + 5000, 105, 1100, 0.02), T0 - 25000, 75, 1000);
    struct gateway_history_sample b =
        after(beat(T0 + 35000, 135, 1400, 0.09), T0 + 5000, 105, 1100);
    struct gateway_history_sample c =
        after(beat(T0 + 55000, 155, 1450, 0.03), T0 + 35000, 135, 1400);
    gateway_history_point_add(&p, &a, GAP);
    gateway_history_point_add(&p, &c, GAP); /* out of order: c is still the last */
    gateway_history_point_add(&p, &b, GAP);
    assert_int_equal(p.samples, 3);
    assert_int_equal(p.minutes, 1);
    assert_true(p.has_requests);
    assert_int_equal(p.requests, 100 + 300 + 50);
    assert_true(p.has_rate_max);
    assert_true(p.rate_max == 0.09);
    assert_true(p.rate == 0.03);
    assert_int_equal(p.last_at, T0 + 55000);
    assert_string_equal(p.status, "online");
    assert_int_equal(p.restarts, 0);
    double per_min;
    assert_true(gateway_history_rate_per_min(&p, &per_min));
    assert_true(per_min == 450.0);
}

static void test_table_minutes_and_late(void **state)
{
    (void)state;
    struct gateway_history_table *t = gateway_history_table_new(GAP);
    struct gateway_history_row *rows = NULL;
    struct gateway_history_point cur;
    const char *id = "11111111-1111-4111-8111-111111111111";
    struct gateway_history_sample s1 =
        after(beat(T0 + 10000, 100, 1000, 0.01), T0 - 20000, 70, 900);
    struct gateway_history_sample s2 =
        after(beat(T0 + 40000, 130, 1200, 0.01), T0 + 10000, 100, 1000);
    struct gateway_history_sample s3 =
        after(beat(T0 + MIN + 10000, 160, 1500, 0.2), T0 + 40000, 130, 1200);
    assert_int_equal(gateway_history_table_add(t, id, &s1, &cur), 0);
    assert_int_equal(gateway_history_table_add(t, id, &s2, &cur), 0);
    assert_int_equal(cur.requests, 300);
    /* Nothing finished before the minute ends. */
    assert_int_equal(gateway_history_table_take(t, T0 + 59999, false, &rows), 0);
    assert_null(rows);
    /* The next minute's heartbeat closes the first minute. */
    assert_int_equal(gateway_history_table_add(t, id, &s3, &cur), 0);
    assert_int_equal(cur.at, T0 + MIN);
    assert_int_equal(gateway_history_table_take(t, T0 + MIN + 15000, false, &rows), 1);
    assert_string_equal(rows[0].id, id);
    assert_int_equal(rows[0].p.at, T0);
    assert_int_equal(rows[0].p.requests, 300);
    free(rows);
    /* A late heartbeat for the first minute becomes its own row (merged later). */
    struct gateway_history_sample late =
        after(beat(T0 + 59000, 159, 1250, 0.01), T0 + 40000, 130, 1200);
    assert_int_equal(gateway_history_table_add(t, id, &late, &cur), 0);
    assert_int_equal(cur.at, T0 + MIN);
    assert_int_equal(gateway_history_table_take(t, T0 + MIN + 20000, false, &rows), 1);
    assert_int_equal(rows[0].p.at, T0);
    assert_int_equal(rows[0].p.requests, 50);
    free(rows);
    /* Shutdown takes the open minute too. */
    assert_true(gateway_history_table_current(t, id, &cur));
    assert_int_equal(gateway_history_table_take(t, T0 + MIN + 30000, true, &rows), 1);
    assert_int_equal(rows[0].p.at, T0 + MIN);
    assert_string_equal(rows[0].p.status, "degraded");
    free(rows);
    assert_false(gateway_history_table_current(t, id, &cur));
    /* Idle for ten minutes: forgotten. */
    assert_int_equal(gateway_history_table_take(t, T0 + 20 * MIN, false, &rows), 0);
    assert_int_equal(t->used, 0);
    gateway_history_table_free(t);
}

/* After a re-registration the database has no previous values: the table's
 * own last heartbeat shows the restart. */
static void test_table_restart_fallback(void **state)
{
    (void)state;
    struct gateway_history_table *t = gateway_history_table_new(GAP);
    struct gateway_history_point cur;
    const char *id = "22222222-2222-4222-8222-222222222222";
    struct gateway_history_sample s1 =
        after(beat(T0 + 10000, 5000, 90000, 0), T0 - 20000, 4970, 89000);
    assert_int_equal(gateway_history_table_add(t, id, &s1, &cur), 0);
    struct gateway_history_sample s2 = beat(T0 + 40000, 12, 30, 0); /* no prev from the db */
    s2.has_prev = true;
    s2.prev_at = T0 + 30000; /* the registration */
    assert_int_equal(gateway_history_table_add(t, id, &s2, &cur), 0);
    assert_int_equal(cur.restarts, 1);
    assert_int_equal(cur.requests, 1000 + 30);
    gateway_history_table_free(t);
}

/* Two replicas each see part of a minute; the merge equals one process
 * seeing all of it. */
static void test_replica_merge(void **state)
{
    (void)state;
    struct gateway_history_sample s[4] = {
        after(beat(T0 + 5000, 105, 1100, 0.02), T0 - 10000, 90, 1000),
        after(beat(T0 + 20000, 120, 1300, 0.07), T0 + 5000, 105, 1100),
        after(beat(T0 + 35000, 10, 50, 0.01), T0 + 20000, 120, 1300),
        after(beat(T0 + 50000, 25, 170, 0.04), T0 + 35000, 10, 50),
    };
    struct gateway_history_point one, a, b;
    gateway_history_point_init(&one, T0, 60);
    gateway_history_point_init(&a, T0, 60);
    gateway_history_point_init(&b, T0, 60);
    for (int i = 0; i < 4; i++) {
        gateway_history_point_add(&one, &s[i], GAP);
        gateway_history_point_add(i % 2 ? &b : &a, &s[i], GAP);
    }
    gateway_history_point_merge(&a, &b);
    assert_int_equal(a.requests, one.requests);
    assert_int_equal(one.requests, 100 + 200 + 50 + 120);
    assert_int_equal(a.restarts, 1);
    assert_int_equal(a.samples, 4);
    assert_int_equal(a.minutes, 1);
    assert_true(a.rate_max == 0.07);
    assert_true(a.rate == 0.04);
    assert_int_equal(a.last_at, T0 + 50000);
}

static struct gateway_history_point minute_row(int64_t at, int64_t requests, double rate,
                                               const char *status)
{
    struct gateway_history_point p;
    gateway_history_point_init(&p, at, 60);
    p.minutes = 1;
    p.samples = 2;
    p.last_at = at + 50000;
    p.has_requests = requests >= 0;
    p.requests = requests < 0 ? 0 : requests;
    p.has_rate = p.has_rate_max = true;
    p.rate = p.rate_max = rate;
    util_copy(p.status, sizeof p.status, status);
    return p;
}

static void test_series_gaps_and_steps(void **state)
{
    (void)state;
    struct gateway_history_point rows[4] = {
        minute_row(T0, 600, 0.01, "online"),
        minute_row(T0 + 1 * MIN, 660, 0.02, "online"),
        /* minute 2 and 3: nothing (a gap) */
        minute_row(T0 + 4 * MIN, -1, 0.08, "degraded"), /* data, but requests unknown */
        minute_row(T0 + 5 * MIN, 300, 0.01, "online"),
    };
    struct gateway_history_point out[6];
    gateway_history_series(rows, 4, T0, 60, 6, out);
    double v;
    assert_true(gateway_history_rate_per_min(&out[0], &v) && v == 600);
    assert_true(gateway_history_rate_per_min(&out[1], &v) && v == 660);
    assert_int_equal(out[2].minutes, 0); /* a gap is not zero */
    assert_false(gateway_history_rate_per_min(&out[2], &v));
    assert_int_equal(out[3].minutes, 0);
    assert_int_equal(out[4].minutes, 1);
    assert_false(gateway_history_rate_per_min(&out[4], &v));
    assert_string_equal(out[4].status, "degraded");
    assert_int_equal(out[5].at, T0 + 5 * MIN);
    /* Three-minute steps: [0,3) has two minutes with requests, [3,6) two minutes, one known. */
    struct gateway_history_point wide[2];
    gateway_history_series(rows, 4, T0, 180, 2, wide);
    assert_int_equal(wide[0].minutes, 2);
    assert_true(gateway_history_rate_per_min(&wide[0], &v) && v == 630);
    assert_int_equal(wide[1].minutes, 2);
    assert_true(wide[1].rate_max == 0.08);
    assert_true(wide[1].rate == 0.01); /* the last minute's */
    assert_string_equal(wide[1].status, "online");
    /* Rows outside the range are ignored (no out-of-bounds bucket). */
    gateway_history_series(rows, 4, T0 + MIN, 60, 1, out);
    assert_true(gateway_history_rate_per_min(&out[0], &v) && v == 660);
}

/* The fleet view: minutes without a heartbeat since the gateway's first
 * minute count as offline, clamped to the window and to now. */
static void test_fleet_offline(void **state)
{
    (void)state;
    struct fleet_gw g;
    memset(&g, 0, sizeof g);
    int64_t from = T0 - 23 * GATEWAY_HISTORY_HOUR_MS, now = T0 + 30 * MIN + 15000;
    g.first = T0 - 2 * GATEWAY_HISTORY_HOUR_MS + 20 * MIN; /* registered at 06:20 */
    g.minutes[21][S_ONLINE] = 30;                          /* 06:00 slot: 30 of 40 minutes seen */
    g.minutes[23][S_DEGRADED] = 10;                        /* 08:00 slot: 30 minutes so far */
    g.minutes[23][S_ONLINE] = 15;
    fleet_offline(&g, from, now);
    assert_int_equal(g.minutes[20][S_OFFLINE], 0); /* before registration: nothing */
    assert_int_equal(g.minutes[21][S_OFFLINE], 10);
    assert_int_equal(g.minutes[22][S_OFFLINE], 60); /* a whole silent hour */
    assert_int_equal(g.minutes[23][S_OFFLINE], 5);
    assert_true(wanted("a,b,33333333-3333-4333-8333-333333333333", GW_ID));
    assert_false(wanted("", GW_ID));
    assert_int_equal(gateway_history_floor(-1, MIN), -MIN);
    assert_int_equal(gateway_history_floor(MIN, MIN), MIN);
}

/* ---- on SQLite ------------------------------------------------------------ */

static const char *GW = GW_ID;

static void insert_gateway(struct db *db)
{
    assert_int_equal(
        db_exec(db,
                "INSERT INTO gateways (id, name, hostname, type, mode, environment, registered_at, "
                "updated_at) VALUES ($1, 'h-gw', 'h', 'stoa', 'connect', 'dev', $2, $2)",
                DB_ARGS(DBP_TEXT(GW), DBP_INT(T0 - 72 * GATEWAY_HISTORY_HOUR_MS)), NULL),
        DB_OK);
}

static long count_rows(struct db *db, int step)
{
    struct db_result *res = NULL;
    assert_int_equal(db_query(db, "SELECT COUNT(*) FROM gateway_history WHERE step_s = $1",
                              DB_ARGS(DBP_INT(step)), &res),
                     DB_OK);
    long n = (long)db_get_int(res, 0, 0);
    db_result_free(res);
    return n;
}

static void test_db_upsert_merge_fold_prune(void **state)
{
    struct config *c = *state;
    c->gateways.history_retention_days = 30;
    hcfg = c;
    struct db *db = db_thread();
    insert_gateway(db);
    /* Two replicas' parts of one minute: merged into one row. */
    struct gateway_history_row r[2];
    util_copy(r[0].id, sizeof r[0].id, GW);
    util_copy(r[1].id, sizeof r[1].id, GW);
    int64_t m = T0 - 50 * GATEWAY_HISTORY_HOUR_MS; /* older than 48 h */
    r[0].p = minute_row(m, 100, 0.09, "degraded");
    r[1].p = minute_row(m, 50, 0.01, "online");
    r[1].p.last_at = m + 55000; /* the later heartbeat */
    assert_int_equal(gateway_history_write(db, &r[0], 1), 0);
    assert_int_equal(gateway_history_write(db, &r[1], 1), 0);
    struct db_result *res = NULL;
    assert_int_equal(db_query(db, "SELECT " ROW_COLS " FROM gateway_history", DB_NOARGS, &res),
                     DB_OK);
    assert_int_equal(db_rows(res), 1);
    struct gateway_history_point p;
    point_from_row(res, 0, 0, &p);
    db_result_free(res);
    assert_int_equal(p.minutes, 1);
    assert_int_equal(p.samples, 4);
    assert_int_equal(p.requests, 150);
    assert_true(p.rate_max == 0.09);
    assert_true(p.rate == 0.01);
    assert_string_equal(p.status, "online");
    /* A row of a gateway that no longer exists is skipped, not an error. */
    struct gateway_history_row gone = r[0];
    util_copy(gone.id, sizeof gone.id, "44444444-4444-4444-8444-444444444444");
    assert_int_equal(gateway_history_write(db, &gone, 1), 0);

    /* 60 more minutes of the same hour and the next, and one in the last 48 h. */
    struct gateway_history_row more[62];
    for (int i = 0; i < 61; i++) {
        util_copy(more[i].id, sizeof more[i].id, GW);
        more[i].p = minute_row(m + (i + 1) * MIN, 10, i == 30 ? 0.2 : 0.02, "online");
    }
    util_copy(more[61].id, sizeof more[61].id, GW);
    more[61].p = minute_row(T0 - 47 * GATEWAY_HISTORY_HOUR_MS, 10, 0.02, "online");
    assert_int_equal(gateway_history_write(db, more, 62), 0);
    assert_int_equal(count_rows(db, 60), 63);
    /* Fold: everything before the hour 48 h ago becomes hourly; the edge
     * hour (not whole yet) and the recent minute stay. */
    long folded = gateway_history_maintain(db, T0);
    assert_int_equal(folded, 62);
    assert_int_equal(count_rows(db, 3600), 2);
    assert_int_equal(count_rows(db, 60), 1);
    assert_int_equal(db_query(db,
                              "SELECT " ROW_COLS " FROM gateway_history WHERE step_s = 3600 "
                              "ORDER BY bucket_at",
                              DB_NOARGS, &res),
                     DB_OK);
    struct gateway_history_point h0, h1;
    point_from_row(res, 0, 0, &h0);
    point_from_row(res, 1, 0, &h1);
    db_result_free(res);
    assert_int_equal(h0.at, m);
    assert_int_equal(h0.minutes, 60);
    assert_int_equal(h0.requests, 150 + 59 * 10);
    assert_true(h0.rate_max == 0.2);
    assert_int_equal(h1.at, m + GATEWAY_HISTORY_HOUR_MS);
    assert_int_equal(h1.minutes, 2);
    assert_int_equal(h1.requests, 20);
    /* Folding again changes nothing. */
    assert_int_equal(gateway_history_maintain(db, T0), 0);
    assert_int_equal(count_rows(db, 3600), 2);
    /* Thirty days later everything is pruned. */
    gateway_history_maintain(db, T0 + 31 * 86400000LL);
    assert_int_equal(count_rows(db, 3600) + count_rows(db, 60), 0);
    hcfg = NULL;
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(test_delta),
        cmocka_unit_test(test_point_add_last_and_max),
        cmocka_unit_test(test_table_minutes_and_late),
        cmocka_unit_test(test_table_restart_fallback),
        cmocka_unit_test(test_replica_merge),
        cmocka_unit_test(test_series_gaps_and_steps),
        cmocka_unit_test(test_fleet_offline),
    };
    const struct CMUnitTest db[] = {
        cmocka_unit_test(test_db_upsert_merge_fold_prune),
    };
    int failed = cmocka_run_group_tests_name("gateway_history", pure, NULL, NULL);
    failed += cmocka_run_group_tests_name("gateway_history (sqlite)", db, setup_db, teardown_db);
    return failed;
}
