/*
 * demo.c — the demo catalog for `make run` and `portico seed --demo`: about
 * fifty realistic APIs across eight categories, each with tags and a small
 * OpenAPI 3 document, stored through catalog_upsert like any import. A few
 * are deprecated, one internal, one a draft and one hidden, so the portal's
 * visibility rules show; some names exercise literal search ("Discounts
 * 50%_off", "Billing (prod)", /user_profile/{id}).
 * Threading: runs once on the main thread before the server starts.
 */
#include "portico/demo.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portico/catalog.h"
#include "portico/db.h"
#include "portico/log.h"

static const char SQL_COUNT[] = "SELECT COUNT(*) FROM apis";

struct demo_api {
    const char *name, *version, *category, *tags, *status, *audience, *description;
    /* "METHOD /path operationId Summary words|..." */
    const char *ops;
};

#define PUB "published"
#define DEP "deprecated"
#define PUBLIC "public"

static const struct demo_api APIS[] = {
    /* Payments */
    {"Payments API", "3.2.0", "Payments", "cards,sepa,refunds", PUB, PUBLIC,
     "Accept card and SEPA payments, capture authorisations and issue refunds.",
     "GET /payments listPayments List payments|POST /payments createPayment Create a payment|"
     "GET /payments/{id} getPayment Get a payment|POST /payments/{id}/capture capturePayment "
     "Capture an authorised payment|POST /payments/{id}/refunds refundPayment Refund a payment"},
    {"Billing (prod)", "2.0.0", "Payments", "invoices,subscriptions", PUB, PUBLIC,
     "Production billing: invoices, subscriptions and dunning.",
     "GET /invoices listInvoices List invoices|POST /invoices createInvoice Create an invoice|"
     "GET /subscriptions/{id} getSubscription Get a subscription"},
    {"Billing (sandbox)", "2.0.0", "Payments", "invoices,sandbox", PUB, PUBLIC,
     "Sandbox billing for integration tests; no money moves.",
     "GET /invoices listInvoices List sandbox invoices|POST /invoices createInvoice Create a "
     "test invoice"},
    {"Payouts API", "1.4.0", "Payments", "payouts,marketplace", PUB, PUBLIC,
     "Send funds to sellers' bank accounts on a schedule or on demand.",
     "POST /payouts createPayout Create a payout|GET /payouts/{id} getPayout Get a payout|"
     "GET /balances getBalance Read the available balance"},
    {"Fraud Screening", "1.1.0", "Payments", "risk,fraud", PUB, PUBLIC,
     "Score transactions for fraud risk in real time.",
     "POST /screenings screenTransaction Score a transaction|GET /rules listRules List rules"},
    {"Currency Exchange Rates", "1.0.0", "Payments", "fx,rates", PUB, PUBLIC,
     "Mid-market and buy/sell exchange rates for 160 currencies, updated every minute.",
     "GET /rates listRates Latest rates|GET /rates/{base}/{quote} getRate One currency pair|"
     "GET /rates/history getRateHistory Historical rates"},
    {"Legacy Card Gateway", "0.9.3", "Payments", "cards,legacy", DEP, PUBLIC,
     "Deprecated: use the Payments API. Kept for existing card-present terminals.",
     "POST /charge charge Charge a card|POST /void voidCharge Void a charge"},
    /* Identity */
    {"User Profile API", "2.3.0", "Identity", "users,profiles,gdpr", PUB, PUBLIC,
     "Read and update user profiles, preferences and consent records.",
     "GET /user_profile/{id} getUserProfile Read a user profile|PATCH /user_profile/{id} "
     "updateUserProfile Update a user profile|DELETE /user_profile/{id} deleteUserProfile Erase a "
     "user (GDPR)|GET /user_profile/{id}/consents listConsents List consent records"},
    {"OAuth Token Service", "1.8.0", "Identity", "oauth,tokens,security", PUB, PUBLIC,
     "OAuth 2.0 token issuance, introspection and revocation.",
     "POST /token issueToken Issue a token|POST /introspect introspectToken Introspect a token|"
     "POST /revoke revokeToken Revoke a token"},
    {"Guest Users", "1.0.0", "Identity", "users,guests", PUB, PUBLIC,
     "Short-lived guest identities for checkout without an account.",
     "POST /guests createGuest Create a guest|DELETE /guests/{id} deleteGuest Remove a guest"},
    {"Directory Sync", "1.2.0", "Identity", "scim,provisioning", PUB, PUBLIC,
     "SCIM 2.0 provisioning of users and groups from your identity provider.",
     "GET /Users listUsers List users|POST /Users createUser Provision a user|GET /Groups "
     "listGroups List groups"},
    {"Multi-Factor Authentication", "2.0.1", "Identity", "mfa,security,otp", PUB, PUBLIC,
     "Enrol authenticators and verify one-time passwords and push approvals.",
     "POST /factors enrolFactor Enrol a factor|POST /challenges createChallenge Start a "
     "challenge|POST /challenges/{id}/verify verifyChallenge Verify a challenge"},
    {"Employee Directory", "1.0.0", "Identity", "hr,internal", PUB, "internal",
     "Internal: staff directory with teams, managers and office locations.",
     "GET /employees listEmployees List employees|GET /employees/{id} getEmployee Get an "
     "employee|GET /teams listTeams List teams"},
    /* Logistics */
    {"Shipment Tracking", "4.0.0", "Logistics", "tracking,parcels", PUB, PUBLIC,
     "Track parcels across 900 carriers with normalised status events.",
     "GET /shipments/{trackingNumber} getShipment Track a shipment|GET "
     "/shipments/{trackingNumber}/events listShipmentEvents Tracking events|POST /webhooks "
     "createTrackingWebhook Subscribe to updates"},
    {"Shipping Rates", "2.1.0", "Logistics", "rates,carriers", PUB, PUBLIC,
     "Compare carrier rates and delivery estimates for a parcel.",
     "POST /quotes createQuote Quote a shipment|GET /carriers listCarriers List carriers"},
    {"Label Printing", "1.3.0", "Logistics", "labels,carriers", PUB, PUBLIC,
     "Buy postage and print carrier labels as PDF or ZPL.",
     "POST /labels createLabel Buy a label|GET /labels/{id} getLabel Download a label|DELETE "
     "/labels/{id} voidLabel Void a label"},
    {"Warehouse Inventory", "3.0.0", "Logistics", "inventory,stock", PUB, PUBLIC,
     "Stock levels, reservations and transfers across warehouses.",
     "GET /stock listStock Stock levels|POST /reservations reserveStock Reserve stock|POST "
     "/transfers createTransfer Move stock between warehouses"},
    {"Fleet Telematics", "1.0.0", "Logistics", "fleet,iot,gps", PUB, PUBLIC,
     "Vehicle positions, fuel and driver-behaviour events from fleet devices.",
     "GET /vehicles listVehicles List vehicles|GET /vehicles/{id}/positions listPositions GPS "
     "positions"},
    {"Address Validation", "2.2.0", "Logistics", "addresses,geocoding", PUB, PUBLIC,
     "Validate, standardise and geocode postal addresses in 240 countries.",
     "POST /validate validateAddress Validate an address|GET /autocomplete autocompleteAddress "
     "Autocomplete an address"},
    /* Weather */
    {"Weather Forecast", "5.1.0", "Weather", "forecast,meteo", PUB, PUBLIC,
     "Hourly and daily forecasts for any coordinate, up to 16 days ahead.",
     "GET /forecast/hourly getHourlyForecast Hourly forecast|GET /forecast/daily "
     "getDailyForecast Daily forecast"},
    {"Weather Alerts", "1.2.0", "Weather", "alerts,meteo", PUB, PUBLIC,
     "Official severe-weather warnings as they are issued.",
     "GET /alerts listAlerts Active alerts|POST /subscriptions subscribeAlerts Subscribe to an "
     "area"},
    {"Historical Climate", "1.0.0", "Weather", "climate,history", PUB, PUBLIC,
     "Daily observations since 1950 from 40,000 stations.",
     "GET /observations listObservations Observations|GET /stations listStations Stations"},
    {"Air Quality Index", "2.0.0", "Weather", "air-quality,health", PUB, PUBLIC,
     "Current air quality, pollen and UV index by location.",
     "GET /aqi getAirQuality Current air quality|GET /pollen getPollen Pollen counts"},
    {"Marine Conditions", "1.1.0", "Weather", "marine,tides", PUB, PUBLIC,
     "Tides, waves and sea temperature for coastal locations.",
     "GET /tides getTides Tide times|GET /waves getWaves Wave forecast"},
    /* Commerce */
    {"Product Catalog", "3.4.0", "Commerce", "products,search", PUB, PUBLIC,
     "Products, variants, prices and full-text product search.",
     "GET /products listProducts List products|GET /products/{sku} getProduct Get a product|GET "
     "/search searchProducts Search products"},
    {"Orders API", "2.0.0", "Commerce", "orders,checkout", PUB, PUBLIC,
     "Create and manage orders from cart to delivery.",
     "POST /orders createOrder Place an order|GET /orders/{id} getOrder Get an order|POST "
     "/orders/{id}/cancel cancelOrder Cancel an order"},
    {"Discounts 50%_off", "1.0.0", "Commerce", "promotions,coupons", PUB, PUBLIC,
     "Seasonal promotions: percentage and fixed-amount coupons (e.g. 50% off).",
     "POST /coupons/validate validateCoupon Validate a coupon|GET /promotions listPromotions "
     "Active promotions"},
    {"Shopping Cart", "1.5.0", "Commerce", "cart,checkout", PUB, PUBLIC,
     "Server-side carts with price calculation and tax.",
     "POST /carts createCart Create a cart|POST /carts/{id}/items addCartItem Add an item|GET "
     "/carts/{id} getCart Get a cart"},
    {"Product Reviews", "1.0.0", "Commerce", "reviews,ugc", PUB, PUBLIC,
     "Collect and moderate product ratings and reviews.",
     "GET /products/{sku}/reviews listReviews List reviews|POST /products/{sku}/reviews "
     "createReview Write a review"},
    {"Loyalty Points", "0.8.0", "Commerce", "loyalty,rewards", "draft", PUBLIC,
     "Draft: earn and burn loyalty points (not yet released).",
     "GET /members/{id}/points getPoints Points balance|POST /members/{id}/redeem redeemPoints "
     "Redeem points"},
    /* Communications */
    {"SMS Messaging", "2.4.0", "Communications", "sms,messaging", PUB, PUBLIC,
     "Send and receive SMS in 190 countries with delivery receipts.",
     "POST /messages sendSms Send an SMS|GET /messages/{id} getSms Message status"},
    {"Email Delivery", "3.0.0", "Communications", "email,templates", PUB, PUBLIC,
     "Transactional email with templates, tracking and bounce handling.",
     "POST /mail/send sendEmail Send an email|GET /templates listTemplates List templates|GET "
     "/bounces listBounces List bounces"},
    {"Push Notifications", "1.6.0", "Communications", "push,mobile", PUB, PUBLIC,
     "Push to iOS, Android and web from one API.",
     "POST /notifications sendPush Send a notification|POST /devices registerDevice Register a "
     "device"},
    {"Voice Calls", "1.0.0", "Communications", "voice,telephony", PUB, PUBLIC,
     "Programmable voice: outbound calls, IVR and call recording.",
     "POST /calls createCall Start a call|GET /recordings listRecordings List recordings"},
    {"Fax Gateway", "1.0.0", "Communications", "fax,legacy", DEP, PUBLIC,
     "Deprecated: send faxes as PDF. Scheduled for removal.", "POST /faxes sendFax Send a fax"},
    {"Chat Widget", "2.0.0", "Communications", "chat,support", PUB, PUBLIC,
     "Embeddable customer-support chat with conversation history.",
     "GET /conversations listConversations List conversations|POST /conversations/{id}/messages "
     "postMessage Reply in a conversation"},
    /* Data & Analytics */
    {"Event Ingestion", "1.9.0", "Data & Analytics", "events,streaming", PUB, PUBLIC,
     "Ingest product analytics events in batches of up to 1,000.",
     "POST /events/batch ingestEvents Send a batch of events|GET /schemas listSchemas Event "
     "schemas"},
    {"Reporting API", "2.2.0", "Data & Analytics", "reports,bi", PUB, PUBLIC,
     "Run saved reports and export them as CSV or Parquet.",
     "GET /reports listReports List reports|POST /reports/{id}/runs runReport Run a report|GET "
     "/exports/{id} getExport Download an export"},
    {"Geo IP Lookup", "1.3.0", "Data & Analytics", "geoip,enrichment", PUB, PUBLIC,
     "Country, city and ASN for an IP address.", "GET /lookup/{ip} lookupIp Look up an IP"},
    {"Company Enrichment", "1.0.0", "Data & Analytics", "enrichment,b2b", PUB, PUBLIC,
     "Firmographics for a domain: size, industry, location.",
     "GET /companies/{domain} getCompany Enrich a domain"},
    {"Feature Flags", "1.1.0", "Data & Analytics", "experiments,flags", PUB, PUBLIC,
     "Evaluate feature flags and A/B experiment assignments.",
     "POST /evaluate evaluateFlags Evaluate flags|GET /experiments listExperiments List "
     "experiments"},
    /* Developer Tools */
    {"Webhooks Relay", "1.0.0", "Developer Tools", "webhooks,events", PUB, PUBLIC,
     "Receive, retry and replay webhooks with signatures.",
     "GET /endpoints listEndpoints List endpoints|POST /deliveries/{id}/replay replayDelivery "
     "Replay a delivery"},
    {"Status Page", "1.0.0", "Developer Tools", "status,incidents", PUB, PUBLIC,
     "Platform status, incidents and scheduled maintenance.",
     "GET /status getStatus Current status|GET /incidents listIncidents Incidents"},
    {"Sandbox Accounts", "1.0.0", "Developer Tools", "sandbox,testing", PUB, PUBLIC,
     "Create throwaway sandbox tenants for integration tests.",
     "POST /sandboxes createSandbox Create a sandbox|DELETE /sandboxes/{id} deleteSandbox Delete "
     "a sandbox"},
    {"API Usage Metrics", "1.2.0", "Developer Tools", "metrics,quotas", PUB, PUBLIC,
     "Your API call volumes, latencies and quota consumption.",
     "GET /usage getUsage Usage by day|GET /quotas listQuotas Quotas"},
    {"CLI Downloads", "1.0.0", "Developer Tools", "cli,tools", PUB, PUBLIC,
     "Release metadata for the command-line tool (see --help for usage).",
     "GET /releases listReleases List releases|GET /releases/latest getLatestRelease Latest "
     "release"},
    {"Schema Registry [v2]", "2.0.0", "Developer Tools", "schemas,avro", PUB, PUBLIC,
     "Versioned Avro, JSON Schema and Protobuf schemas with compatibility checks.",
     "GET /subjects listSubjects List subjects|POST /subjects/{subject}/versions "
     "registerSchema Register a schema"},
    {"Internal Debug Console", "0.1.0", "Developer Tools", "debug", PUB, PUBLIC,
     "Hidden from the portal: for operators only.", "GET /debug/threads listThreads Thread dump"},
};

