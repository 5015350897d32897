/*
 * test_gateways.c — the gateway status rules and their reason sentences,
 * name derivation, mode normalisation and types, LIKE escaping and ETag
 * matching (server/gateways.c is included to reach its statics), and the
 * one status rule: the SQL generated from it, run on an in-memory SQLite over
 * a grid of heartbeat ages and error rates, agrees with the C rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "../../server/gateways.c"

static struct config test_cfg(void)
{
    struct config c;
    memset(&c, 0, sizeof c);
    c.gateways.offline_after_seconds = 90;
    c.gateways.degraded_error_rate = 0.05;
    return c;
}

#define NOW 1800000000000LL

static void test_online_recent_heartbeat(void **state)
{
    (void)state;
    struct config c = test_cfg();
    char reason[128];
    assert_string_equal(
        gateways_status(&c, false, NOW - 3000, true, 0.01, NOW, reason, sizeof reason), "online");
    assert_string_equal(reason, "heartbeat 3 s ago");
    /* No error rate reported yet: online. */
    assert_string_equal(gateways_status(&c, false, NOW - 500, false, 0, NOW, reason, sizeof reason),
                        "online");
    assert_string_equal(reason, "heartbeat 0 s ago");
}

static void test_offline_after_window(void **state)
{
    (void)state;
    struct config c = test_cfg();
    char reason[128];
    assert_string_equal(
        gateways_status(&c, false, NOW - 97000, true, 0.0, NOW, reason, sizeof reason), "offline");
    assert_string_equal(reason, "no heartbeat for 97 s");
    /* Exactly the window is still live; one millisecond more is not. */
    assert_string_equal(gateways_status(&c, false, NOW - 90000, true, 0.0, NOW, NULL, 0), "online");
    assert_true(gateways_live(&c, NOW - 90000, NOW));
    assert_string_equal(gateways_status(&c, false, NOW - 90001, true, 0.0, NOW, NULL, 0),
                        "offline");
    assert_false(gateways_live(&c, NOW - 90001, NOW));
    /* Never heard from. */
    assert_string_equal(gateways_status(&c, false, -1, false, 0, NOW, reason, sizeof reason),
                        "offline");
    assert_string_equal(reason, "no heartbeat received");
    assert_false(gateways_live(&c, -1, NOW));
    /* Offline wins over a high error rate. */
    assert_string_equal(gateways_status(&c, false, NOW - 100000, true, 0.5, NOW, NULL, 0),
                        "offline");
}

static void test_degraded(void **state)
{
    (void)state;
    struct config c = test_cfg();
    char reason[128];
    assert_string_equal(
        gateways_status(&c, false, NOW - 1000, true, 0.08, NOW, reason, sizeof reason), "degraded");
    assert_string_equal(reason, "error rate 8.0% above 5.0%");
    /* At the threshold is not above it. */
    assert_string_equal(gateways_status(&c, false, NOW - 1000, true, 0.05, NOW, NULL, 0), "online");
}

static void test_maintenance_wins(void **state)
{
    (void)state;
    struct config c = test_cfg();
    char reason[128];
    assert_string_equal(
        gateways_status(&c, true, NOW - 1000, true, 0.9, NOW, reason, sizeof reason),
        "maintenance");
    assert_string_equal(reason, "in maintenance");
    assert_string_equal(gateways_status(&c, true, -1, false, 0, NOW, NULL, 0), "maintenance");
}

static void test_clock_ahead(void **state)
{
    (void)state;
    struct config c = test_cfg();
    char reason[128];
    /* A heartbeat stamped by a replica whose clock runs ahead. */
    assert_string_equal(
        gateways_status(&c, false, NOW + 2000, false, 0, NOW, reason, sizeof reason), "online");
    assert_string_equal(reason, "heartbeat 0 s ago");
}

