/*
 * limits.h — every size, count and time bound Portico enforces, in one place.
 * Threading: constants only.
 */
#ifndef PORTICO_LIMITS_H
#define PORTICO_LIMITS_H

/* HTTP */
#define HTTP_PATH_MAX 2048          /* decoded request path */
#define HTTP_QUERY_VALUE_MAX 1024   /* one decoded query parameter */
#define HTTP_ROUTE_PARAMS_MAX 4     /* {id} captures per route */
#define HTTP_ROUTE_PARAM_MAX 128    /* one capture */
#define HTTP_HEADER_MAX_BYTES 16384 /* civetweb max_request_size (headers) */
#define HTTP_REQUEST_TIMEOUT_MS 30000
#define HTTP_KEEPALIVE_TIMEOUT_MS 5000
#define HTTP_STOP_POKE_MS 10              /* shutdown wakes civetweb's listener this often ... */
#define HTTP_STOP_POKES 300               /* ... at most this many times (3 s) */
#define ASSETS_ONE_WRITE_MAX (256 * 1024) /* larger UI files: head and body in two writes */
#define HTTP_JSON_MAX_DEPTH 64            /* nesting accepted in request bodies */

/* Config */
#define CONFIG_FILE_MAX_BYTES (1024 * 1024)
#define CONFIG_THREADS_MIN 4
#define CONFIG_THREADS_MAX 1024
#define CONFIG_BODY_MIN 1024
#define CONFIG_BODY_MAX (64L * 1024 * 1024)

/* Database */
#define DB_BUSY_TIMEOUT_MS 5000
#define DB_PG_CONNECT_TIMEOUT_S 3
#define DB_PG_STATEMENT_TIMEOUT_MS 10000
#define DB_PARAMS_MAX 32
#define DB_SQLITE_CACHE_KIB 512 /* page cache per connection (one per thread) */
#define DB_WHERE_SQL_MAX 65536  /* text of one built query (db_where) */

/* Paging */
#define PAGE_SIZE_DEFAULT 20
#define PAGE_SIZE_MAX 100
#define PAGE_MAX 1000000

/* Auth */
#define AUTH_KEY_MIN_LEN 16
#define AUTH_KEY_MAX_LEN 256
#define AUTH_NAME_MAX 200
#define AUTH_TENANT_MAX 63
#define SESSION_TOKEN_BYTES 32
#define SESSION_SECRET_MIN 32

/* OIDC */
#define OIDC_FLOW_TTL_S 600     /* portico_oidc cookie and state lifetime */
#define OIDC_RETURN_TO_MAX 1024 /* bytes of a return_to path */
#define OIDC_METADATA_TTL_S 600 /* discovery and JWKS are refreshed after this */
#define OIDC_KEYS_STALE_MAX_S                                                                      \
    3600                      /* stale keys kept this long past the TTL when the provider is down */
#define OIDC_RETRY_S 2        /* discovery retries while the provider is unreachable */
#define OIDC_KID_REFRESH_S 10 /* an unknown kid refreshes the JWKS at most this often */
#define OIDC_FETCH_MAX_BYTES (1024 * 1024) /* discovery, JWKS and token responses */
#define OIDC_ROLE_MAP_MAX 64               /* oidc.role_map pairs */

/* Catalog */
#define CATALOG_NAME_MAX 200
#define CATALOG_VERSION_MAX 50
#define CATALOG_DESCRIPTION_MAX 5000
#define CATALOG_CATEGORY_MAX 100
#define CATALOG_TAGS_MAX 20
#define CATALOG_TAG_MAX 50
#define CATALOG_OPERATIONS_MAX 2000
#define SEARCH_QUERY_MAX 200 /* characters (UTF-8 code points) */
#define SEARCH_WORDS_MAX 16
#define CATALOG_TAG_FILTERS_MAX 8 /* tag= filters in one catalog query */
#define SEARCH_CACHE_QUERIES 64   /* query texts whose exact matches the index keeps */
#define SEARCH_CACHE_RESULTS 64   /* search results (total, facets, first entries) kept */
#define SEARCH_CACHE_TOP 100      /* entries in order kept per cached result */

