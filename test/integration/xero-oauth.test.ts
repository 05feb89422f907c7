// Xero's OAuth against nock (identity server and /connections), and its rotating refresh tokens on the shared
// rotation (src/oauth/rotating-tokens.ts) with the pair stored in a real database: the new refresh token is
// stored before the new access token reaches Xero's API, two processes never spend the same refresh token,
// and a refused refresh token marks the connection lost.
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { XeroClient } from '../../src/accounting/xero/client.js';
import { XERO_DEFAULT_SCOPES, XeroOAuth, xeroTokens } from '../../src/accounting/xero/oauth.js';
import { RelayError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { RotationStore } from '../../src/oauth/rotating-tokens.js';
import { TokenCipher } from '../../src/security/crypto.js';
import { Connections } from '../../src/store/connections.js';
import { backends, type SharedDatabase } from '../support/backends.js';
import { XeroApiMock, xeroOas } from '../support/xero-nock.js';

const KEY = Buffer.from('a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01', 'hex');
const TENANT = '7b1d9e40-0c4d-4a4b-9d0a-6a3b2f1e0c11';
const IDENTITY = 'https://identity.xero.com';
const silent = createLogger({ level: 'silent' });

const oauth = () => new XeroOAuth({ clientId: 'XERO-CLIENT-ID', clientSecret: 'xero-client-secret-0123', redirectUri: 'https://relay.example.com/oauth/xero/callback', timeoutMs: 1000 });

afterEach(() => {
  nock.abortPendingRequests();
  nock.cleanAll();
});

describe('Xero OAuth protocol', () => {
  it('sends the administrator to Xero with the granular scopes new apps need (configurable)', () => {
    const url = new URL(oauth().authorizeUrl('state-123'));
    expect(`${url.origin}${url.pathname}`).toBe('https://login.xero.com/identity/connect/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'XERO-CLIENT-ID',
      redirect_uri: 'https://relay.example.com/oauth/xero/callback',
      scope: 'offline_access accounting.contacts accounting.settings.read accounting.invoices accounting.payments.read',
      state: 'state-123',
    });
    expect(XERO_DEFAULT_SCOPES).not.toContain('accounting.transactions');
    const old = new XeroOAuth({ clientId: 'c', clientSecret: 's', redirectUri: 'https://r', timeoutMs: 1, scopes: ['offline_access', 'accounting.transactions'] });
    expect(new URL(old.authorizeUrl('s')).searchParams.get('scope')).toBe('offline_access accounting.transactions');
  });

  it('exchanges a code with the client id and secret as HTTP Basic and a form body; lists the tenants', async () => {
    let seen: { auth: string | null; type: string | null; form: Record<string, string> } | undefined;
    nock(IDENTITY)
      .post('/connect/token')
      .reply(async (req: Request) => {
        seen = { auth: req.headers.get('authorization'), type: req.headers.get('content-type'), form: Object.fromEntries(new URLSearchParams(await req.text())) };
        return [200, { access_token: 'access-A', refresh_token: 'refresh-A', expires_in: 1800, token_type: 'Bearer' }];
      });
    nock('https://api.xero.com')
      .get('/connections')
      .query({ authEventId: 'e1b2c3d4-0000-4000-8000-000000000001' })
      .matchHeader('authorization', 'Bearer access-A')
      .reply(200, [{ id: 'c0c0c0c0-0000-4000-8000-000000000001', tenantId: TENANT, tenantType: 'ORGANISATION', tenantName: 'Demo Company (UK)', authEventId: 'e1b2c3d4-0000-4000-8000-000000000001' }]);

    const before = Date.now();
    const pair = await oauth().exchangeCode('code-1');
    expect(pair).toMatchObject({ accessToken: 'access-A', refreshToken: 'refresh-A' });
    expect(pair.accessExpiresAt - before).toBeGreaterThanOrEqual(1_800_000 - 50);
    expect(seen).toEqual({
      auth: `Basic ${Buffer.from('XERO-CLIENT-ID:xero-client-secret-0123').toString('base64')}`,
      type: 'application/x-www-form-urlencoded',
      form: { grant_type: 'authorization_code', code: 'code-1', redirect_uri: 'https://relay.example.com/oauth/xero/callback' },
    });
    const tenants = await oauth().tenants('access-A', 'e1b2c3d4-0000-4000-8000-000000000001');
    expect(tenants.map((t) => [t.tenantId, t.tenantName])).toEqual([[TENANT, 'Demo Company (UK)']]);
  });

  it('a refresh hands the new pair to persist first, and returns nothing when persist says the row moved on', async () => {
    nock(IDENTITY).post('/connect/token').times(2).reply(200, { access_token: 'access-B', refresh_token: 'refresh-B', expires_in: 1800 });
    const persisted: string[] = [];
    const pair = await oauth().refresh('refresh-A', async (p) => (persisted.push(p.refreshToken), true));
    expect(pair?.accessToken).toBe('access-B');
    expect(persisted).toEqual(['refresh-B']);
    expect(await oauth().refresh('refresh-A', async () => false)).toBeUndefined();
  });

  it('a refused code is permanent; refused client credentials are retryable (the refresh token is not spent)', async () => {
    nock(IDENTITY).post('/connect/token').reply(400, { error: 'invalid_grant' });
    nock(IDENTITY).post('/connect/token').reply(400, { error: 'invalid_client' });
    const code = await oauth().exchangeCode('old-code').catch((e: unknown) => e);
    expect(code).toMatchObject({ code: 'xero_code_refused', kind: 'permanent' });
    const client = await oauth().refresh('refresh-A', async () => true).catch((e: unknown) => e);
    expect(client).toMatchObject({ code: 'xero_oauth_invalid_client', kind: 'retryable' });
  });
});

