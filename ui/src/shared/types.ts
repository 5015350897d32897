/*
 * Shapes of the Portico HTTP API as the UI consumes them (DESIGN.md §6–§7).
 * Fields the server may leave out or send as null are typed that way, so the
 * components are forced to handle them.
 */

export type Role = 'cpi-admin' | 'tenant-admin' | 'devops' | 'viewer';
export const ROLES: readonly Role[] = ['cpi-admin', 'tenant-admin', 'devops', 'viewer'];

export interface Whoami {
  subject: string;
  name?: string | null;
  email?: string | null;
  auth_type: 'session' | 'api_key' | 'jwt' | 'anonymous' | string;
  role: Role | string;
  tenant_id?: string | null;
  scopes?: string[];
  csrf_token?: string | null;
}

export interface AuthConfig {
  oidc_enabled: boolean;
}

export interface LogoutResult {
  end_session_url: string | null;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
}

export type ApiStatus = 'draft' | 'published' | 'deprecated';
export type Audience = 'public' | 'internal';

export interface ApiSummary {
  id: string;
  tenant_id: string;
  name: string;
  version: string;
  description?: string | null;
  category?: string | null;
  tags?: string[] | null;
  status: ApiStatus | string;
  portal_visible: boolean;
  audience: Audience | string;
  created_at: string;
  updated_at: string;
}

export interface Operation {
  method: string;
  path: string;
  operation_id?: string | null;
  summary?: string | null;
  tags?: string[] | null;
}

export interface ApiDetail extends ApiSummary {
  operations?: Operation[] | null;
  /* The OpenAPI document: a JSON object, or a string holding JSON or YAML. */
  openapi?: unknown;
  subscription?: SubscriptionMode | null;
  plans?: Plan[] | null;
}

export interface Facets {
  categories: Record<string, number>;
  tags: Record<string, number>;
}

export interface PortalPage extends Page<ApiSummary> {
  facets?: Facets;
}

export interface ApiInput {
  name: string;
  version: string;
  description: string;
  category: string;
  tags: string[];
  status: ApiStatus;
  portal_visible: boolean;
  audience: Audience;
  openapi?: unknown;
  tenant_id?: string;
  subscription?: SubscriptionMode;
  plans?: Plan[] | null;
}

export type GatewayStatus = 'online' | 'offline' | 'degraded' | 'maintenance';
export const GATEWAY_STATUSES: readonly GatewayStatus[] = ['online', 'degraded', 'offline', 'maintenance'];

export interface HealthDetails {
  uptime_seconds?: number | null;
  routes_count?: number | null;
  policies_count?: number | null;
  requests_total?: number | null;
  error_rate?: number | null;
  registered_at?: string | null;
}

export interface Gateway {
  id: string;
  name: string;
  hostname: string;
  type: string;
  mode: string;
  environment: string;
  version: string;
  capabilities?: string[] | null;
  admin_url?: string | null;
  tenant_id?: string | null;
  status: GatewayStatus | string;
  live: boolean;
  last_heartbeat_at?: string | null;
  registered_at?: string | null;
  health_details?: HealthDetails | null;
  status_reason?: string | null;
}

export interface Transition {
  from: string | null;
  to: string;
  reason?: string | null;
  at: string;
}

/* The server's status rule thresholds (gateways.offline_after_seconds, gateways.degraded_error_rate). */
export interface GatewayThresholds {
  offline_after_seconds: number;
  degraded_error_rate: number;
}

export interface GatewayDetail extends Gateway {
  thresholds?: GatewayThresholds;
  seconds_since_heartbeat?: number | null;
  transitions?: Transition[] | null;
}

export interface GatewayCounts {
  online: number;
  offline: number;
  degraded: number;
  maintenance: number;
}

export interface GatewayPage extends Page<Gateway> {
  now?: string;
  counts?: GatewayCounts;
  thresholds?: GatewayThresholds;
}

/* Gateway history (GET /v1/gateways/{id}/history, GET /v1/gateways/history). */
export interface HistoryPoint {
  at: string;
  requests_per_min: number | null;
  error_rate: number | null;
  error_rate_max: number | null;
  /* null = no heartbeat in this step (a gap) */
  status: GatewayStatus | null;
  restarts: number | null;
  routes_count?: number | null;
  policies_count?: number | null;
}

