/*
 * Pure geometry for the history charts (HistoryCharts.tsx): sparkline paths
 * that break at gaps (null is no data, never zero), status runs for the
 * band, and applying a live point. No DOM, so it is unit-tested.
 */
import type { HistoryPoint } from '../shared/types';

export interface Box {
  w: number;
  h: number;
  top: number;
  bottom: number;
}

export const x = (i: number, n: number, w: number) => (n <= 1 ? w / 2 : (i * w) / (n - 1));

export function y(v: number, max: number, b: Box): number {
  const span = b.h - b.top - b.bottom;
  const r = max > 0 ? Math.min(1, Math.max(0, v / max)) : 0;
  return +(b.h - b.bottom - r * span).toFixed(2);
}

/* An SVG path through the non-null values, starting a new segment after each
 * gap; points alone in their segment are returned as dots. */
export function sparkPath(values: readonly (number | null)[], max: number, b: Box): { d: string; dots: [number, number][] } {
  const n = values.length;
  let d = '';
  const dots: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    const px = +x(i, n, b.w).toFixed(2);
    const py = y(v, max, b);
    const prev = i > 0 ? values[i - 1] : null;
    const next = i < n - 1 ? values[i + 1] : null;
    const startsSegment = prev === null || prev === undefined;
    d += `${startsSegment ? 'M' : 'L'}${px} ${py}`;
    if (startsSegment && (next === null || next === undefined)) dots.push([px, py]);
  }
  return { d, dots };
}

/* The top of a chart's scale: a little above the highest value (and above the
 * threshold, so its line is always on the chart). */
export function scaleMax(values: readonly (number | null)[], floor: number): number {
  let m = floor;
  for (const v of values) if (v !== null && v !== undefined && v > m) m = v;
  return m * 1.1;
}

export interface Run {
  status: string; // a status, or 'gap'
  start: number;
  end: number; // exclusive
}

/* Consecutive points of the same status (gaps are their own runs). */
export function statusRuns(points: readonly HistoryPoint[]): Run[] {
  const runs: Run[] = [];
  points.forEach((p, i) => {
    const s = p.status ?? 'gap';
    const last = runs[runs.length - 1];
    if (last && last.status === s) last.end = i + 1;
    else runs.push({ status: s, start: i, end: i + 1 });
  });
  return runs;
}

/* Applies a live point (the current minute) to a minute series: replaces the
 * point with the same time, or appends it and drops the oldest. Returns the
 * same array when the point is outside the series. */
export function applyLivePoint(points: readonly HistoryPoint[], live: HistoryPoint): readonly HistoryPoint[] {
  const i = points.findIndex((p) => p.at === live.at);
  if (i >= 0) {
    const next = points.slice();
    next[i] = live;
    return next;
  }
  const last = points[points.length - 1];
  if (!last || Date.parse(live.at) <= Date.parse(last.at)) return points;
  return [...points.slice(1), live];
}
