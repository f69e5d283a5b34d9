import { describe, expect, it } from 'vitest';
import { pickSigners } from '../../src/ceremony/sign/coordinator.js';

describe('signer selection', () => {
  it('picks t distinct members, and over many picks every member', () => {
    const members = ['p1', 'p2', 'p3', 'p4', 'p5'];
    const seen = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const s = pickSigners(members, 3);
      expect(new Set(s).size).toBe(3);
      s.forEach((m) => {
        expect(members).toContain(m);
        seen.set(m, (seen.get(m) ?? 0) + 1);
      });
    }
    // each member is expected 180 times; far below would mean a biased choice
    for (const m of members) expect(seen.get(m)).toBeGreaterThan(120);
  });
});
