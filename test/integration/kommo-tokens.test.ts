// Kommo's single-use refresh tokens against the fake Kommo OAuth server (which revokes a used refresh token
// and the access token it replaced), with the pair stored in a real database. Two store handles and two
// token holders on the same database stand for two relay processes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { permanent, RelayError } from '../../src/errors.js';
import { KommoClient } from '../../src/kommo/client.js';
import { KommoOAuth } from '../../src/kommo/oauth.js';
import { KommoTokens } from '../../src/kommo/tokens.js';
import { createLogger } from '../../src/log.js';
import { TokenCipher } from '../../src/security/crypto.js';
import { Connections } from '../../src/store/connections.js';
import type { Store } from '../../src/store/db.js';
import { createFakeKommo, type FakeKommo } from '../../sandbox/kommo/server.js';
import { backends, type SharedDatabase } from '../support/backends.js';

const KEY = Buffer.from('a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01', 'hex');
const INITIAL = 'kommo-initial-refresh-token';
const silent = createLogger({ level: 'silent' });

interface Process {
  store: Store;
  connections: Connections;
  tokens: KommoTokens;
  client: KommoClient;
}

describe.each(backends)('Kommo token rotation on %s', (_name, openDatabase) => {
  let db: SharedDatabase;
  let fake: FakeKommo;
  let baseUrl: string;

  beforeEach(async () => {
    db = await openDatabase();
    fake = createFakeKommo({ rateLimitPerSecond: 10_000, initialRefreshToken: INITIAL });
    baseUrl = await fake.listen();
  });
  afterEach(async () => {
    await fake.close();
    await db.cleanup();
  });

  /** One relay process's worth: its own store handle, token holder and Kommo client. */
  async function startProcess(o: { leaseMs?: number; oauth?: Pick<KommoOAuth, 'refresh' | 'exchangeCode'> } = {}): Promise<Process> {
    const store = await db.open();
    const connections = new Connections(store.db, new TokenCipher(KEY));
    const oauth = o.oauth ?? new KommoOAuth({ baseUrl, clientId: 'kommo-client-id', clientSecret: 'kommo-client-secret', redirectUri: 'https://relay.example.com/oauth/kommo/callback', timeoutMs: 2000 });
    const tokens = new KommoTokens({ connections, oauth: oauth as KommoOAuth, log: silent, leaseMs: o.leaseMs ?? 5000, pollMs: 20 });
    const client = new KommoClient({ baseUrl, accessToken: () => tokens.accessToken(), onUnauthorized: (t) => tokens.onUnauthorized(t), ratePerSecond: 1000, timeoutMs: 2000, log: silent, retryBaseMs: 5 });
    return { store, connections, tokens, client };
  }

  const refusedRefreshes = () => fake.requests.filter((r) => r.path === '/oauth2/access_token' && r.status !== 200);

  it('seeded from KOMMO_REFRESH_TOKEN, rotated, and continued after a restart with the stored pair (the spent env value is ignored)', async () => {
    const first = await startProcess();
    expect(await first.tokens.seedFromEnvironment(INITIAL)).toBe(true);
    expect((await first.client.getAccount()).id).toBe(30011223);
    expect(fake.state.refreshCount).toBe(1);
    const stored = await first.connections.get('kommo');
    expect(stored?.refreshToken).not.toBe(INITIAL);
    expect(fake.tokens.refresh.get(INITIAL)?.used).toBe(true);
    expect(fake.tokens.refresh.get(stored!.refreshToken!)?.used).toBe(false);

    // Restart: a new process with the same (now spent) KOMMO_REFRESH_TOKEN in its environment.
    const restarted = await startProcess();
    expect(await restarted.tokens.seedFromEnvironment(INITIAL)).toBe(false);
    expect((await restarted.client.getAccount()).id).toBe(30011223);
    expect(fake.state.refreshCount).toBe(1); // the stored access token was still valid

    fake.expireAccessTokens();
    expect((await restarted.client.getAccount()).id).toBe(30011223);
    expect(fake.state.refreshCount).toBe(2);
    expect(refusedRefreshes()).toEqual([]);

    // At rest, only ciphertext.
    const row = await restarted.store.db.selectFrom('connections').selectAll().where('side', '=', 'kommo').executeTakeFirstOrThrow();
    const now = await restarted.connections.get('kommo');
    expect(row.refresh_token).toMatch(/^v1:/);
    expect(row.access_token).toMatch(/^v1:/);
    expect(JSON.stringify(row)).not.toContain(now!.refreshToken!);
    expect(JSON.stringify(row)).not.toContain(now!.accessToken!);
    expect(row.generation).toBe(3); // seeded 1, two rotations
  });

  it('two processes refreshing at once, round after round: one refresh per round, no spent refresh token ever sent', async () => {
    const a = await startProcess();
    const b = await startProcess();
    await a.tokens.seedFromEnvironment(INITIAL);
    expect(await b.tokens.seedFromEnvironment(INITIAL)).toBe(false);
    for (let round = 1; round <= 4; round++) {
      if (round > 1) fake.expireAccessTokens();
      const calls = [...Array.from({ length: 10 }, () => a.client.getAccount()), ...Array.from({ length: 10 }, () => b.client.getAccount())];
      const accounts = await Promise.all(calls);
      expect(accounts.map((x) => x.id)).toEqual(Array.from({ length: 20 }, () => 30011223));
      expect(fake.state.refreshCount).toBe(round);
    }
    expect(a.tokens.refreshCount + b.tokens.refreshCount).toBe(4);
    expect(refusedRefreshes()).toEqual([]);
    const sent = fake.requests.filter((r) => r.path === '/oauth2/access_token').map((r) => (r.body as { refresh_token: string }).refresh_token);
    expect(new Set(sent).size).toBe(sent.length);
  });

  it('a refused refresh re-reads the store: a pair another process stored meanwhile is adopted, not reported as lost', async () => {
    const other = await startProcess();
    await other.tokens.seedFromEnvironment(INITIAL);
    let refreshes = 0;
    const slow = await startProcess({
      oauth: {
        exchangeCode: async () => {
          throw new Error('not used');
        },
        // While this process's request is under way, the other process (its lease taken over) rotates.
        refresh: async () => {
          refreshes++;
          await other.connections.connect('kommo', pairFrom(fake));
          throw permanent('kommo_refresh_refused', 'Kommo refused the refresh token (Token has been revoked)');
        },
      },
    });
    const adopted = await slow.tokens.accessToken();
    const stored = await other.connections.get('kommo');
    expect(adopted).toBe(stored?.accessToken);
    expect(stored?.status).toBe('connected');
    expect(refreshes).toBe(1);
  });

  it('a refresh token Kommo no longer accepts: the connection is marked lost once, and later calls do not ask Kommo again', async () => {
    const p = await startProcess();
    await p.tokens.seedFromEnvironment(INITIAL);
    fake.tokens.refresh.get(INITIAL)!.used = true; // spent elsewhere (e.g. another tool)
    const err = await p.client.getAccount().then(
      () => undefined,
      (e: unknown) => e as RelayError,
    );
    expect(err).toBeInstanceOf(RelayError);
    expect(err?.code).toBe('kommo_not_connected');
    expect(err?.retryable).toBe(true);
    expect(err?.message).toBe('Kommo refused the refresh token (Token has been revoked): the Kommo connection is lost. Reconnect Kommo on the /connect page.');
    const row = await p.connections.describe('kommo');
    expect(row?.status).toBe('lost');
    expect(row?.lastError).toBe(err?.message);
    const before = fake.requests.length;
    const again = await p.tokens.accessToken().catch((e: RelayError) => e);
    expect((again as RelayError).code).toBe('kommo_not_connected');
    expect(fake.requests.length).toBe(before);
  });

  it('access tokens that live 2 seconds are refreshed about once per lifetime, not on every call', async () => {
    await fake.close();
    fake = createFakeKommo({ rateLimitPerSecond: 10_000, initialRefreshToken: INITIAL, accessTokenTtlSeconds: 2 });
    baseUrl = await fake.listen();
    const p = await startProcess();
    await p.tokens.seedFromEnvironment(INITIAL);
    const started = Date.now();
    let calls = 0;
    while (Date.now() - started < 5_000) {
      expect((await p.client.getAccount()).id).toBe(30011223);
      calls++;
      await new Promise((r) => setTimeout(r, 50));
    }
    const elapsedS = (Date.now() - started) / 1000;
    expect(calls).toBeGreaterThan(40);
    expect(fake.state.refreshCount).toBeGreaterThanOrEqual(3); // the first token, then at least two renewals
    expect(fake.state.refreshCount).toBeLessThanOrEqual(Math.ceil(elapsedS / 2) + 2);
    expect(fake.requests.filter((r) => r.path.startsWith('/api/v4/account') && r.status === 401)).toEqual([]);
  }, 20_000);

  it('a lease left by a process that died mid-refresh is taken over once it expires', async () => {
    const p = await startProcess({ leaseMs: 300 });
    await p.tokens.seedFromEnvironment(INITIAL);
    const row = await p.connections.describe('kommo');
    expect(await p.connections.claimRefresh('kommo', row!.generation, 'dead-process', 300)).toBe(true);
    const started = Date.now();
    expect((await p.client.getAccount()).id).toBe(30011223);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(fake.state.refreshCount).toBe(1);
  });
});

function pairFrom(fake: FakeKommo) {
  const t = fake.issueTokens();
  return { accessToken: t.access_token, accessExpiresAt: Date.now() + t.expires_in * 1000, refreshToken: t.refresh_token };
}
