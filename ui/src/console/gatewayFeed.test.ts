import { describe, expect, it } from 'vitest';
import type { Gateway } from '../shared/types';
import { describeChanges } from './gatewayFeed';
import { heartbeatAge } from './gatewayUi';

const gw = (id: string, status: string, name = `gw-${id}`): Gateway => ({
  id,
  name,
  hostname: name,
  type: 'stoa_proxy',
  mode: 'proxy',
  environment: 'dev',
  version: '1',
  status,
  live: status !== 'offline',
});

describe('describeChanges', () => {
  it('announces status changes and new gateways, nothing on first load', () => {
    expect(describeChanges(undefined, [gw('1', 'online')])).toEqual([]);
    expect(describeChanges([gw('1', 'online'), gw('2', 'online')], [gw('1', 'offline'), gw('2', 'online'), gw('3', 'online')])).toEqual([
      'Gateway gw-1 is now Offline',
      'Gateway gw-3 registered, Online',
    ]);
    expect(describeChanges([gw('1', 'online')], [gw('1', 'online')])).toEqual([]);
  });
});

describe('heartbeatAge', () => {
  it('measures by the server clock using the offset', () => {
    const last = '2026-11-22T08:00:00.000Z';
    const serverNow = Date.parse('2026-11-22T08:00:12.000Z');
    // The client clock is 5 minutes behind the server's.
    const clientNow = serverNow - 300_000;
    expect(heartbeatAge({ last_heartbeat_at: last }, clientNow, 300_000)).toBe(12);
    expect(heartbeatAge({ last_heartbeat_at: last }, clientNow + 3000, 300_000)).toBe(15);
    expect(heartbeatAge({ last_heartbeat_at: null }, clientNow, 0)).toBeNull();
    // A heartbeat "in the future" (clock skew) never gives a negative age.
    expect(heartbeatAge({ last_heartbeat_at: last }, Date.parse(last) - 5000, 0)).toBe(0);
  });
});
