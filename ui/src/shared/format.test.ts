import { describe, expect, it } from 'vitest';
import {
  DASH,
  formatAge,
  formatDate,
  formatDuration,
  formatMillis,
  formatNumber,
  formatPercent,
  formatRelative,
  plural,
  secondsSince,
} from './format';

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [1, '1s'],
    [45, '45s'],
    [59.9, '59s'],
    [60, '1m'],
    [90, '1m 30s'],
    [3599, '59m 59s'],
    [3600, '1h'],
    [5400, '1h 30m'],
    [5430, '1h 30m'],
    [3660, '1h 1m'],
    [86400, '1d'],
    [2 * 86400 + 3 * 3600, '2d 3h'],
    [2 * 86400 + 3 * 3600 + 59 * 60, '2d 3h'],
    [2 * 86400 + 5 * 60, '2d'],
    [400 * 86400, '400d'],
  ])('%s s → %s', (input, expected) => {
    expect(formatDuration(input)).toBe(expected);
  });

  it('shows a dash for missing or impossible values', () => {
    expect(formatDuration(null)).toBe(DASH);
    expect(formatDuration(undefined)).toBe(DASH);
    expect(formatDuration(-5)).toBe(DASH);
    expect(formatDuration(Number.NaN)).toBe(DASH);
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe(DASH);
  });
});

describe('formatNumber', () => {
  it.each([
    [0, '0'],
    [999, '999'],
    [1000, '1,000'],
    [10000, '10,000'],
    [1234567, '1,234,567'],
    [-2500, '-2,500'],
    [1234.5, '1,234.5'],
  ])('%s → %s', (input, expected) => {
    expect(formatNumber(input)).toBe(expected);
  });

  it('shows a dash for null', () => {
    expect(formatNumber(null)).toBe(DASH);
    expect(formatNumber(undefined)).toBe(DASH);
  });
});

describe('formatPercent', () => {
  it.each([
    [0.02, '2.0%'],
    [0, '0.0%'],
    [0.08, '8.0%'],
    [0.05, '5.0%'],
    [0.0834, '8.3%'],
    [0.0015, '0.2%'],
    [0.123456, '12.3%'],
    [1, '100.0%'],
  ])('%s → %s', (input, expected) => {
    expect(formatPercent(input)).toBe(expected);
  });

  it('shows a dash for null', () => {
    expect(formatPercent(null)).toBe(DASH);
  });
});

describe('formatAge', () => {
  it.each([
    [0, '0 s ago'],
    [12, '12 s ago'],
    [12.9, '12 s ago'],
    [59, '59 s ago'],
    [60, '1 min ago'],
    [3599, '59 min ago'],
    [3600, '1 h ago'],
    [86399, '23 h ago'],
    [86400, '1 d ago'],
    [-3, '0 s ago'],
  ])('%s → %s', (input, expected) => {
    expect(formatAge(input)).toBe(expected);
  });

  it('relative times are measured against the given clock', () => {
    const now = Date.parse('2026-11-22T08:00:12.000Z');
    expect(secondsSince('2026-11-22T08:00:00.000Z', now)).toBe(12);
    expect(formatRelative('2026-11-22T08:00:00.000Z', now)).toBe('12 s ago');
    expect(formatRelative('2026-11-22T07:58:00Z', now)).toBe('2 min ago');
    expect(formatRelative(null, now)).toBe(DASH);
    expect(formatRelative('not a date', now)).toBe(DASH);
  });
});

describe('formatDate', () => {
  it('formats RFC 3339 in UTC', () => {
    expect(formatDate('2026-11-22T08:00:05.123Z', { utc: true })).toBe('2026-11-22 08:00:05 UTC');
    expect(formatDate('2026-01-02T03:04:05+02:00', { utc: true })).toBe('2026-01-02 01:04:05 UTC');
    expect(formatDate('2026-01-02T03:04:05Z', { utc: true, seconds: false })).toBe('2026-01-02 03:04 UTC');
  });

  it('formats in local time without a suffix', () => {
    const iso = '2026-11-22T08:00:05Z';
    const d = new Date(iso);
    const expected = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${String(d.getHours()).padStart(2, '0')}:00:05`;
    expect(formatDate(iso)).toBe(expected);
  });

  it('shows a dash for bad input', () => {
    expect(formatDate(undefined)).toBe(DASH);
    expect(formatDate('yesterday')).toBe(DASH);
  });
});

describe('small helpers', () => {
  it('formats milliseconds', () => {
    expect(formatMillis(12)).toBe('12 ms');
    expect(formatMillis(1250)).toBe('1.3 s');
  });
  it('pluralises', () => {
    expect(plural(1, 'API')).toBe('1 API');
    expect(plural(2, 'API')).toBe('2 APIs');
    expect(plural(10000, 'request')).toBe('10,000 requests');
  });
});
