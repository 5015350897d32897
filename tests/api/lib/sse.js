// Opens Portico's event stream (/v1/gateways/events) with the given request
// headers and parses it as it arrives: `events` ({type, data}), `comments`
// (keep-alive lines), `ended` once the server closes it, `done` (a promise
// that settles then), `close()` to abort. A non-200 answer is read whole
// into `text` (and `json` when it parses) and nothing is streamed.
export async function openEventStream(baseUrl, headers) {
  const ac = new AbortController();
  const res = await fetch(baseUrl + '/v1/gateways/events', { headers, signal: ac.signal });
  const s = { res, events: [], comments: [], ended: false, close: () => ac.abort() };
  if (res.status !== 200) {
    s.text = await res.text();
    try { s.json = JSON.parse(s.text); } catch { s.json = undefined; }
    s.done = Promise.resolve();
    return s;
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  s.done = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let type = null, data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) s.comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) type = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (type) s.events.push({ type, data: JSON.parse(data) });
        }
      }
    } catch { /* aborted */ }
    s.ended = true;
  })();
  return s;
}
