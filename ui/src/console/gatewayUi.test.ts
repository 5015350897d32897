import { describe, expect, it } from 'vitest';
import { isLive, tenantLabel, typeLabel, typeOptions } from './gatewayUi';

describe('typeLabel', () => {
  it('names the known types', () => {
    expect(typeLabel('stoa_edge_mcp')).toBe('Edge MCP');
    expect(typeLabel('stoa')).toBe('Connect');
  });
  it('shows any other registrar type neutrally, never blank', () => {
    expect(typeLabel('webmethods')).toBe('Webmethods');
    expect(typeLabel('kong')).toBe('Kong');
    expect(typeLabel('api_gateway-x')).toBe('Api gateway x');
    expect(typeLabel('')).toBe('Unknown type');
    expect(typeLabel(null)).toBe('Unknown type');
    expect(typeLabel(undefined)).toBe('Unknown type');
  });
});

describe('typeOptions', () => {
  it('lists the known types, then every other type seen, once', () => {
    const opts = typeOptions(['kong', 'stoa', 'apigee', 'kong', '']);
    expect(opts.slice(0, 5).map(([v]) => v)).toEqual(['stoa_edge_mcp', 'stoa_sidecar', 'stoa_proxy', 'stoa_shadow', 'stoa']);
    expect(opts.slice(5)).toEqual([
      ['apigee', 'Apigee'],
      ['kong', 'Kong'],
    ]);
  });
});

describe('tenantLabel', () => {
  it('says shared for a gateway without a tenant', () => {
    expect(tenantLabel(null)).toBe('shared');
    expect(tenantLabel(undefined)).toBe('shared');
    expect(tenantLabel('acme')).toBe('acme');
  });
});

describe('isLive', () => {
  const t = { offline_after_seconds: 30, degraded_error_rate: 0.05 };
  it('follows the server, greying once the server offline window has passed', () => {
    expect(isLive({ live: true }, 10, t)).toBe(true);
    expect(isLive({ live: true }, 30, t)).toBe(true);
    expect(isLive({ live: true }, 31, t)).toBe(false);
    expect(isLive({ live: false }, 1, t)).toBe(false);
    expect(isLive({ live: true }, null, t)).toBe(true);
    expect(isLive({ live: true }, 500, undefined)).toBe(true);
  });
});
