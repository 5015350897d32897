/* Small gateway pieces shared by the list and the detail panel. */
import type { Gateway, GatewayThresholds } from '../shared/types';
import { parseTime } from '../shared/format';

export const GATEWAY_TYPES: ReadonlyArray<[string, string]> = [
  ['stoa_edge_mcp', 'Edge MCP'],
  ['stoa_sidecar', 'Sidecar'],
  ['stoa_proxy', 'Proxy'],
  ['stoa_shadow', 'Shadow'],
  ['stoa', 'Connect'],
];

/* A label for any type a registrar sends (webmethods, kong, apigee…): the
 * known ones by name, others as sent with '_'/'-' as spaces, never blank. */
export function typeLabel(t: string | null | undefined): string {
  const known = GATEWAY_TYPES.find(([v]) => v === t)?.[1];
  if (known) return known;
  const plain = (t ?? '').replace(/[_-]+/g, ' ').trim();
  return plain ? plain.charAt(0).toUpperCase() + plain.slice(1) : 'Unknown type';
}

/* The type filter's options: the known types, then every other type seen. */
export function typeOptions(seen: readonly string[]): Array<[string, string]> {
  const extra = [...new Set(seen)].filter((t) => t && !GATEWAY_TYPES.some(([v]) => v === t)).sort();
  return [...GATEWAY_TYPES, ...extra.map((t): [string, string] => [t, typeLabel(t)])];
}

/* "shared" for a gateway without a tenant (visible to every tenant). */
export const tenantLabel = (t: string | null | undefined) => (t ? t : 'shared');

/* Live by the server's rule: its last answer, and no longer than its offline
 * window after the last heartbeat (so the dot greys on time between updates). */
export function isLive(g: Pick<Gateway, 'live'>, age: number | null, thresholds: GatewayThresholds | undefined): boolean {
  if (!g.live) return false;
  if (age === null || !thresholds) return g.live;
  return age <= thresholds.offline_after_seconds;
}

/* Seconds since the last heartbeat by the server's clock. */
export function heartbeatAge(g: Pick<Gateway, 'last_heartbeat_at'>, nowMs: number, offsetMs: number): number | null {
  const t = parseTime(g.last_heartbeat_at);
  if (t === null) return null;
  return Math.max(0, Math.floor((nowMs + offsetMs - t) / 1000));
}

export function LiveDot({ live }: { live: boolean }) {
  return (
    <span class={`live-dot${live ? ' live-dot--on' : ''}`} data-testid="live-dot" data-live={live ? 'true' : 'false'}>
      <span class="sr-only">{live ? 'Live' : 'Not live'}</span>
    </span>
  );
}