/* Gateways */
#define GATEWAY_HOSTNAME_MAX 253
#define GATEWAY_ENV_MAX 63
#define GATEWAY_FIELD_MAX 256
#define GATEWAY_CAPABILITIES_MAX 32
#define GATEWAY_TRANSITIONS_MAX 50
#define EVENTS_KEEPALIVE_S 15
#define GATEWAY_VERSION_MAX 100
#define GATEWAY_URL_MAX 2048
#define GATEWAY_MODE_MAX 32           /* a mode as sent, before normalisation */
#define GATEWAY_NAME_MAX 330          /* hostname + mode + environment + separators */
#define GATEWAY_CONFIG_ITEMS_MAX 1000 /* pending deployments/policies per /config */
#define EVENTS_RING 1024              /* events kept for streams that lag */
#define EVENTS_NOTIFY_MAX 7900        /* NOTIFY payloads stay below PostgreSQL's 8000 bytes */
#define EVENTS_RECHECK_S 5            /* a stream re-checks its credential at least this often */
#define EVENTS_OWNERS_MAX 1024        /* callers with open streams (>= max_event_streams) */
#define EVENTS_OWNER_ID_MAX 400       /* bytes of a stream owner's identity */
/* Failed gateway calls: one warning per gateway name or remote address per
 * window, remembered in a fixed table (the oldest entry is reused). */
#define GATEWAY_FAILURE_LOG_WINDOW_S 60
#define GATEWAY_FAILURE_LOG_SLOTS 256

/* Gateway history (gateway_history.c) */
#define GATEWAY_HISTORY_POINTS_MAX 1440         /* points in one /history answer */
#define GATEWAY_HISTORY_FLEET_IDS_MAX 100       /* ids= of GET /v1/gateways/history */
#define GATEWAY_HISTORY_KEEP_MINUTES_H 48LL     /* minute rows older than this become hourly */
#define GATEWAY_HISTORY_FLUSH_MS 5000           /* the writer's period */
#define GATEWAY_HISTORY_MAINTAIN_MS 300000      /* folding into hours and pruning */
#define GATEWAY_HISTORY_WRITE_BATCH 500         /* rows per write transaction */
#define GATEWAY_HISTORY_FOLD_WINDOW_MS 600000LL /* minute rows folded per transaction (by age) */
#define GATEWAY_HISTORY_FOLD_WINDOWS 36         /* windows folded per maintenance pass */
#define GATEWAY_HISTORY_RETRY_MAX 200000        /* rows kept while the database is unavailable */

/* Deployments */
#define DEPLOY_HASH_MAX 128        /* bytes of a content hash a gateway reports */
#define DEPLOY_MESSAGE_MAX 1000    /* characters of a gateway's error message */
#define DEPLOY_HISTORY_MAX 100     /* status changes in GET /v1/deployments/{id} */
#define DEPLOY_RECONCILE_BATCH 500 /* deployments re-hashed per pass after API edits */
#define DEPLOY_REPORT_RETRIES 5    /* conditional updates retried under concurrent changes */

/* Readiness */
#define READY_RECHECK_S 5

/* Audit */
#define AUDIT_BATCH_MAX 256              /* events per insert transaction */
#define AUDIT_PATH_MAX 1024              /* bytes of the path kept in an event */
#define AUDIT_QUERY_MAX 1024             /* bytes of the redacted query kept */
#define AUDIT_USER_AGENT_MAX 256         /* bytes of User-Agent kept */
#define AUDIT_BACKOFF_MIN_MS 100         /* retry delay after a failed write ... */
#define AUDIT_BACKOFF_MAX_MS 2000        /* ... doubling up to this */
#define AUDIT_DRAIN_TIMEOUT_MS 10000     /* shutdown keeps retrying this long */
#define AUDIT_FULL_LOG_INTERVAL_MS 10000 /* "audit buffer full" at most this often */
#define AUDIT_PURGE_INTERVAL_MS 3600000  /* retention purge period */
#define AUDIT_EXPORT_PAGE 500            /* rows per query while exporting */
#define AUDIT_FILTER_MAX 256             /* bytes of a principal / path filter */
#define AUDIT_LIMITER_ADDRS 1024 /* remote addresses with unauthenticated 401/404 summaries */
#define AUDIT_LIMITER_BURST 10   /* recorded one by one per address and minute before summarising */
#define AUDIT_LIMITER_FLUSH_MS 5000 /* the writer writes finished minutes' summaries this often */

/* Metrics */
#define METRICS_ROUTES_MAX 128 /* route table slots with their own series */

/* Self-service: applications and subscriptions */
#define APP_NAME_MAX 100         /* characters of an application name */
#define APP_DESCRIPTION_MAX 2000 /* characters of an application description */
#define APPS_PER_OWNER_MAX 100   /* applications one subject may own */
#define SUB_PLANS_MAX 20         /* plans one API may offer */
#define SUB_PLAN_NAME_MAX 64     /* characters of a plan name */
#define SUB_RPM_MAX 100000000    /* requests_per_minute upper bound */
#define SUB_REASON_MAX 500       /* characters of a reject / revoke reason */
#define SUB_CONFIG_MAX 100000    /* active subscriptions in one gateway config */

#endif
