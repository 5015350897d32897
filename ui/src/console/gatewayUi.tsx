/* Small gateway pieces shared by the list and the detail panel. */
import type { Gateway } from '../shared/types';
import { parseTime } from '../shared/format';

export const GATEWAY_TYPES: ReadonlyArray<[string, string]> = [
  ['stoa_edge_mcp', 'Edge MCP'],
  ['stoa_sidecar', 'Sidecar'],
  ['stoa_proxy', 'Proxy'],
  ['stoa_shadow', 'Shadow'],
  ['stoa', 'Connect'],
];

export const typeLabel = (t: string) => GATEWAY_TYPES.find(([v]) => v === t)?.[1] ?? t;

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

