/*
 * Keeps subscription views current.  The server publishes
 * subscription.<action> events on /v1/gateways/events (to the API's tenant
 * and the owner's); on any of them we call `onChange` (coalesced), which
 * refetches.  While the stream is down we poll every 5 s; while it is up,
 * every 30 s as a safety net.  `onEvent` also gets each event's type and
 * data (the console announces new requests).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api';

export const SUBSCRIPTION_EVENTS = [
  'subscription.requested',
  'subscription.created',
  'subscription.approved',
  'subscription.rejected',
  'subscription.revoked',
  'subscription.cancelled',
  'subscription.key_regenerated',
] as const;

export interface SubscriptionEvent {
  type: string;
  id?: string;
  status?: string;
}

const POLL_FALLBACK_MS = 5000;
const POLL_SAFETY_MS = 30000;
const RECONNECT_MS = 30000;
const COALESCE_MS = 200;

export function useSubscriptionFeed(
  onChange: () => void,
  onEvent?: (e: SubscriptionEvent) => void,
  enabled = true,
): 'live' | 'polling' {
  const [live, setLive] = useState(false);
  const changeRef = useRef(onChange);
  changeRef.current = onChange;
  const eventRef = useRef(onEvent);
  eventRef.current = onEvent;

  useEffect(() => {
    let pending: ReturnType<typeof setTimeout> | null = null;
    const schedule = () => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = null;
        changeRef.current();
      }, COALESCE_MS);
    };
    if (!enabled || typeof EventSource === 'undefined') return undefined;
    let es: EventSource | null = null;
    let reconnect: ReturnType<typeof setTimeout> | null = null;
    let stopped = false;
    const onMessage = (ev: Event) => {
      const m = ev as MessageEvent<string>;
      let data: { id?: string; status?: string } = {};
      try {
        data = JSON.parse(m.data) as { id?: string; status?: string };
      } catch {
        /* a malformed event still means "something changed" */
      }
      eventRef.current?.({ type: m.type, id: data.id, status: data.status });
      schedule();
    };
    const connect = () => {
      if (stopped) return;
      es = new EventSource(api.gateways.eventsUrl);
      es.onopen = () => {
        setLive(true);
        schedule();
      };
      es.onerror = () => {
        setLive(false);
        if (es && es.readyState === EventSource.CLOSED) {
          es = null;
          reconnect = setTimeout(connect, RECONNECT_MS);
        }
      };
      for (const type of SUBSCRIPTION_EVENTS) es.addEventListener(type, onMessage);
    };
    connect();
    return () => {
      stopped = true;
      if (pending) clearTimeout(pending);
      if (reconnect) clearTimeout(reconnect);
      es?.close();
    };
  }, [enabled]);

  useEffect(() => {
    if (!enabled) return undefined;
    const t = setInterval(() => {
      if (!document.hidden) changeRef.current();
    }, live ? POLL_SAFETY_MS : POLL_FALLBACK_MS);
    return () => clearInterval(t);
  }, [live, enabled]);

  return live ? 'live' : 'polling';
}
