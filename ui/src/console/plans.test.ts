import { describe, expect, it } from 'vitest';
import { validatePlans } from './CatalogAdmin';
import { planLabel } from '../portal/SubscribePanel';

describe('plan rows', () => {
  it('accepts what the server accepts', () => {
    expect(validatePlans([])).toBe('');
    expect(validatePlans([{ name: 'gold', rpm: '600' }, { name: 'free-1.0_x', rpm: '1' }])).toBe('');
  });
  it('names the first problem', () => {
    expect(validatePlans([{ name: '', rpm: '1' }])).toMatch(/Plan names/);
    expect(validatePlans([{ name: 'go ld', rpm: '1' }])).toMatch(/Plan names/);
    expect(validatePlans([{ name: 'a', rpm: '1' }, { name: 'a', rpm: '2' }])).toMatch(/appears twice/);
    for (const rpm of ['0', '', 'abc', '1.5', '-3', '100000001']) expect(validatePlans([{ name: 'a', rpm }])).toMatch(/whole number/);
    expect(validatePlans(Array.from({ length: 21 }, (_, i) => ({ name: `p${i}`, rpm: '1' })))).toMatch(/At most 20/);
  });
  it('labels plans with their rate', () => {
    expect(planLabel('gold', 1200)).toBe('gold (1,200 requests/min)');
    expect(planLabel('default', null)).toBe('default (no rate limit)');
  });
});
