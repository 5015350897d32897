/*
 * Keeps the gateway list current.  The server pushes gateway.registered,
 * gateway.heartbeat and gateway.status over /v1/gateways/events; on any of
 * them we refetch the list (coalesced), which is simpler and more robust than
 * patching rows in place.  When the stream fails (network, or 503 when the
 * server has too many streams open) we poll every 5 s with If-None-Match, so
 * an unchanged list costs a 304; while the stream is healthy we still poll
 * every 30 s as a safety net.  The server's `now` gives the offset between
 * its clock and ours, so "last heartbeat 12 s ago" can tick locally.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, isAbortError, type GatewayListParams } from '../shared/api';
import type { Gateway, GatewayPage, HistoryEvent } from '../shared/types';
import { parseTime, titleCase } from '../shared/format';

export const POLL_FALLBACK_MS = 5000;
export const POLL_SAFETY_MS = 30000;
const RECONNECT_MS = 30000;
const COALESCE_MS = 250;

export type FeedMode = 'connecting' | 'live' | 'polling';

export interface GatewayFeed {
  page: GatewayPage | undefined;
  error: unknown;
  /* Server clock minus client clock, in ms. */
  offsetMs: number;
  mode: FeedMode;
  /* Bumped whenever fresh list data (a 200) arrives. */
  version: number;
  /* Latest human-readable change ("edge-1 is now Offline"), for the live region. */
  announcement: string;
  refresh: () => void;
}

const EVENTS = ['gateway.registered', 'gateway.heartbeat', 'gateway.status'] as const;

/* "edge-1 is now Offline" for each status change; "edge-2 registered" for new ones. */
export function describeChanges(before: Gateway[] | undefined, after: Gateway[]): string[] {
  if (!before) return [];
  const prev = new Map(before.map((g) => [g.id, g]));
  const out: string[] = [];
  for (const g of after) {
    const old = prev.get(g.id);
    if (!old) out.push(`Gateway ${g.name} registered, ${titleCase(g.status)}`);
    else if (old.status !== g.status) out.push(`Gateway ${g.name} is now ${titleCase(g.status)}`);
  }
  return out;
}

/* gateway.history events (the current minute of one gateway) go to the
 * history charts that listen, over the feed's one stream; they never refetch the list. */
type HistoryListener = (e: HistoryEvent) => void;
const historyListeners = new Set<HistoryListener>();
export function onHistoryEvent(ev: Event) {
  try {
    const data = JSON.parse((ev as MessageEvent<string>).data) as HistoryEvent;
    for (const fn of historyListeners) fn(data);
  } catch {
    /* a malformed event is ignored */
  }
}
export function subscribeHistory(fn: HistoryListener): () => void {
  historyListeners.add(fn);
  return () => historyListeners.delete(fn);
}

export function useGatewayFeed(params: GatewayListParams): GatewayFeed {
  const key = JSON.stringify(params);
  const [page, setPage] = useState<GatewayPage | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [offsetMs, setOffset] = useState(0);
  const [mode, setMode] = useState<FeedMode>('connecting');
  const [version, setVersion] = useState(0);
  const [announcement, setAnnouncement] = useState('');

  const etag = useRef<string | null>(null);
  const shown = useRef<{ key: string; items: Gateway[] } | null>(null);
  const paramsRef = useRef(params);
  paramsRef.current = params;
  const keyRef = useRef(key);
  keyRef.current = key;
  const inflight = useRef<AbortController | null>(null);
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);

  const fetchList = useCallback(async () => {
    inflight.current?.abort();
    const ac = new AbortController();
    inflight.current = ac;
    const k = keyRef.current;
    const sameQuery = shown.current?.key === k;
    try {
      const res = await api.gateways.list({ ...paramsRef.current, signal: ac.signal }, sameQuery ? etag.current : null);
      if (ac.signal.aborted) return;
      setError(null);
      if (res.notModified) return;
      etag.current = res.etag;
      const data = res.data;
      const now = parseTime(data.now);
      if (now !== null) setOffset(now - Date.now());
      if (sameQuery) {
        const changes = describeChanges(shown.current?.items, data.items);
        if (changes.length) setAnnouncement(changes.join('. '));
      }
      shown.current = { key: k, items: data.items };
      setPage(data);
      setVersion((v) => v + 1);
    } catch (e) {
      if (isAbortError(e) || ac.signal.aborted) return;
      setError(e);
    }
  }, []);

  const schedule = useCallback(() => {
    if (pending.current) return;
    pending.current = setTimeout(() => {
      pending.current = null;
      void fetchList();
    }, COALESCE_MS);
  }, [fetchList]);

  // Fetch now whenever the filters change.
  useEffect(() => {
    void fetchList();
  }, [key, fetchList]);

  // The event stream, reconnecting after it is closed for good (e.g. 503).
  useEffect(() => {
    if (typeof EventSource === 'undefined') {
      setMode('polling');
      return undefined;
    }
    let es: EventSource | null = null;
    let reconnect: ReturnType<typeof setTimeout> | null = null;
    let stopped = false;
    const connect = () => {
      if (stopped) return;
      setMode('connecting');
      es = new EventSource(api.gateways.eventsUrl, { withCredentials: false });
      es.onopen = () => {
        setMode('live');
        // Anything may have happened while we were not listening.
        schedule();
      };
      es.onerror = () => {
        setMode('polling');
        if (es && es.readyState === EventSource.CLOSED) {
          es = null;
          reconnect = setTimeout(connect, RECONNECT_MS);
        }
      };
      for (const type of EVENTS) es.addEventListener(type, schedule);
      es.addEventListener('gateway.history', onHistoryEvent);
    };
    connect();
    return () => {
      stopped = true;
      if (reconnect) clearTimeout(reconnect);
      es?.close();
    };
  }, [schedule]);

  // Polling: fast while the stream is down, slow as a safety net while it is up.
  useEffect(() => {
    const every = mode === 'live' ? POLL_SAFETY_MS : POLL_FALLBACK_MS;
    const t = setInterval(() => {
      if (!document.hidden) void fetchList();
    }, every);
    const onVisible = () => {
      if (!document.hidden) void fetchList();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      clearInterval(t);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [mode, fetchList]);

  useEffect(
    () => () => {
      inflight.current?.abort();
      if (pending.current) clearTimeout(pending.current);
    },
    [],
  );

  return { page, error, offsetMs, mode, version, announcement, refresh: fetchList };
}
