import { join } from 'node:path';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { parseEncryptionKey, TokenCipher } from '../../src/security/crypto.js';
import { Connections } from '../../src/store/connections.js';
import { openStore, type Store } from '../../src/store/db.js';
import { ZohoAuth } from '../../src/accounting/zoho/auth.js';
import { ZohoConnection } from '../../src/accounting/zoho/connection.js';
import { tempDir } from '../support/tmp.js';

// Self Client mode (ZOHO_REFRESH_TOKEN): each start of the relay is a new process on the same database
// file. With ENCRYPTION_KEY set, the access token one start minted is stored sealed and the next start
// uses it instead of minting another (Zoho refuses the 11th token within 10 minutes); the accounts server
// is recorded with nock and counts every mint.
const ACCOUNTS = 'https://accounts.zoho.eu';
const KEY = 'a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01';
const log = createLogger({ level: 'silent' });

describe('Self Client access token across restarts', () => {
  const dir = tempDir('relay-self-client-');
  const file = join(dir.path, 'relay.db');
  const stores: Store[] = [];
  let mints = 0;
  afterEach(async () => {
    mints = 0;
    for (const s of stores.splice(0)) await s.close();
    nock.cleanAll();
    dir.cleanup();
  });

  function accountsServer(expiresIn = 3600) {
    return nock(ACCOUNTS)
      .post('/oauth/v2/token')
      .times(10)
      .reply(200, () => ({ access_token: `1000.minted-${++mints}`, expires_in: expiresIn, api_domain: 'https://www.zohoapis.eu', token_type: 'Bearer' }));
  }

  /** What createClients builds at start-up, on the shared file. */
  async function start(refreshToken: string, key?: string) {
    const store = await openStore({ dialect: 'sqlite', location: file });
    stores.push(store);
    const connections = new Connections(store.db, key ? new TokenCipher(parseEncryptionKey(key)!) : undefined);
    const connection = new ZohoConnection(connections, { ZOHO_REFRESH_TOKEN: refreshToken, ZOHO_ORGANIZATION_ID: '20099', ZOHO_DC: 'eu', ZOHO_ACCOUNTS_URL: undefined }, log);
    const auth = new ZohoAuth({
      accountsUrl: ACCOUNTS,
      clientId: '1000.CLIENT',
      clientSecret: 'client-secret',
      grant: connection.grant,
      onToken: connection.onToken,
      onRefused: connection.onRefused,
      timeoutMs: 2000,
      log,
    });
    return { store, auth };
  }

  it('a restart uses the token the previous start minted, kept sealed in the store', async () => {
    accountsServer();
    const first = await start('1000.refresh-a', KEY);
    expect(await first.auth.accessToken()).toBe('1000.minted-1');
    await new Promise((r) => setTimeout(r, 20)); // onToken stores it after answering
    const row = await first.store.db.selectFrom('kv').select('value').where('key', '=', 'zoho:self_client_token').executeTakeFirstOrThrow();
    expect(row.value).not.toContain('minted');

    for (let restart = 0; restart < 3; restart++) {
      const next = await start('1000.refresh-a', KEY);
      expect(await next.auth.accessToken()).toBe('1000.minted-1');
      expect(next.auth.apiDomain).toBe('https://www.zohoapis.eu');
    }
    expect(mints).toBe(1);
  });

  it('mints anew for another refresh token, a token near its expiry, or without ENCRYPTION_KEY', async () => {
    accountsServer();
    const a = await start('1000.refresh-a', KEY);
    expect(await a.auth.accessToken()).toBe('1000.minted-1');
    await new Promise((r) => setTimeout(r, 20));
    // ZOHO_REFRESH_TOKEN replaced: the stored token was sealed for the old one.
    const b = await start('1000.refresh-b', KEY);
    expect(await b.auth.accessToken()).toBe('1000.minted-2');
    await new Promise((r) => setTimeout(r, 20));
    // Without the key nothing is read or stored.
    const plain = await start('1000.refresh-b');
    expect(await plain.auth.accessToken()).toBe('1000.minted-3');
    expect(mints).toBe(3);
    // The sealed token of refresh-b is still the one a keyed start uses.
    const again = await start('1000.refresh-b', KEY);
    expect(await again.auth.accessToken()).toBe('1000.minted-2');
    expect(mints).toBe(3);
  });

  it('does not reuse a stored token that is about to expire (under 2 s left), but does reuse a short-lived one that is not', async () => {
    accountsServer(1); // 1 s lifetime: too little left for one request
    const a = await start('1000.refresh-a', KEY);
    expect(await a.auth.accessToken()).toBe('1000.minted-1');
    await new Promise((r) => setTimeout(r, 20));
    const b = await start('1000.refresh-a', KEY);
    expect(await b.auth.accessToken()).toBe('1000.minted-2');
  });

  it('reuses a stored token with 30 s left: the margin is a fifth of the lifetime, not a fixed 5 minutes', async () => {
    accountsServer(30);
    const a = await start('1000.refresh-a', KEY);
    expect(await a.auth.accessToken()).toBe('1000.minted-1');
    const b = await start('1000.refresh-a', KEY);
    expect(await b.auth.accessToken()).toBe('1000.minted-1');
    expect(mints).toBe(1);
  });

  it('replaces a stored token Zoho refuses (401), and ignores one sealed with another ENCRYPTION_KEY', async () => {
    accountsServer();
    const a = await start('1000.refresh-a', KEY);
    expect(await a.auth.accessToken()).toBe('1000.minted-1');
    // The next start reads it, a Books call is refused with it: the refresh must not hand it back again.
    const b = await start('1000.refresh-a', KEY);
    expect(await b.auth.accessToken()).toBe('1000.minted-1');
    await b.auth.onUnauthorized('1000.minted-1');
    expect(await b.auth.accessToken()).toBe('1000.minted-2');
    // ...and the replacement is what the following start uses.
    const c = await start('1000.refresh-a', KEY);
    expect(await c.auth.accessToken()).toBe('1000.minted-2');
    // A new ENCRYPTION_KEY cannot open the stored token: a new one is minted, no error.
    const otherKey = 'b'.repeat(64);
    const d = await start('1000.refresh-a', otherKey);
    expect(await d.auth.accessToken()).toBe('1000.minted-3');
    expect(mints).toBe(3);
  });
});