describe.each(backends)('Xero token rotation on %s', (_name, openDatabase) => {
  let db: SharedDatabase;
  beforeEach(async () => {
    db = await openDatabase();
  });
  afterEach(async () => {
    await db.cleanup();
  });

  /** One relay process: its own store handle and token holder. The connections table takes any side. */
  async function process() {
    const store = await db.open();
    const connections = new Connections(store.db, new TokenCipher(KEY));
    // ConnectionSide is 'kommo' | 'zoho' until the backend seam adds 'xero'; the column is text.
    const rotation = connections as unknown as RotationStore<'xero'>;
    const tokens = xeroTokens({ store: rotation, oauth: oauth(), log: silent, leaseMs: 5000, pollMs: 20 });
    return { connections, rotation, tokens };
  }

  it('stores the new refresh token before the new access token reaches the API; single-flight across calls and processes', async () => {
    const a = await process();
    const b = await process();
    await a.connections.connect('xero' as never, { accessToken: 'access-A', accessExpiresAt: Date.now() - 1000, refreshToken: 'refresh-A' });
    const events: string[] = [];
    nock(IDENTITY)
      .post('/connect/token')
      .once()
      .delay(100)
      .reply(async (req: Request) => {
        const form = new URLSearchParams(await req.text());
        events.push(`refresh with ${form.get('refresh_token')}`);
        return [200, { access_token: 'access-B', refresh_token: 'refresh-B', expires_in: 1800 }];
      });
    const api = new XeroApiMock(await xeroOas());
    api.on('GET', '/Currencies', async (req) => {
      const stored = await a.rotation.get('xero');
      events.push(`api with ${req.headers.authorization} while stored refresh token is ${stored?.refreshToken}`);
      return [200, { Currencies: [{ Code: 'EUR' }] }];
    }, 3);
    const clientOf = (t: typeof a.tokens) => new XeroClient({ tokens: t, tenantId: () => TENANT, timeoutMs: 1000, log: silent });

    await Promise.all([clientOf(a.tokens).currencies(), clientOf(a.tokens).currencies(), clientOf(b.tokens).currencies()]);

    expect(events).toEqual([
      'refresh with refresh-A',
      'api with Bearer access-B while stored refresh token is refresh-B',
      'api with Bearer access-B while stored refresh token is refresh-B',
      'api with Bearer access-B while stored refresh token is refresh-B',
    ]);
    expect(a.tokens.refreshCount + b.tokens.refreshCount).toBe(1);
    expect(api.violations).toEqual([]);
  });

  it('a refused refresh token (invalid_grant) marks the connection lost and every call waits for a reconnect', async () => {
    const a = await process();
    await a.connections.connect('xero' as never, { accessToken: 'access-A', accessExpiresAt: Date.now() - 1000, refreshToken: 'refresh-A' });
    nock(IDENTITY).post('/connect/token').once().reply(400, { error: 'invalid_grant' });
    const err = await a.tokens.accessToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RelayError);
    expect(err).toMatchObject({ code: 'xero_not_connected', kind: 'retryable' });
    expect((err as RelayError).message).toContain('Reconnect Xero on the /connect page');
    expect((await a.rotation.get('xero'))?.status).toBe('lost');
    expect(await a.tokens.accessToken().catch((e: unknown) => (e as RelayError).code)).toBe('xero_not_connected');
  });
});