static void test_mode_normalisation(void **state)
{
    (void)state;
    char m[GATEWAY_MODE_MAX + 1];
    static const char *const ok[][2] = {
        {"edge-mcp", "edge-mcp"}, {"EDGE_MCP", "edge-mcp"}, {"edgemcp", "edge-mcp"},
        {"mcp", "edge-mcp"},      {"MCP", "edge-mcp"},      {"Sidecar", "sidecar"},
        {"proxy", "proxy"},       {"shadow", "shadow"},     {"connect", "connect"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        assert_int_equal(gateways_normalize_mode(ok[i][0], m, sizeof m), 0);
        assert_string_equal(m, ok[i][1]);
    }
    static const char *const bad[] = {
        "", "kong", "edge mcp", "edge--mcp", "sidecars", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(gateways_normalize_mode(bad[i], m, sizeof m), -1);
    assert_int_equal(gateways_normalize_mode(NULL, m, sizeof m), -1);
}

static void test_types(void **state)
{
    (void)state;
    assert_string_equal(gateways_type_for_mode("edge-mcp"), "stoa_edge_mcp");
    assert_string_equal(gateways_type_for_mode("sidecar"), "stoa_sidecar");
    assert_string_equal(gateways_type_for_mode("proxy"), "stoa_proxy");
    assert_string_equal(gateways_type_for_mode("shadow"), "stoa_shadow");
    assert_string_equal(gateways_type_for_mode("connect"), "stoa");
    assert_null(gateways_type_for_mode("mcp"));
}

static void test_name_derivation(void **state)
{
    (void)state;
    char name[GATEWAY_NAME_MAX + 1];
    assert_true(gateways_derive_name("stoa-gw-abc123", "edge-mcp", "prod", name, sizeof name));
    assert_string_equal(name, "stoa-gw-abc123-edgemcp-prod");
    assert_true(gateways_derive_name("kong-sidecar-xyz", "sidecar", "staging", name, sizeof name));
    assert_string_equal(name, "kong-sidecar-xyz-sidecar-staging");
    assert_true(gateways_derive_name("Host_A.Example", "edge-mcp", "dev_1", name, sizeof name));
    assert_string_equal(name, "host_a.example-edgemcp-dev_1");
    char small[8];
    assert_false(gateways_derive_name("stoa-gw-abc123", "proxy", "prod", small, sizeof small));
}

static void test_like_pattern(void **state)
{
    (void)state;
    char *p = db_like_pattern("%", "a%b_c\\d", 7, "%"); /* the gateways q filter */
    assert_string_equal(p, "%a\\%b\\_c\\\\d%");
    free(p);
    p = db_like_pattern("%", "", 0, "%");
    assert_string_equal(p, "%%");
    free(p);
}

static void test_etag_matching(void **state)
{
    (void)state;
    assert_true(etag_matches("\"abc\"", "\"abc\""));
    assert_true(etag_matches("W/\"abc\"", "\"abc\""));
    assert_true(etag_matches("\"x\", \"abc\"", "\"abc\""));
    assert_true(etag_matches("*", "\"abc\""));
    assert_false(etag_matches("\"abcd\"", "\"abc\""));
    assert_false(etag_matches("", "\"abc\""));
    assert_false(etag_matches(NULL, "\"abc\""));
}

/* ---- the status rule in SQL agrees with the rule in C ---------------------- */

/* Binds $1..$3 by name (cut, rate, tenant) where the statement has them. */
static void bind_rule(sqlite3_stmt *st, int cut_idx, int64_t cut, int rate_idx, double rate,
                      const char *tenant)
{
    char name[8];
    if (cut_idx) {
        snprintf(name, sizeof name, "$%d", cut_idx);
        int i = sqlite3_bind_parameter_index(st, name);
        assert_true(i > 0);
        assert_int_equal(sqlite3_bind_int64(st, i, cut), SQLITE_OK);
    }
    if (rate_idx) {
        snprintf(name, sizeof name, "$%d", rate_idx);
        int i = sqlite3_bind_parameter_index(st, name);
        assert_true(i > 0);
        assert_int_equal(sqlite3_bind_double(st, i, rate), SQLITE_OK);
    }
    int t = sqlite3_bind_parameter_index(st, "$3");
    if (t > 0) assert_int_equal(sqlite3_bind_text(st, t, tenant, -1, SQLITE_STATIC), SQLITE_OK);
}

struct grid_row {
    int id;
    bool maint;
    int64_t hb; /* -1 never */
    bool has_rate;
    double rate;
    const char *tenant;
    const char *status; /* by the C rule */
};

static void check_rule_grid(const struct config *c, int64_t now)
{
    const int64_t win = window_ms(c);
    const double thr = c->gateways.degraded_error_rate;
    const int64_t ages[] = {-1, -2000, 0, 1, win - 1, win, win + 1, 2 * win, 86400000};
    const double rates[] = {-1, 0.0, thr / 2, thr, thr + 1e-9, thr + 0.01, 0.5, 1.0};
    const char *tenants[] = {"acme", "globex", NULL};
    struct grid_row rows[2 * 9 * 8];
    size_t n = 0;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE gateways (id INTEGER PRIMARY KEY, maintenance INTEGER NOT NULL, "
                     "last_heartbeat_at BIGINT, error_rate REAL, tenant_id TEXT, "
                     "environment TEXT NOT NULL DEFAULT 'e', type TEXT NOT NULL DEFAULT 't');"
                     "CREATE INDEX gateways_health ON gateways (maintenance, last_heartbeat_at, "
                     "error_rate, tenant_id, environment, type);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO gateways (id, maintenance, last_heartbeat_at, "
                                        "error_rate, tenant_id) VALUES (?, ?, ?, ?, ?)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (int m = 0; m < 2; m++)
        for (size_t a = 0; a < sizeof ages / sizeof ages[0]; a++)
            for (size_t k = 0; k < sizeof rates / sizeof rates[0]; k++) {
                struct grid_row *g = &rows[n];
                g->id = (int)n + 1;
                g->maint = m;
                g->hb = ages[a] == -1 ? -1 : now - ages[a];
                g->has_rate = rates[k] >= 0;
                g->rate = g->has_rate ? rates[k] : 0;
                g->tenant = tenants[n % 3];
                g->status = gateways_status(c, g->maint, g->hb, g->has_rate, g->rate, now, NULL, 0);
                sqlite3_reset(st);
                sqlite3_bind_int(st, 1, g->id);
                sqlite3_bind_int(st, 2, m);
                if (g->hb < 0)
                    sqlite3_bind_null(st, 3);
                else
                    sqlite3_bind_int64(st, 3, g->hb);
                if (g->has_rate)
                    sqlite3_bind_double(st, 4, g->rate);
                else
                    sqlite3_bind_null(st, 4);
                if (g->tenant)
                    sqlite3_bind_text(st, 5, g->tenant, -1, SQLITE_STATIC);
                else
                    sqlite3_bind_null(st, 5);
                assert_int_equal(sqlite3_step(st), SQLITE_DONE);
                n++;
            }
    sqlite3_finalize(st);
    const int64_t cut = now - win;

    /* 1. The CASE expression, row by row. */
    char sql[2048];
    snprintf(sql, sizeof sql, "SELECT id, %s FROM gateways ORDER BY id", gateways_status_sql());
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    bind_rule(st, 1, cut, 2, thr, NULL);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        const char *got = (const char *)sqlite3_column_text(st, 1);
        assert_non_null(got);
        if (strcmp(got, rows[i].status) != 0)
            fail_msg("row %zu (maint %d hb %lld rate %s%g): SQL says %s, C says %s", i,
                     rows[i].maint, (long long)rows[i].hb, rows[i].has_rate ? "" : "null ",
                     rows[i].rate, got, rows[i].status);
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);

    /* 2. The list filter predicates (with and without the index-stopping
     * "+"), numbered as the list numbers them: each selects exactly the rows
     * the C rule gives that status. */
    for (int s = 0; s < GW_STATUS_COUNT; s++) {
        for (int plus = 0; plus < 2; plus++) {
            struct strbuf b;
            int np = 0, cutp = 0, ratep = 0;
            if (status_uses((enum gateway_status)s, false)) cutp = ++np;
            if (status_uses((enum gateway_status)s, true)) ratep = ++np;
            strbuf_init(&b, 4096);
            strbuf_puts(&b, "SELECT id FROM gateways WHERE ");
            status_predicate(&b, (enum gateway_status)s, cutp, ratep, plus ? "+" : "");
            strbuf_puts(&b, " ORDER BY id");
            char *q = strbuf_take(&b);
            assert_non_null(q);
            assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
            free(q);
            bind_rule(st, cutp, cut, ratep, thr, NULL);
            int got = 0;
            for (size_t i = 0; i < n; i++) {
                if (strcmp(rows[i].status, STATUS_NAMES[s]) != 0) continue;
                assert_int_equal(sqlite3_step(st), SQLITE_ROW);
                assert_int_equal(sqlite3_column_int(st, 0), rows[i].id);
                got++;
            }
            assert_int_equal(sqlite3_step(st), SQLITE_DONE);
            sqlite3_finalize(st);
            (void)got;
        }
    }

    /* 3. The counts, over every gateway and over one tenant plus the shared ones. */
    for (int scoped = 0; scoped < 2; scoped++) {
        int64_t want[GW_STATUS_COUNT] = {0}, total = 0;
        for (size_t i = 0; i < n; i++) {
            if (scoped && rows[i].tenant && strcmp(rows[i].tenant, "acme") != 0) continue;
            total++;
            for (int s = 0; s < GW_STATUS_COUNT; s++)
                if (strcmp(rows[i].status, STATUS_NAMES[s]) == 0) want[s]++;
        }
        assert_int_equal(sqlite3_prepare_v2(db, sql_counts[scoped], -1, &st, NULL), SQLITE_OK);
        bind_rule(st, 1, cut, 2, thr, "acme");
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        assert_int_equal(sqlite3_column_int64(st, 0), total);
        int64_t rest = total;
        for (int s = GW_OFFLINE; s < GW_STATUS_COUNT; s++) {
            assert_int_equal(sqlite3_column_int64(st, s), want[s]);
            rest -= want[s];
        }
        assert_int_equal(rest, want[GW_ONLINE]);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
}

static void test_rule_sql_matches_c(void **state)
{
    (void)state;
    struct config c = test_cfg();
    /* The rule table: rows disjoint and covering (status_eval finds the row). */
    check_rule_grid(&c, NOW);
    check_rule_grid(&c, NOW + 12345);
    c.gateways.offline_after_seconds = 1;
    c.gateways.degraded_error_rate = 0;
    check_rule_grid(&c, NOW);
    c.gateways.offline_after_seconds = 86400;
    c.gateways.degraded_error_rate = 1;
    check_rule_grid(&c, NOW);
}

static void test_rule_rows_disjoint(void **state)
{
    (void)state;
    /* Every combination of term outcomes matches exactly one row. */
    const int64_t cut = 1000;
    const int64_t hbs[] = {-1, 999, 1000, 1001};
    const double rates[] = {-1, 0.01, 0.05, 0.06};
    for (int m = 0; m < 2; m++)
        for (size_t h = 0; h < 4; h++)
            for (size_t k = 0; k < 4; k++) {
                struct status_input in = {m, hbs[h], rates[k] >= 0, rates[k]};
                int matches = 0;
                for (size_t i = 0; i < STATUS_ROWS; i++) {
                    bool all = true;
                    for (int t = 0; all && t < STATUS_RULE[i].nterms; t++)
                        all = term_holds(STATUS_RULE[i].terms[t], &in, cut, 0.05);
                    matches += all;
                }
                assert_int_equal(matches, 1);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_online_recent_heartbeat),
        cmocka_unit_test(test_offline_after_window),
        cmocka_unit_test(test_degraded),
        cmocka_unit_test(test_maintenance_wins),
        cmocka_unit_test(test_clock_ahead),
        cmocka_unit_test(test_mode_normalisation),
        cmocka_unit_test(test_types),
        cmocka_unit_test(test_name_derivation),
        cmocka_unit_test(test_like_pattern),
        cmocka_unit_test(test_etag_matching),
        cmocka_unit_test(test_rule_sql_matches_c),
        cmocka_unit_test(test_rule_rows_disjoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
