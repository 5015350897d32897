/*
 * signin.c — the browser flows that make and end a session with an API key:
 * POST /auth/apikey (sign in) and POST /auth/logout (sign out, with the
 * provider's end-session URL when the session came from OIDC). The OIDC
 * code flow (GET /auth/login, /auth/callback) is in oidc.c.
 *
 * Threading: handlers run concurrently; no shared state of their own.
 */
#define _GNU_SOURCE
#include "portico/signin.h"

#include <cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/apikeys.h"
#include "portico/audit.h"
#include "portico/auth.h"
#include "portico/db.h"
#include "portico/events.h"
#include "portico/http.h"
#include "portico/json.h"
#include "portico/limits.h"
#include "portico/log.h"
#include "portico/oidc.h"
#include "portico/rbac.h"
#include "portico/session.h"
#include "portico/util.h"

/* A name for a rejected key in the audit log that does not reveal it: the
 * visible prefix of a database key, else "apikey:unknown". */
static void failed_subject(const char *key, char *out, size_t n)
{
    bool db_shaped = strncmp(key, "pk_", 3) == 0 && strlen(key) > 11 && key[11] == '_';
    for (int i = 3; db_shaped && i < 11; i++)
        if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9')))
            db_shaped = false;
    if (db_shaped)
        snprintf(out, n, "apikey:%.11s", key);
    else
        util_copy(out, n, "apikey:unknown");
}

int signin_handle_apikey(struct req *r)
{
    char err[JSON_ERR_MAX], key[AUTH_KEY_MAX_LEN + 1], subject[64], cookie[SESSION_SET_COOKIE_MAX];
    char *text = NULL;
    const char *given = NULL;
    struct principal p;
    int rc;
    cJSON *body = http_json_body(r);
    if (!body) return r->status;
    if (json_string(body, "api_key", 1, AUTH_KEY_MAX_LEN, true, &given, err) != 0) {
        rc = http_send_error(r, 400, "invalid_field", "%s", err);
        goto out;
    }
    util_copy(key, sizeof key, given);
    util_trim(key); /* pasted keys often carry a newline */
    if (!key[0]) {
        rc = http_send_error(r, 400, "invalid_field", "api_key: must not be empty");
        goto out;
    }

    int found = apikeys_lookup(key, &p);
    if (found < 0) {
        rc = http_send_db_error(r, -found);
        goto out;
    }
    if (found != 0) {
        failed_subject(key, subject, sizeof subject);
        rc = http_send_unauthorized(r, true, "the API key is invalid, expired or revoked");
        audit_record_auth(r, "sign_in_failed", subject);
        goto out;
    }

    session_drop_by_cookie(http_header(r, "Cookie"));
    r->principal = p;
    int e = session_create(&r->principal, NULL, cookie, sizeof cookie);
    if (e != DB_OK) {
        memset(&r->principal, 0, sizeof r->principal);
        rc = http_send_db_error(r, e);
        goto out;
    }
    cJSON *who = auth_whoami_json(r);
    text = who ? json_print(who) : NULL;
    cJSON_Delete(who);
    if (!text) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    rc = http_send(r, 200, "application/json", text, strlen(text), cookie);
    audit_record_auth(r, "sign_in", NULL);
    log_info("signed in: %s (api key, role %s)", r->principal.subject,
             rbac_role_name(r->principal.role));
out:
    free(text);
    cJSON_Delete(body);
    return rc;
}

int signin_handle_logout(struct req *r)
{
    char cookie[SESSION_SET_COOKIE_MAX], url[SESSION_END_URL_MAX];
    char *id_token = NULL;
    char *text = NULL;
    cJSON *o = NULL;
    int rc;
    url[0] = '\0';
    bool session = r->principal.type == AUTH_SESSION;
    if (session) {
        int e = session_end(r->principal.session_hash, &id_token);
        if (e != DB_OK) {
            rc = http_send_db_error(r, e);
            goto out;
        }
        events_credentials_changed(); /* the session's event streams end now */
        if (id_token) oidc_end_session_url(id_token, url, sizeof url);
    }
    session_clear_cookie(cookie, sizeof cookie);
    o = cJSON_CreateObject();
    if (o) json_add_str_or_null(o, "end_session_url", url[0] ? url : NULL);
    text = o ? json_print(o) : NULL;
    if (!text) {
        rc = http_send_error(r, 500, "internal", "out of memory");
        goto out;
    }
    rc = http_send(r, 200, "application/json", text, strlen(text), cookie);
    if (session) {
        audit_record_auth(r, "sign_out", NULL);
        log_info("signed out: %s", r->principal.subject);
    }
out:
    free(text);
    free(id_token);
    cJSON_Delete(o);
    return rc;
}
