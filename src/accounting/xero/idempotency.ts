// Xero's Idempotency-Key: at most 128 characters, sent on every PUT and POST. The caller derives it from its
// intent record (the deal and the step), so a resend of the same intent carries the same key.
import { createHash } from 'node:crypto';
import { permanent } from '../../errors.js';

export const MAX_IDEMPOTENCY_KEY = 128;
const HEADER_SAFE = /^[\x21-\x7e]+$/;

/** A key from the parts of an intent; a long or non-ASCII one becomes a hash (same parts, same key). */
export function xeroIdempotencyKey(...parts: Array<string | number>): string {
  const joined = parts.map(String).join(':');
  if (joined.length <= MAX_IDEMPOTENCY_KEY && HEADER_SAFE.test(joined)) return joined;
  return `relay-sha256-${createHash('sha256').update(joined).digest('hex')}`;
}

export function assertIdempotencyKey(key: string): string {
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY || !HEADER_SAFE.test(key)) {
    throw permanent(
      'xero_bad_idempotency_key',
      `An Idempotency-Key for Xero must be 1 to ${MAX_IDEMPOTENCY_KEY} visible ASCII characters (got ${key.length} characters); derive it with xeroIdempotencyKey().`,
      { service: 'xero' },
    );
  }
  return key;
}
