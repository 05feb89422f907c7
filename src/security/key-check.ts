// A wrong or missing ENCRYPTION_KEY must stop start-up with a clear message, not surface hours later as a
// token that cannot be decrypted. A known plaintext, encrypted with the key, is stored next to the tokens:
// if it does not decrypt, the key is not the one the tokens were written with.
import { ConfigError } from '../config/config-error.js';
import type { Logger } from '../log.js';
import type { Connections } from '../store/connections.js';
import type { ConnectionSide } from '../store/schema.js';
import type { KeyValue } from '../store/kv.js';
import { DecryptionError, type TokenCipher } from './crypto.js';

const KEY_CHECK = 'crypto:key_check';
const PURPOSE = 'key-check';
/** Stored encrypted by every relay since the first version: it may not change (it is the project's old name). */
const KNOWN_PLAINTEXT = 'kommo-zoho-relay encryption key check v1';
const START_OVER = 'or, to start over, delete the rows of the connections table and connect both sides again on /connect';

/** `sides`: the connections this relay uses (Kommo and its accounting backend). */
export async function checkEncryptionKey(kv: KeyValue, connections: Connections, cipher: TokenCipher | undefined, log: Logger, sides: ConnectionSide[]): Promise<void> {
  const holdsTokens = await connections.holdsTokens();
  if (!cipher) {
    if (holdsTokens) {
      throw new ConfigError([`ENCRYPTION_KEY: is not set, but the store holds encrypted connection tokens. Set the key they were encrypted with; ${START_OVER}.`]);
    }
    return;
  }
  const stored = await kv.get<string>(KEY_CHECK);
  if (stored !== undefined && !decrypts(cipher, stored)) {
    if (holdsTokens) {
      throw new ConfigError([`ENCRYPTION_KEY: is not the key the stored connection tokens were encrypted with (its check value does not decrypt). Set the original key; ${START_OVER}.`]);
    }
    log.warn('ENCRYPTION_KEY differs from the one used before; no tokens are stored, so the new key is adopted');
  }
  if (stored === undefined && holdsTokens) {
    // Tokens without a check value (written before the check existed): the tokens themselves are the check.
    for (const side of sides) {
      try {
        await connections.get(side);
      } catch (err) {
        if (err instanceof DecryptionError) throw new ConfigError([`ENCRYPTION_KEY: ${err.message}. Set the original key; ${START_OVER}.`]);
        throw err;
      }
    }
  }
  if (stored === undefined || !decrypts(cipher, stored)) await kv.set(KEY_CHECK, cipher.encrypt(KNOWN_PLAINTEXT, PURPOSE));
}

function decrypts(cipher: TokenCipher, stored: string): boolean {
  try {
    return cipher.decrypt(stored, PURPOSE) === KNOWN_PLAINTEXT;
  } catch {
    return false;
  }
}
