import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptionError, parseEncryptionKey, TokenCipher } from '../../src/security/crypto.js';

const HEX = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

describe('ENCRYPTION_KEY format', () => {
  it('64 hex characters are 32 bytes (not read as base64, which would give 48)', () => {
    expect(parseEncryptionKey(HEX)?.toString('hex')).toBe(HEX);
    expect(parseEncryptionKey(HEX.toUpperCase())?.toString('hex')).toBe(HEX);
  });

  it('base64 and base64url of 32 bytes', () => {
    const key = randomBytes(32);
    expect(parseEncryptionKey(key.toString('base64'))?.equals(key)).toBe(true);
    expect(parseEncryptionKey(key.toString('base64url'))?.equals(key)).toBe(true);
  });

  it.each([
    ['too short hex', HEX.slice(0, 62)],
    ['16 bytes of base64', randomBytes(16).toString('base64')],
    ['48 bytes of base64', randomBytes(48).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
    ['empty', ''],
  ])('%s is refused', (_name, raw) => {
    expect(parseEncryptionKey(raw)).toBeUndefined();
  });
});

describe('AES-256-GCM token cipher', () => {
  const cipher = new TokenCipher(Buffer.from(HEX, 'hex'));

  it('round-trips, with a fresh IV every time, and the value is not in the ciphertext', () => {
    const token = 'def50200-refresh-token-ÿ-🙂';
    const a = cipher.encrypt(token, 'kommo:refresh_token');
    const b = cipher.encrypt(token, 'kommo:refresh_token');
    expect(a).not.toBe(b);
    expect(a.split(':')).toHaveLength(4);
    expect(a.startsWith('v1:')).toBe(true);
    expect(Buffer.from(a.split(':')[1]!, 'base64url')).toHaveLength(12);
    expect(Buffer.from(a.split(':')[2]!, 'base64url')).toHaveLength(16);
    expect(a).not.toContain('refresh-token');
    expect(cipher.decrypt(a, 'kommo:refresh_token')).toBe(token);
    expect(cipher.decrypt(b, 'kommo:refresh_token')).toBe(token);
  });

  it('a wrong key, an altered value or another purpose cannot decrypt', () => {
    const sealed = cipher.encrypt('1000.abcdef.123456', 'zoho:refresh_token');
    const other = new TokenCipher(randomBytes(32));
    expect(() => other.decrypt(sealed, 'zoho:refresh_token')).toThrow(DecryptionError);
    const [v, iv, tag, body] = sealed.split(':') as [string, string, string, string];
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => cipher.decrypt([v, iv, tag, flipped.toString('base64url')].join(':'), 'zoho:refresh_token')).toThrow(DecryptionError);
    expect(() => cipher.decrypt(sealed, 'kommo:refresh_token')).toThrow(DecryptionError);
    expect(() => cipher.decrypt('not-a-sealed-value', 'zoho:refresh_token')).toThrow(DecryptionError);
    expect(() => other.decrypt(sealed, 'zoho:refresh_token')).toThrow(
      'cannot decrypt the stored zoho:refresh_token: ENCRYPTION_KEY is not the key it was encrypted with, or the value was altered',
    );
  });
});