/* Builds {openapi, info, paths} from the compact ops string; caller frees. */
static cJSON *demo_doc(const struct demo_api *d)
{
    cJSON *doc = cJSON_CreateObject();
    if (!doc) return NULL;
    cJSON_AddStringToObject(doc, "openapi", "3.0.3");
    cJSON *info = cJSON_AddObjectToObject(doc, "info");
    cJSON_AddStringToObject(info, "title", d->name);
    cJSON_AddStringToObject(info, "version", d->version);
    cJSON_AddStringToObject(info, "description", d->description);
    cJSON *paths = cJSON_AddObjectToObject(doc, "paths");
    const char *p = d->ops;
    while (p && *p) {
        const char *end = strchr(p, '|');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char line[512], method[16], path[200], op_id[100];
        int used = 0;
        if (n >= sizeof line) break;
        memcpy(line, p, n);
        line[n] = '\0';
        if (sscanf(line, "%15s %199s %99s %n", method, path, op_id, &used) >= 3) {
            for (char *c = method; *c; c++)
                if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
            cJSON *item = cJSON_GetObjectItemCaseSensitive(paths, path);
            if (!item) item = cJSON_AddObjectToObject(paths, path);
            cJSON *op = cJSON_AddObjectToObject(item, method);
            cJSON_AddStringToObject(op, "operationId", op_id);
            cJSON_AddStringToObject(op, "summary", line + used);
            cJSON *resp = cJSON_AddObjectToObject(op, "responses");
            cJSON *ok = cJSON_AddObjectToObject(resp, "200");
            cJSON_AddStringToObject(ok, "description", "OK");
        }
        p = end ? end + 1 : NULL;
    }
    return doc;
}

