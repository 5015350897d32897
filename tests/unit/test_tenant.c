/*
 * test_tenant.c — the shared tenant rules: which roles act across tenants,
 * and the tenant id syntax (ASCII only, whatever the locale).
 * Threading: single-threaded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <string.h>

#include "portico/principal.h"
#include "portico/tenant.h"

static void test_tenant_all(void **state)
{
    (void)state;
    struct principal p;
    memset(&p, 0, sizeof p);
    p.role = rbac_role_parse("cpi-admin");
    assert_true(tenant_all(&p));
    const char *scoped[] = {"tenant-admin", "devops", "viewer"};
    for (size_t i = 0; i < 3; i++) {
        p.role = rbac_role_parse(scoped[i]);
        assert_false(tenant_all(&p));
    }
    assert_false(tenant_all(NULL));
}

static void test_tenant_id_valid(void **state)
{
    (void)state;
    assert_true(tenant_id_valid("acme"));
    assert_true(tenant_id_valid("Acme-2.eu_west"));
    char max[64];
    memset(max, 'a', 63);
    max[63] = '\0';
    assert_true(tenant_id_valid(max));
    char over[65];
    memset(over, 'a', 64);
    over[64] = '\0';
    assert_false(tenant_id_valid(over));
    assert_false(tenant_id_valid(""));
    assert_false(tenant_id_valid(NULL));
    assert_false(tenant_id_valid("a b"));
    assert_false(tenant_id_valid("a/b"));
    assert_false(tenant_id_valid("caf\xc3\xa9"));
    /* A Latin-1 locale makes isalnum() accept 0xe9; the rule must not. */
    if (setlocale(LC_ALL, "de_DE.ISO-8859-1") || setlocale(LC_ALL, "C.UTF-8"))
        assert_false(tenant_id_valid("caf\xe9"));
    setlocale(LC_ALL, "C");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tenant_all),
        cmocka_unit_test(test_tenant_id_valid),
    };
    return cmocka_run_group_tests_name("tenant", tests, NULL, NULL);
}
