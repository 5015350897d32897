/*
 * principal.c — names of the credential types and of principals as the
 * audit log writes them (principal.h).
 * Threading: pure.
 */
#include "portico/principal.h"

#include <stdio.h>
#include <string.h>

#include "portico/util.h"

const char *principal_type_name(enum auth_type t)
{
    switch (t) {
    case AUTH_SESSION: return "session";
    case AUTH_API_KEY: return "api_key";
    case AUTH_JWT: return "jwt";
    case AUTH_GATEWAY: return "gateway";
    case AUTH_ANONYMOUS: return "anonymous";
    default: return "none";
    }
}

void principal_audit_name(const struct principal *p, char *out, size_t n)
{
    bool key =
        (p->type == AUTH_API_KEY || p->type == AUTH_SESSION) && (p->key_id[0] || p->file_key);
    if (!key) {
        util_copy(out, n, p->subject);
        return;
    }
    char suffix[64];
    snprintf(suffix, sizeof suffix, " [%s]", p->key_id[0] ? p->key_id : "keys-file");
    size_t sl = strlen(suffix), keep = strlen(p->subject);
    if (n <= sl) {
        if (n) out[0] = '\0';
        return;
    }
    /* A long name is cut (never the id), on a UTF-8 character boundary. */
    if (keep > n - sl - 1) keep = n - sl - 1;
    while (keep > 0 && ((unsigned char)p->subject[keep] & 0xc0) == 0x80) keep--;
    memcpy(out, p->subject, keep);
    memcpy(out + keep, suffix, sl + 1);
}
