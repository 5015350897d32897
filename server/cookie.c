/*
 * cookie.c — the strict Cookie header parser (see cookie.h). Used for the
 * session cookie and the OIDC flow cookie; civetweb's mg_get_cookie matches
 * a name anywhere in the header (inside another cookie's value too) and
 * takes the first of several, which a hostile sibling site can exploit.
 * Threading: stateless.
 */
#include "portico/cookie.h"

#include <stdbool.h>
#include <string.h>

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 6265 cookie-octet: printable ASCII except space, '"', ',', ';', '\'. */
static bool cookie_octet(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' && c != '\\';
}

/* Checks value [v, v+len) (quotes already stripped); true when well formed. */
static bool value_ok(const char *v, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!cookie_octet((unsigned char)v[i])) return false;
    return true;
}

enum cookie_result cookie_get(const char *header, const char *name, char *out, size_t n)
{
    enum cookie_result res = COOKIE_ABSENT;
    const char *found = NULL;
    size_t found_len = 0;
    size_t name_len = name ? strlen(name) : 0;
    if (out && n) out[0] = '\0';
    if (!header || name_len == 0 || !out || n == 0) return COOKIE_ABSENT;
    const char *p = header;
    while (*p) {
        const char *end = strchr(p, ';');
        if (!end) end = p + strlen(p);
        const char *s = p, *e = end;
        while (s < e && is_ows(*s)) s++;
        while (e > s && is_ows(e[-1])) e--;
        p = *end ? end + 1 : end;
        if ((size_t)(e - s) <= name_len || memcmp(s, name, name_len) != 0 || s[name_len] != '=')
            continue;
        const char *v = s + name_len + 1;
        size_t len = (size_t)(e - v);
        if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
            v++;
            len -= 2;
        }
        if (!value_ok(v, len)) {
            res = COOKIE_INVALID;
            continue;
        }
        if (found && (found_len != len || memcmp(found, v, len) != 0)) return COOKIE_CONFLICT;
        if (!found) {
            found = v;
            found_len = len;
        }
    }
    if (res == COOKIE_INVALID) return found ? COOKIE_CONFLICT : COOKIE_INVALID;
    if (!found) return COOKIE_ABSENT;
    if (found_len >= n) return COOKIE_INVALID;
    memcpy(out, found, found_len);
    out[found_len] = '\0';
    return COOKIE_FOUND;
}
