/*
 * The gateway list's view of the last 24 hours (GET /v1/gateways/history):
 * a fleet summary (share of gateway-minutes online / degraded / offline /
 * maintenance, as text and a bar) and a small status strip per gateway row
 * (one cell per hour; the status with the most minutes).  Refetched once a
 * minute and when the rows on the page change, never on every event.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, isAbortError } from '../shared/api';
import type { FleetHistory, FleetSlot } from '../shared/types';
import { formatClock, titleCase } from '../shared/format';

const REFRESH_MS = 60_000;
const STATUSES = ['online', 'degraded', 'offline', 'maintenance'] as const;

export function useFleetHistory(ids: readonly string[]): FleetHistory | undefined {
  const key = ids.join(',');
  const [data, setData] = useState<FleetHistory | undefined>(undefined);
  useEffect(() => {
    let ac: AbortController | null = null;
    const load = () => {
      ac?.abort();
      ac = new AbortController();
      const signal = ac.signal;
      api.gateways.fleetHistory(key ? key.split(',') : [], signal).then(
        (d) => {
          if (!signal.aborted) setData(d);
        },
        (e: unknown) => {
          if (!isAbortError(e)) setData((d) => d); // keep the last good answer
        },
      );
    };
    load();
    const t = setInterval(() => {
      if (!document.hidden) load();
    }, REFRESH_MS);
    return () => {
      clearInterval(t);
      ac?.abort();
    };
  }, [key]);
  return data;
}

const pct = (v: number | null | undefined) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : '—');

export function FleetSummary({ fleet }: { fleet: FleetHistory | undefined }) {
  if (!fleet || !fleet.summary.gateway_minutes) return null;
  const share = fleet.summary.share;
  let at = 0;
  return (
    <div class="fleet" data-testid="fleet-summary">
      <p class="fleet__title">Last 24 hours</p>
      <svg class="fleet__bar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true">
        {STATUSES.map((s) => {
          const w = (share[s] ?? 0) * 100;
          const r = <rect key={s} class={`band__cell band__cell--${s}`} x={at} y={0} width={w} height={6} />;
          at += w;
          return r;
        })}
      </svg>
      <ul class="fleet__shares small">
        {STATUSES.map((s) => (
          <li key={s} data-testid={`fleet-share-${s}`}>
            <span class={`fleet__key band__key--${s}`} aria-hidden="true" />
            {titleCase(s)} {pct(share[s])}
          </li>
        ))}
      </ul>
    </div>
  );
}

function slotTitle(s: FleetSlot): string {
  const parts = STATUSES.filter((k) => s[k] > 0).map((k) => `${titleCase(k)} ${s[k]} min`);
  return `${formatClock(s.at)}: ${parts.length ? parts.join(', ') : 'not registered yet'}`;
}

export function StatusStrip({ slots }: { slots: FleetSlot[] | undefined }) {
  if (!slots) return <span class="muted small">—</span>;
  const hours = new Map<string, number>();
  for (const s of slots) if (s.status) hours.set(s.status, (hours.get(s.status) ?? 0) + 1);
  const label = `Last 24 hours: ${[...hours.entries()].map(([k, v]) => `${titleCase(k)} ${v} h`).join(', ') || 'no data'}`;
  const w = 4;
  return (
    <svg class="strip" viewBox={`0 0 ${slots.length * w} 12`} role="img" aria-label={label} data-testid="status-strip" data-slots={slots.length}>
      {slots.map((s, i) => (
        <rect
          key={s.at}
          class={`band__cell band__cell--${s.status ?? 'none'}`}
          x={i * w}
          y={s.status === 'degraded' || s.status === 'offline' ? 0 : s.status ? 3 : 5}
          width={w - 0.6}
          height={s.status === 'degraded' || s.status === 'offline' ? 12 : s.status ? 9 : 2}
        >
          <title>{slotTitle(s)}</title>
        </rect>
      ))}
    </svg>
  );
}
