import { describe, expect, it } from 'vitest';
import type { HistoryPoint } from '../shared/types';
import { applyLivePoint, scaleMax, sparkPath, statusRuns } from './historyChart';

const box = { w: 100, h: 50, top: 10, bottom: 0 };
const pt = (at: string, status: HistoryPoint['status'], rpm: number | null = 1): HistoryPoint => ({
  at,
  requests_per_min: rpm,
  error_rate: 0,
  error_rate_max: 0,
  status,
  restarts: 0,
});

describe('sparkPath', () => {
  it('breaks the line at gaps and keeps lone points as dots', () => {
    const { d, dots } = sparkPath([0, 40, null, 20, null, null], 40, box);
    expect(d).toBe('M0 50L20 10M60 30');
    expect(dots).toEqual([[60, 30]]);
  });
  it('draws nothing for an all-gap series', () => {
    expect(sparkPath([null, null], 1, box)).toEqual({ d: '', dots: [] });
  });
});

describe('scaleMax', () => {
  it('stays above the floor (the threshold) and the highest value', () => {
    expect(scaleMax([0.01, null], 0.07)).toBeCloseTo(0.077);
    expect(scaleMax([0.2], 0.07)).toBeCloseTo(0.22);
  });
});

describe('statusRuns', () => {
  it('groups equal statuses; gaps are runs of their own', () => {
    const runs = statusRuns([pt('a', 'online'), pt('b', 'online'), pt('c', null), pt('d', 'degraded')]);
    expect(runs).toEqual([
      { status: 'online', start: 0, end: 2 },
      { status: 'gap', start: 2, end: 3 },
      { status: 'degraded', start: 3, end: 4 },
    ]);
  });
});

describe('applyLivePoint', () => {
  const series = [pt('2026-01-01T00:00:00.000Z', 'online'), pt('2026-01-01T00:01:00.000Z', null, null)];
  it('replaces the point of the same minute', () => {
    const next = applyLivePoint(series, pt('2026-01-01T00:01:00.000Z', 'degraded', 7));
    expect(next.map((p) => p.status)).toEqual(['online', 'degraded']);
  });
  it('appends a newer minute and drops the oldest', () => {
    const next = applyLivePoint(series, pt('2026-01-01T00:02:00.000Z', 'online', 3));
    expect(next.map((p) => p.at)).toEqual(['2026-01-01T00:01:00.000Z', '2026-01-01T00:02:00.000Z']);
  });
  it('ignores an older point', () => {
    expect(applyLivePoint(series, pt('2025-12-31T23:59:00.000Z', 'online'))).toBe(series);
  });
});
