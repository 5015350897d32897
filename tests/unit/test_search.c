/*
 * test_search.c — the LIKE escaper, query parsing (trim, words, limits,
 * UTF-8), the name rank and the searchable text.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/search.c"

static void check_escape(const char *in, const char *want)
{
    char *out = search_escape_like(in);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
}

static void test_escape(void **state)
{
    (void)state;
    check_escape("100%", "100\\%");
    check_escape("a_b", "a\\_b");
    check_escape("back\\slash", "back\\\\slash");
    check_escape("50%_off", "50\\%\\_off");
    check_escape("\\%", "\\\\\\%"); /* backslash first: \ → \\, then % → \% */
    check_escape("\\_\\", "\\\\\\_\\\\");
    check_escape("%%__", "\\%\\%\\_\\_");
    check_escape("plain", "plain");
    check_escape("", "");
    check_escape("(prod) [v2] {id} a/b --help ' OR 1=1", "(prod) [v2] {id} a/b --help ' OR 1=1");
    check_escape("café", "café");
    assert_null(search_escape_like(NULL));
}

static void test_parse_words(void **state)
{
    (void)state;
    struct search_query q;
    char err[SEARCH_ERR_MAX];
    const char *raw = "  Guest \t U  ";
    assert_int_equal(search_query_parse(raw, strlen(raw), &q, err), 0);
    assert_string_equal(q.text, "guest \t u");
    assert_int_equal(q.nwords, 2);
    assert_string_equal(q.words[0], "guest");
    assert_string_equal(q.words[1], "u");
    assert_string_equal(q.patterns[0], "%guest%");
    assert_string_equal(q.patterns[1], "%u%");
    assert_string_equal(q.name_prefix, "guest \t u%");
    assert_string_equal(q.name_contains, "%guest \t u%");
    search_query_cleanup(&q);

    raw = "50%_off CAFÉ";
    assert_int_equal(search_query_parse(raw, strlen(raw), &q, err), 0);
    assert_int_equal(q.nwords, 2);
    assert_string_equal(q.words[1], "café");
    assert_string_equal(q.patterns[0], "%50\\%\\_off%");
    assert_string_equal(q.name_prefix, "50\\%\\_off café%");
    search_query_cleanup(&q);

    /* Empty, whitespace-only and absent: no filter. */
    const char *empties[] = {"", "   ", "\t\n\r "};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(search_query_parse(empties[i], strlen(empties[i]), &q, err), 0);
        assert_string_equal(q.text, "");
        assert_int_equal(q.nwords, 0);
        assert_null(q.name_prefix);
        search_query_cleanup(&q);
    }
    assert_int_equal(search_query_parse(NULL, 0, &q, err), 0);
    assert_int_equal(q.nwords, 0);
    search_query_cleanup(&q);

    /* Non-breaking space is not a separator: it is a literal character. */
    raw = "a\xc2\xa0"
          "b";
    assert_int_equal(search_query_parse(raw, strlen(raw), &q, err), 0);
    assert_int_equal(q.nwords, 1);
    search_query_cleanup(&q);
}

static void test_parse_limits(void **state)
{
    (void)state;
    struct search_query q;
    char err[SEARCH_ERR_MAX];
    char buf[1024];
    /* 200 code points pass, 201 fail; counted in characters, not bytes. */
    memset(buf, 'a', 200);
    assert_int_equal(search_query_parse(buf, 200, &q, err), 0);
    search_query_cleanup(&q);
    memset(buf, 'a', 201);
    assert_int_equal(search_query_parse(buf, 201, &q, err), -1);
    assert_string_equal(err, "q: must be at most 200 characters");
    size_t n = 0;
    for (int i = 0; i < 200; i++) n += (size_t)snprintf(buf + n, sizeof buf - n, "\xc3\xa9");
    assert_int_equal(search_query_parse(buf, n, &q, err), 0);
    search_query_cleanup(&q);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\xc3\xa9");
    assert_int_equal(search_query_parse(buf, n, &q, err), -1);
    /* Surrounding whitespace does not count. */
    memset(buf, ' ', 10);
    memset(buf + 10, 'b', 200);
    memset(buf + 210, ' ', 10);
    assert_int_equal(search_query_parse(buf, 220, &q, err), 0);
    search_query_cleanup(&q);
    /* Invalid UTF-8 and NUL. */
    const char *bad[] = {"\xff\xfe", "\xc3", "ok\x80", "\xed\xa0\x80", "\xc0\xaf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(search_query_parse(bad[i], strlen(bad[i]), &q, err), -1);
        assert_string_equal(err, "q: must be valid UTF-8");
        assert_null(q.text);
    }
    assert_int_equal(search_query_parse("a\0b", 3, &q, err), -1);
    /* Word count. */
    n = 0;
    for (int i = 0; i < SEARCH_WORDS_MAX; i++) n += (size_t)snprintf(buf + n, sizeof buf - n, "w ");
    assert_int_equal(search_query_parse(buf, n, &q, err), 0);
    assert_int_equal(q.nwords, SEARCH_WORDS_MAX);
    search_query_cleanup(&q);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "x");
    assert_int_equal(search_query_parse(buf, n, &q, err), -1);
    assert_null(q.text);
}

static void test_rank(void **state)
{
    (void)state;
    assert_int_equal(search_rank_name("ledger", "ledger"), SEARCH_RANK_EXACT);
    assert_int_equal(search_rank_name("ledger archive", "ledger"), SEARCH_RANK_PREFIX);
    assert_int_equal(search_rank_name("general ledger", "ledger"), SEARCH_RANK_CONTAINS);
    assert_int_equal(search_rank_name("accounts", "ledger"), SEARCH_RANK_OTHER);
    assert_int_equal(search_rank_name("50%_off", "50%_off"), SEARCH_RANK_EXACT);
    assert_int_equal(search_rank_name("50x_off", "50%_off"), SEARCH_RANK_OTHER);
    assert_int_equal(search_rank_name("guest users", "guest u"), SEARCH_RANK_PREFIX);
}

static void test_text(void **state)
{
    (void)state;
    const char *f[] = {"User Profile API", NULL, "", "CAFÉ", "/user_profile/{id}"};
    char *t = search_text_build(f, 5);
    assert_string_equal(t, "user profile api\ncafé\n/user_profile/{id}");
    free(t);
    t = search_text_build(f, 0);
    assert_string_equal(t, "");
    free(t);
}

/* The one word splitter: every ASCII whitespace separates, runs of them too. */
static void test_next_word(void **state)
{
    (void)state;
    const char *p = " \talpha\nbeta\r\f\vgamma  ", *w;
    size_t n;
    const char *want[] = {"alpha", "beta", "gamma"};
    for (int i = 0; i < 3; i++) {
        w = search_next_word(&p, &n);
        assert_non_null(w);
        assert_int_equal(n, strlen(want[i]));
        assert_memory_equal(w, want[i], n);
    }
    assert_null(search_next_word(&p, &n));
    p = "";
    assert_null(search_next_word(&p, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),      cmocka_unit_test(test_next_word),
        cmocka_unit_test(test_parse_words), cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_rank),        cmocka_unit_test(test_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
