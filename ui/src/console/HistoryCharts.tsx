/*
 * A gateway's health over time, in its detail panel: request rate and error
 * rate sparklines over the last hour / 24 h / 7 d, the degraded threshold as a
 * line, restart markers, the status timeline as a band with text labels, and
 * a readout that follows the pointer or the arrow keys.  Drawn as inline SVG
 * by the app (no chart library, no inline styles: colours are CSS classes).
 * The current minute updates live from gateway.history events on the feed's
 * stream; every range refetches once a minute while events arrive.
 */
import { useEffect, useId, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../shared/api';
import type { GatewayHistory, HistoryPoint } from '../shared/types';
import { formatClock, formatNumber, formatPercent, titleCase } from '../shared/format';
import { useApi } from '../shared/hooks';
import { InlineError, Skeleton } from '../shared/components/States';
import { subscribeHistory } from './gatewayFeed';
import { applyLivePoint, scaleMax, sparkPath, statusRuns, x, y, type Box } from './historyChart';

export const HISTORY_RANGES = [
  { key: '1h', label: '1 h', long: 'the last hour', ms: 3600_000, step: 60 },
  { key: '24h', label: '24 h', long: 'the last 24 hours', ms: 86_400_000, step: 300 },
  { key: '7d', label: '7 d', long: 'the last 7 days', ms: 7 * 86_400_000, step: 3600 },
] as const;
type RangeKey = (typeof HISTORY_RANGES)[number]['key'];

const W = 360;
const SPARK: Box = { w: W, h: 64, top: 12, bottom: 3 };
const BAND_H = 18;
const REFETCH_MS = 60_000;

/* The request parameters: whole steps ending with the current one. */
export function rangeQuery(range: (typeof HISTORY_RANGES)[number], nowMs: number) {
  const stepMs = range.step * 1000;
  const from = Math.floor(nowMs / stepMs) * stepMs - (range.ms - stepMs);
  return { from: new Date(from).toISOString(), step: range.step };
}

const fmtRate = (v: number | null) => (v === null ? 'no data' : `${formatNumber(Math.round(v))}/min`);

export function HistoryCharts({ gatewayId, offsetMs }: { gatewayId: string; offsetMs: number }) {
  const [rangeKey, setRangeKey] = useState<RangeKey>('1h');
  const range = HISTORY_RANGES.find((r) => r.key === rangeKey) ?? HISTORY_RANGES[0];
  const [tick, setTick] = useState(0);
  const { data, error } = useApi(
    (signal) => api.gateways.history(gatewayId, rangeQuery(range, Date.now() + offsetMs), signal),
    [gatewayId, rangeKey, tick],
  );
  const [points, setPoints] = useState<readonly HistoryPoint[]>([]);
  useEffect(() => setPoints(data?.points ?? []), [data]);

  // Live: the current minute replaces (or extends) the minute series; wider
  // ranges refetch at most once a minute.
  const lastFetch = useRef(Date.now());
  useEffect(() => {
    lastFetch.current = Date.now();
  }, [data]);
  useEffect(
    () =>
      subscribeHistory((ev) => {
        if (ev.id !== gatewayId) return;
        if (range.step === ev.step_seconds) setPoints((cur) => applyLivePoint(cur, ev.point));
        // A refetch a minute brings finished minutes as stored (merged across replicas).
        if (Date.now() - lastFetch.current >= REFETCH_MS) {
          lastFetch.current = Date.now();
          setTick((t) => t + 1);
        }
      }),
    [gatewayId, range.step],
  );

  const [sel, setSel] = useState<number | null>(null);
  useEffect(() => setSel(null), [rangeKey, gatewayId]);

  return (
    <section class="history" aria-label="History" data-testid="history">
      <div class="history__head">
        <div class="segmented" role="group" aria-label="History range">
          {HISTORY_RANGES.map((r) => (
            <button
              key={r.key}
              type="button"
              class={`segmented__btn${r.key === rangeKey ? ' is-active' : ''}`}
              aria-pressed={r.key === rangeKey}
              onClick={() => setRangeKey(r.key)}
              data-testid={`history-range-${r.key}`}
            >
              {r.label}
            </button>
          ))}
        </div>
      </div>
      {error && !data ? (
        <InlineError error={error} />
      ) : !data ? (
        <Skeleton lines={4} />
      ) : (
        <Charts data={data} points={points} rangeLong={range.long} withDay={range.step >= 3600} sel={sel} setSel={setSel} />
      )}
    </section>
  );
}

function Charts({
  data,
  points,
  rangeLong,
  withDay,
  sel,
  setSel,
}: {
  data: GatewayHistory;
  points: readonly HistoryPoint[];
  rangeLong: string;
  withDay: boolean;
  sel: number | null;
  setSel: (i: number | null) => void;
}) {
  const n = points.length;
  const reqs = useMemo(() => points.map((p) => p.requests_per_min), [points]);
  const errs = useMemo(() => points.map((p) => p.error_rate_max), [points]);
  const threshold = data.degraded_error_rate;
  const readoutId = useId();
  // The readout shows the selected point, else the latest one with data.
  let shown = sel;
  if (shown === null) for (let i = n - 1; i >= 0 && shown === null; i--) if (points[i]?.status) shown = i;
  const p = shown !== null ? points[shown] : undefined;

  const pick = (e: MouseEvent) => {
    const r = (e.currentTarget as SVGElement).getBoundingClientRect();
    if (r.width <= 0 || n === 0) return;
    setSel(Math.max(0, Math.min(n - 1, Math.round(((e.clientX - r.left) / r.width) * (n - 1)))));
  };
  const onKey = (e: KeyboardEvent) => {
    const cur = shown ?? n - 1;
    const to =
      e.key === 'ArrowLeft' ? cur - 1 : e.key === 'ArrowRight' ? cur + 1 : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : null;
    if (to === null) return;
    e.preventDefault();
    setSel(Math.max(0, Math.min(n - 1, to)));
  };

  const peakReq = Math.max(0, ...reqs.map((v) => v ?? 0));
  const peakErr = Math.max(0, ...errs.map((v) => v ?? 0));
  const restarts = points.reduce((a, q) => a + (q.restarts ?? 0), 0);
  return (
    <div
      class="history__charts"
      tabIndex={0}
      role="group"
      aria-label={`Charts for ${rangeLong}. Left and right arrow keys move the readout.`}
      aria-describedby={readoutId}
      onKeyDown={onKey}
      data-testid="history-charts"
      data-points={n}
    >
      <ChartTitle title="Requests per minute" note={`peak ${fmtRate(peakReq)}${restarts ? ` · ${restarts} restart${restarts === 1 ? '' : 's'}` : ''}`} />
      <Sparkline
        values={reqs}
        max={scaleMax(reqs, 1)}
        points={points}
        sel={shown}
        label={`Request rate over ${rangeLong}: peak ${fmtRate(peakReq)}, ${restarts} restarts.`}
        testId="spark-requests"
        onPick={pick}
        onLeave={() => setSel(null)}
        restartMarkers
      />
      <ChartTitle title="Error rate" note={`peak ${formatPercent(peakErr)} · degraded above ${formatPercent(threshold)}`} />
      <Sparkline
        values={errs}
        max={scaleMax(errs, threshold * 1.4)}
        points={points}
        sel={shown}
        threshold={threshold}
        label={`Error rate (highest per step) over ${rangeLong}: peak ${formatPercent(peakErr)}; degraded above ${formatPercent(threshold)}.`}
        testId="spark-errors"
        onPick={pick}
        onLeave={() => setSel(null)}
      />
      <ChartTitle title="Status" note="" />
      <StatusBand points={points} sel={shown} rangeLong={rangeLong} onPick={pick} onLeave={() => setSel(null)} />
      <p class="history__axis small muted" aria-hidden="true">
        <span>{formatClock(points[0]?.at, withDay)}</span>
        <span>{formatClock(points[n - 1]?.at, withDay)}</span>
      </p>
      <p id={readoutId} class="history__readout" role="status" aria-live="polite" data-testid="history-readout">
        {p ? (
          <>
            <time dateTime={p.at} data-testid="readout-time">
              {formatClock(p.at, withDay)}
            </time>
            {p.status === null ? (
              <span data-testid="readout-status">no heartbeat</span>
            ) : (
              <>
                <span data-testid="readout-requests">{fmtRate(p.requests_per_min)}</span>
                <span data-testid="readout-error">
                  error rate {formatPercent(p.error_rate)} (max {formatPercent(p.error_rate_max)})
                </span>
                <span data-testid="readout-status">{titleCase(p.status)}</span>
                {p.restarts ? <span data-testid="readout-restarts">{p.restarts === 1 ? '1 restart' : `${p.restarts} restarts`}</span> : null}
              </>
            )}
          </>
        ) : (
          'No heartbeats in this range.'
        )}
      </p>
    </div>
  );
}

function ChartTitle({ title, note }: { title: string; note: string }) {
  return (
    <p class="history__title">
      <span>{title}</span>
      {note && <span class="small muted">{note}</span>}
    </p>
  );
}

function Sparkline({
  values,
  max,
  points,
  sel,
  threshold,
  label,
  testId,
  onPick,
  onLeave,
  restartMarkers,
}: {
  values: readonly (number | null)[];
  max: number;
  points: readonly HistoryPoint[];
  sel: number | null;
  threshold?: number;
  label: string;
  testId: string;
  onPick: (e: MouseEvent) => void;
  onLeave: () => void;
  restartMarkers?: boolean;
}) {
  const n = values.length;
  const { d, dots } = sparkPath(values, max, SPARK);
  const selV = sel !== null ? values[sel] : null;
  return (
    <svg
      class="spark"
      viewBox={`0 0 ${W} ${SPARK.h}`}
      role="img"
      aria-label={label}
      data-testid={testId}
      data-points={n}
      data-values={values.filter((v) => v !== null).length}
      onMouseMove={onPick}
      onMouseLeave={onLeave}
    >
      <line class="spark__base" x1={0} x2={W} y1={SPARK.h - SPARK.bottom} y2={SPARK.h - SPARK.bottom} />
      {threshold !== undefined && (
        <g class="spark__threshold" data-testid="threshold-line">
          <line x1={0} x2={W} y1={y(threshold, max, SPARK)} y2={y(threshold, max, SPARK)} />
          <text x={W - 2} y={y(threshold, max, SPARK) - 3} text-anchor="end">
            degraded {formatPercent(threshold)}
          </text>
        </g>
      )}
      <path class="spark__line" d={d} />
      {dots.map(([cx, cy]) => (
        <circle key={`${cx}`} class="spark__dot" cx={cx} cy={cy} r={2} />
      ))}
      {restartMarkers &&
        points.map((p, i) =>
          p.restarts ? (
            <g key={p.at} class="spark__restart" data-testid="restart-marker">
              <title>{`Restart at ${formatClock(p.at)}`}</title>
              <line x1={x(i, n, W)} x2={x(i, n, W)} y1={SPARK.top - 2} y2={SPARK.h - SPARK.bottom} />
              <path d={`M${x(i, n, W) - 4} 1L${x(i, n, W) + 4} 1L${x(i, n, W)} 8Z`} />
            </g>
          ) : null,
        )}
      {sel !== null && (
        <g class="spark__cursor">
          <line x1={x(sel, n, W)} x2={x(sel, n, W)} y1={0} y2={SPARK.h} />
          {selV !== null && selV !== undefined && <circle cx={x(sel, n, W)} cy={y(selV, max, SPARK)} r={3} />}
        </g>
      )}
    </svg>
  );
}

const STATUS_LABEL: Record<string, string> = {
  online: 'Online',
  degraded: 'Degraded',
  maintenance: 'Maintenance',
  offline: 'Offline',
  gap: 'No heartbeat',
};

function StatusBand({
  points,
  sel,
  rangeLong,
  onPick,
  onLeave,
}: {
  points: readonly HistoryPoint[];
  sel: number | null;
  rangeLong: string;
  onPick: (e: MouseEvent) => void;
  onLeave: () => void;
}) {
  const n = points.length;
  const cell = n > 0 ? W / n : W;
  const runs = statusRuns(points);
  const share = new Map<string, number>();
  for (const r of runs) share.set(r.status, (share.get(r.status) ?? 0) + (r.end - r.start));
  const summary = [...share.entries()]
    .map(([s, k]) => `${STATUS_LABEL[s] ?? titleCase(s)} ${Math.round((k / Math.max(1, n)) * 100)}%`)
    .join(', ');
  return (
    <>
      <svg
        class="band"
        viewBox={`0 0 ${W} ${BAND_H}`}
        role="img"
        aria-label={`Status over ${rangeLong}: ${summary || 'no data'}.`}
        data-testid="status-band"
        data-points={n}
        onMouseMove={onPick}
        onMouseLeave={onLeave}
      >
        {points.map((p, i) => (
          <rect
            key={p.at}
            class={`band__cell band__cell--${p.status ?? 'gap'}`}
            x={+(i * cell).toFixed(2)}
            y={p.status === 'degraded' ? 0 : p.status ? 3 : 7}
            width={+(cell + 0.3).toFixed(2)}
            height={p.status === 'degraded' ? BAND_H : p.status ? BAND_H - 6 : 4}
          />
        ))}
        {runs.map((r) =>
          (r.end - r.start) * cell >= 64 ? (
            <text key={r.start} class="band__label" x={(r.start * cell + r.end * cell) / 2} y={BAND_H / 2 + 4} text-anchor="middle">
              {STATUS_LABEL[r.status] ?? r.status}
            </text>
          ) : null,
        )}
        {sel !== null && <rect class="band__cursor" x={sel * cell} y={0} width={Math.max(1, cell)} height={BAND_H} />}
      </svg>
      <ul class="band__legend small" aria-label="Status legend">
        {(['online', 'degraded', 'maintenance', 'gap'] as const).map((s) => (
          <li key={s}>
            <svg class="band__swatch" viewBox="0 0 12 12" aria-hidden="true">
              <rect class={`band__cell band__cell--${s}`} x={0} y={s === 'degraded' ? 0 : s === 'gap' ? 4 : 2} width={12} height={s === 'degraded' ? 12 : s === 'gap' ? 4 : 8} />
            </svg>
            {STATUS_LABEL[s]}
          </li>
        ))}
      </ul>
    </>
  );
}
