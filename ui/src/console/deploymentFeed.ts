/*
 * Live updates for deployments: the server pushes deployment.status on the
 * same stream as the gateway events (/v1/gateways/events); on each one the
 * caller refetches (coalesced), as gatewayFeed does for gateways.  While the
 * stream is down we poll every 5 s, and every 30 s as a safety net while it
 * is up.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../shared/api';
import { POLL_FALLBACK_MS, POLL_SAFETY_MS, type FeedMode } from './gatewayFeed';

const COALESCE_MS = 150;
const RECONNECT_MS = 30000;

export function useDeploymentEvents(onChange: () => void): FeedMode {
  const [mode, setMode] = useState<FeedMode>('connecting');
  const cb = useRef(onChange);
  cb.current = onChange;

  useEffect(() => {
    if (typeof EventSource === 'undefined') {
      setMode('polling');
      return undefined;
    }
    let es: EventSource | null = null;
    let pending: ReturnType<typeof setTimeout> | null = null;
    let reconnect: ReturnType<typeof setTimeout> | null = null;
    let stopped = false;
    const schedule = () => {
      if (pending) return;
      pending = setTimeout(() => {
        pending = null;
        cb.current();
      }, COALESCE_MS);
    };
    const connect = () => {
      if (stopped) return;
      setMode('connecting');
      es = new EventSource(api.gateways.eventsUrl);
      es.onopen = () => {
        setMode('live');
        schedule(); // anything may have changed while we were not listening
      };
      es.onerror = () => {
        setMode('polling');
        if (es && es.readyState === EventSource.CLOSED) {
          es = null;
          reconnect = setTimeout(connect, RECONNECT_MS);
        }
      };
      es.addEventListener('deployment.status', schedule);
    };
    connect();
    return () => {
      stopped = true;
      if (pending) clearTimeout(pending);
      if (reconnect) clearTimeout(reconnect);
      es?.close();
    };
  }, []);

  useEffect(() => {
    const t = setInterval(() => {
      if (!document.hidden) cb.current();
    }, mode === 'live' ? POLL_SAFETY_MS : POLL_FALLBACK_MS);
    return () => clearInterval(t);
  }, [mode]);

  return mode;
}
