// ADMIN_TOKEN must be a random value: what `openssl rand -hex 32` (or base64 of 24+ random bytes) makes
// always passes; short, repetitive or patterned values are refused with the reason.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adminTokenWeakness } from '../../src/config/token-strength.js';

describe('ADMIN_TOKEN strength', () => {
  it('accepts 2,000 random tokens as openssl makes them (hex of 32 bytes, base64 of 24 bytes)', () => {
    for (let i = 0; i < 1000; i++) {
      expect(adminTokenWeakness(randomBytes(32).toString('hex'))).toBeUndefined();
      expect(adminTokenWeakness(randomBytes(24).toString('base64'))).toBeUndefined();
    }
  });

  it.each([
    ['0123456789abcdef', 'must be at least 32 characters'],
    ['x'.repeat(64), 'is too repetitive: it uses fewer than 10 different characters'],
    ['abcdefghijklmnopqrstuvwxyz0123456789ABCDEF', 'is too repetitive: runs or sequences (aaa, abc, 123) make up more than a quarter of it'],
    ['correct-horse-battery-staple-correct-horse', 'is too repetitive: the same 8 characters appear twice in it'],
    ['9f3a7c2e1b9f3a7c2e1b9f3a7c2e1b9f3a7c2e1b', 'is too repetitive: the same 8 characters appear twice in it'],
  ])('%s: %s', (token, reason) => {
    expect(adminTokenWeakness(token)).toBe(reason);
  });
});
