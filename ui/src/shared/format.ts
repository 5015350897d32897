/*
 * The one place where numbers, durations, percentages, ages and dates are
 * turned into text.  Components never format by hand, so the console and the
 * portal read the same everywhere.  Every function accepts null/undefined
 * (fields the server may leave out) and returns DASH for them.
 */

export const DASH = '—';

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const UNITS: ReadonlyArray<[string, number]> = [
  ['d', 86400],
  ['h', 3600],
  ['m', 60],
  ['s', 1],
];

/*
 * A duration in seconds as its largest unit and, when not zero, the next one:
 * 45 → "45s", 90 → "1m 30s", 5400 → "1h 30m", 3600 → "1h", 183600 → "2d 3h".
 * Fractions of a second are dropped.
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (!isNum(seconds) || seconds < 0) return DASH;
  let rest = Math.floor(seconds);
  if (rest === 0) return '0s';
  const parts: string[] = [];
  for (let i = 0; i < UNITS.length; i++) {
    const [unit, size] = UNITS[i]!;
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (parts.length === 0 && n === 0) continue;
    if (n > 0) parts.push(`${n}${unit}`);
    if (parts.length > 0 && i + 1 < UNITS.length) {
      // The unit right after the first non-zero one is the last shown.
      const [nextUnit, nextSize] = UNITS[i + 1]!;
      const m = Math.floor(rest / nextSize);
      if (m > 0) parts.push(`${m}${nextUnit}`);
      break;
    }
  }
  return parts.join(' ');
}

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/* 10000 → "10,000"; 1234.5 → "1,234.5". */
export function formatNumber(n: number | null | undefined): string {
  if (!isNum(n)) return DASH;
  return Number.isInteger(n) ? integer.format(n) : decimal.format(n);
}

/* A ratio as a percentage with one decimal: 0.02 → "2.0%", 0.0834 → "8.3%". */
export function formatPercent(ratio: number | null | undefined): string {
  if (!isNum(ratio)) return DASH;
  // Round on the percentage, not on the ratio, to avoid 0.0015 → "0.1%" drift.
  const pct = Math.round(ratio * 1000) / 10;
  return `${pct.toFixed(1)}%`;
}

/* Seconds elapsed as text: "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function formatAge(seconds: number | null | undefined): string {
  if (!isNum(seconds)) return DASH;
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

/* Milliseconds since the epoch for an RFC 3339 string, or null. */
export function parseTime(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/* Whole seconds from `iso` to `nowMs` (never negative), or null. */
export function secondsSince(iso: string | null | undefined, nowMs: number): number | null {
  const t = parseTime(iso);
  if (t === null) return null;
  return Math.max(0, Math.floor((nowMs - t) / 1000));
}

/* Relative age of a timestamp: "12 s ago". */
export function formatRelative(iso: string | null | undefined, nowMs: number = Date.now()): string {
  return formatAge(secondsSince(iso, nowMs));
}

const pad = (n: number) => String(n).padStart(2, '0');

/*
 * A timestamp as "2026-11-22 08:00:05" in the viewer's time zone (or UTC when
 * asked, with a " UTC" suffix).  Unambiguous and sortable; the raw value goes
 * into <time datetime> by the caller.
 */
export function formatDate(iso: string | null | undefined, opts: { utc?: boolean; seconds?: boolean } = {}): string {
  const t = parseTime(iso);
  if (t === null) return DASH;
  const d = new Date(t);
  const [y, mo, da, h, mi, s] = opts.utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
  const time = opts.seconds === false ? `${pad(h)}:${pad(mi)}` : `${pad(h)}:${pad(mi)}:${pad(s)}`;
  return `${y}-${pad(mo)}-${pad(da)} ${time}${opts.utc ? ' UTC' : ''}`;
}

/* Milliseconds as "850 ms" or "1.2 s". */
export function formatMillis(ms: number | null | undefined): string {
  if (!isNum(ms)) return DASH;
  if (ms < 1000) return `${formatNumber(Math.round(ms))} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/* Capitalised label for enum-like values: "online" → "Online", "edge-mcp" → "Edge-mcp". */
export function titleCase(s: string | null | undefined): string {
  if (!s) return DASH;
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/* "1 API" / "3 APIs". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatNumber(n)} ${n === 1 ? one : many}`;
}

/* A chart time: "14:05" (local), or "Mon 14:00" when withDay. */
export function formatClock(iso: string | null | undefined, withDay = false): string {
  const t = parseTime(iso);
  if (t === null) return DASH;
  const d = new Date(t);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return withDay ? `${['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getDay()]} ${hm}` : hm;
}
