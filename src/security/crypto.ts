// Tokens at rest: AES-256-GCM with ENCRYPTION_KEY, a random 12-byte IV per value and the auth tag, so a
// copied database file alone gives nothing away and a tampered value fails to decrypt instead of being used.
// Each value is bound to its purpose (additional authenticated data), so a ciphertext moved into another
// column or row is refused too.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** 32 bytes from 64 hex characters or from base64 (standard or URL-safe); undefined when neither. */
export function parseEncryptionKey(raw: string): Buffer | undefined {
  const text = raw.trim();
  // Hex first: 64 hex characters are valid base64 too, but would decode to 48 bytes.
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

export const ENCRYPTION_KEY_FORMAT = 'must be 32 bytes written as 64 hex characters or as base64 (generate one with: openssl rand -hex 32)';

/** Thrown when a value cannot be decrypted: wrong key, or a value that was altered. */
export class DecryptionError extends Error {
  constructor(purpose: string) {
    super(`cannot decrypt the stored ${purpose}: ENCRYPTION_KEY is not the key it was encrypted with, or the value was altered`);
    this.name = 'DecryptionError';
  }
}

export class TokenCipher {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('AES-256-GCM needs a 32-byte key');
  }

  /** `v1:<iv>:<tag>:<ciphertext>`, each part base64url. */
  encrypt(plaintext: string, purpose: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(purpose, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join(':');
  }

  decrypt(stored: string, purpose: string): string {
    const [format, iv, tag, body] = stored.split(':');
    if (format !== FORMAT || !iv || !tag || body === undefined) throw new DecryptionError(purpose);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(purpose, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new DecryptionError(purpose);
    }
  }
}