export interface GatewayHistory {
  step_seconds: number;
  from: string;
  to: string;
  degraded_error_rate: number;
  points: HistoryPoint[];
}

/* data of a gateway.history event: this replica's view of the current minute */
export interface HistoryEvent {
  id: string;
  step_seconds: number;
  point: HistoryPoint;
}

export interface FleetSlot {
  at: string;
  status: GatewayStatus | null;
  online: number;
  degraded: number;
  offline: number;
  maintenance: number;
}

export interface FleetHistory {
  from: string;
  to: string;
  step_seconds: number;
  summary: {
    gateways: number;
    gateway_minutes: number;
    share: Record<'online' | 'degraded' | 'offline' | 'maintenance', number | null>;
  };
  gateways: { id: string; slots: FleetSlot[] }[];
}

export type SyncStatus = 'pending' | 'syncing' | 'synced' | 'drifted' | 'error';
export const SYNC_STATUSES: readonly SyncStatus[] = ['pending', 'syncing', 'synced', 'drifted', 'error'];

export interface Deployment {
  id: string;
  api_id: string;
  api_name?: string | null;
  api_version?: string | null;
  gateway_id: string;
  gateway_name?: string | null;
  environment?: string | null;
  target_environment?: string | null;
  tenant_id?: string | null;
  desired_state?: string | null;
  sync_status: SyncStatus | string;
  sync_attempts?: number | null;
  last_error?: string | null;
  expected_hash?: string | null;
  applied_hash?: string | null;
  last_reported_at?: string | null;
  synced_at?: string | null;
  created_at: string;
  updated_at: string;
}

export type DeploymentCounts = Record<SyncStatus, number>;

export interface DeploymentPage extends Page<Deployment> {
  counts?: DeploymentCounts;
}

export interface DeploymentChange {
  from: SyncStatus | string | null;
  to: SyncStatus | string;
  expected_hash?: string | null;
  applied_hash?: string | null;
  message: string;
  actor: string;
  at: string;
}

export interface DeploymentDetail extends Deployment {
  history: DeploymentChange[];
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  role: Role | string;
  tenant_id?: string | null;
  created_at: string;
  expires_at?: string | null;
  last_used_at?: string | null;
  revoked: boolean;
}

export interface CreatedApiKey extends ApiKey {
  key: string;
}

export interface ApiKeyInput {
  name: string;
  role: Role;
  tenant_id?: string;
  expires_at?: string;
}

export interface AuditEvent {
  kind: 'request' | 'auth' | string;
  at: string;
  request_id?: string | null;
  method?: string | null;
  path?: string | null;
  query?: string | null;
  status?: number | null;
  duration_ms?: number | null;
  principal?: string | null;
  auth_type?: string | null;
  role?: string | null;
  remote_addr?: string | null;
  action?: string | null;
  /** Requests this record stands for (> 1: a summary of unauthenticated 401/404s). */
  count?: number;
}

/* Self-service: applications and subscriptions (docs/subscriptions.md). */
export type SubscriptionMode = 'auto' | 'approval' | 'closed';
export type SubscriptionStatus = 'pending' | 'active' | 'rejected' | 'revoked' | 'cancelled';
export const SUBSCRIPTION_STATUSES: readonly SubscriptionStatus[] = ['pending', 'active', 'rejected', 'revoked', 'cancelled'];

export interface Plan {
  name: string;
  requests_per_minute: number;
}

export interface Application {
  id: string;
  name: string;
  description: string;
  owner: string;
  tenant_id: string;
  created_at: string;
  updated_at: string;
}

export interface ApplicationInput {
  name?: string;
  description?: string;
}

export interface Subscription {
  id: string;
  application_id: string;
  application_name: string;
  api_id: string;
  api_name: string;
  api_version: string;
  api_tenant_id: string;
  plan: string;
  requests_per_minute: number | null;
  status: SubscriptionStatus | string;
  reason: string;
  key_prefix: string | null;
  key_created_at: string | null;
  owner: string;
  owner_tenant_id: string;
  requested_by: string;
  decided_by: string;
  created_at: string;
  updated_at: string;
  approved_at: string | null;
  decided_at: string | null;
  cancelled_at: string | null;
}

export interface SubscriptionWithKey extends Subscription {
  key?: string;
}

export type SubscriptionCounts = Record<SubscriptionStatus, number>;

export interface SubscriptionPage extends Page<Subscription> {
  counts: SubscriptionCounts;
}