/* The management-shape body for one demo API; caller frees. */
static cJSON *demo_body(const struct demo_api *d, bool hidden)
{
    cJSON *b = cJSON_CreateObject();
    if (!b) return NULL;
    cJSON_AddStringToObject(b, "name", d->name);
    cJSON_AddStringToObject(b, "version", d->version);
    cJSON_AddStringToObject(b, "description", d->description);
    cJSON_AddStringToObject(b, "category", d->category);
    cJSON_AddStringToObject(b, "status", d->status);
    cJSON_AddStringToObject(b, "audience", d->audience);
    cJSON_AddBoolToObject(b, "portal_visible", !hidden);
    cJSON_AddStringToObject(b, "owner", "platform-team");
    cJSON *tags = cJSON_AddArrayToObject(b, "tags");
    char buf[256];
    snprintf(buf, sizeof buf, "%s", d->tags);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(tags, cJSON_CreateString(t));
    cJSON_AddItemToObject(b, "openapi", demo_doc(d));
    return b;
}

int demo_seed(struct db *db)
{
    struct db_result *res = NULL;
    enum db_err e = db_query(db, SQL_COUNT, DB_NOARGS, &res);
    if (e != DB_OK) {
        log_error("demo: cannot read the catalog: %s", db_err_name(e));
        return -1;
    }
    long long existing = db_get_int(res, 0, 0);
    db_result_free(res);
    if (existing > 0) return 0;
    int created = 0;
    for (size_t i = 0; i < sizeof APIS / sizeof APIS[0]; i++) {
        char err[256];
        bool hidden = strcmp(APIS[i].name, "Internal Debug Console") == 0;
        cJSON *body = demo_body(&APIS[i], hidden);
        int rc = body ? catalog_upsert(db, body, "default", NULL, err) : -1;
        cJSON_Delete(body);
        if (rc != 0) {
            log_error("demo: cannot seed %s: %s", APIS[i].name,
                      rc < 0 ? err : db_err_name((enum db_err)rc));
            return -1;
        }
        created++;
    }
    log_info("demo: seeded %d APIs", created);
    return created;
}
