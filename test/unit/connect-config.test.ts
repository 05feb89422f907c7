// The settings of the connection feature: which combinations start, and the messages that name the
// setting and what to do — never the secret value.
import { describe, expect, it } from 'vitest';
import { zohoAuthMode, type ZohoSettings } from '../../src/accounting/zoho/settings.js';
import { ConfigError, kommoAuthMode, parseEnv } from '../../src/config/env.js';

const ADMIN = '7ce3b9ed9ae8dce54356b72b06685e635e692e179b7f55a3f35a08ad09ea44bc';
const KEY = 'a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01';
const base = {
  WEBHOOK_SECRET: 'a-long-enough-secret-123',
  KOMMO_BASE_URL: 'https://acme.kommo.com',
  ZOHO_CLIENT_ID: '1000.ABC',
  ZOHO_CLIENT_SECRET: 'zoho-secret',
};
const kommoOAuth = {
  KOMMO_CLIENT_ID: 'c0ffee-client',
  KOMMO_CLIENT_SECRET: 'kommo-client-secret-value',
  KOMMO_REDIRECT_URI: 'https://relay.example.com/connect/kommo/callback',
};
const oauthBoth = { ...base, ...kommoOAuth, ZOHO_REDIRECT_URI: 'https://relay.example.com/connect/zoho/callback', ENCRYPTION_KEY: KEY, ADMIN_TOKEN: ADMIN };

function problems(env: Record<string, string | undefined>): string[] {
  try {
    parseEnv(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('connection settings', () => {
  it('tokens in the environment alone still start, with no key or admin token', () => {
    const env = parseEnv({ ...base, KOMMO_ACCESS_TOKEN: 'kommo-token', ZOHO_REFRESH_TOKEN: '1000.refresh' });
    expect([kommoAuthMode(env), zohoAuthMode(env.accounting.settings as ZohoSettings)]).toEqual(['long_lived', 'self_client']);
    expect(env.KOMMO_AUTHORIZE_URL).toBe('https://www.kommo.com/oauth');
  });

  it('both sides through /connect: no token needed in the environment', () => {
    const env = parseEnv(oauthBoth);
    expect([kommoAuthMode(env), zohoAuthMode(env.accounting.settings as ZohoSettings)]).toEqual(['oauth', 'oauth']);
    expect(env.ENCRYPTION_KEY).toBe(KEY);
  });

  it('neither side has a way in: one message per side, saying what to set', () => {
    expect(problems(base)).toEqual([
      'KOMMO_ACCESS_TOKEN: is required unless Kommo OAuth is set up. Kommo is not connected: set KOMMO_ACCESS_TOKEN, or set KOMMO_CLIENT_ID/KOMMO_CLIENT_SECRET/KOMMO_REDIRECT_URI and open /connect',
      "ZOHO_REFRESH_TOKEN: is required unless Zoho OAuth is set up. Zoho is not connected: set ZOHO_REFRESH_TOKEN (a Self Client's refresh token), or set ZOHO_REDIRECT_URI and open /connect",
      'ENCRYPTION_KEY: is required because Kommo and Zoho use OAuth, whose tokens are stored encrypted (generate one with: openssl rand -hex 32)',
      'ADMIN_TOKEN: is required because Kommo and Zoho use OAuth, connected on the /connect page it protects (generate one with: openssl rand -hex 32)',
    ]);
  });

  it('Kommo OAuth needs its three client settings together', () => {
    expect(problems({ ...oauthBoth, KOMMO_CLIENT_SECRET: undefined, KOMMO_REDIRECT_URI: undefined })).toEqual([
      'KOMMO_CLIENT_SECRET: is required with KOMMO_CLIENT_ID (Kommo OAuth needs KOMMO_CLIENT_ID, KOMMO_CLIENT_SECRET, KOMMO_REDIRECT_URI together)',
      'KOMMO_REDIRECT_URI: is required with KOMMO_CLIENT_ID (Kommo OAuth needs KOMMO_CLIENT_ID, KOMMO_CLIENT_SECRET, KOMMO_REDIRECT_URI together)',
    ]);
  });

  it('KOMMO_REFRESH_TOKEN needs the client, and is not combined with a long-lived token', () => {
    expect(problems({ ...base, ZOHO_REFRESH_TOKEN: 'z', KOMMO_REFRESH_TOKEN: 'def502-refresh', ENCRYPTION_KEY: KEY, ADMIN_TOKEN: ADMIN })).toEqual([
      'KOMMO_REFRESH_TOKEN: needs KOMMO_CLIENT_ID, KOMMO_CLIENT_SECRET, KOMMO_REDIRECT_URI (the integration the refresh token belongs to)',
    ]);
    expect(problems({ ...base, ...kommoOAuth, ZOHO_REFRESH_TOKEN: 'z', KOMMO_ACCESS_TOKEN: 'kommo-token', KOMMO_REFRESH_TOKEN: 'def502-refresh' })).toEqual([
      'KOMMO_REFRESH_TOKEN: set either KOMMO_ACCESS_TOKEN (a long-lived token) or KOMMO_REFRESH_TOKEN (OAuth), not both',
    ]);
  });

  it('only the side that uses OAuth makes the key and the admin token required', () => {
    expect(problems({ ...base, ...kommoOAuth, ZOHO_REFRESH_TOKEN: '1000.refresh' })).toEqual([
      'ENCRYPTION_KEY: is required because Kommo uses OAuth, whose tokens are stored encrypted (generate one with: openssl rand -hex 32)',
      'ADMIN_TOKEN: is required because Kommo uses OAuth, connected on the /connect page it protects (generate one with: openssl rand -hex 32)',
    ]);
  });

  it.each([
    [{ ENCRYPTION_KEY: 'my-secret-passphrase' }, 'ENCRYPTION_KEY: must be 32 bytes written as 64 hex characters or as base64 (generate one with: openssl rand -hex 32)'],
    [{ ENCRYPTION_KEY: KEY.slice(0, 60) }, 'ENCRYPTION_KEY: must be 32 bytes written as 64 hex characters or as base64 (generate one with: openssl rand -hex 32)'],
    [{ ADMIN_TOKEN: 'short-admin' }, 'ADMIN_TOKEN: must be at least 32 characters (generate one with: openssl rand -hex 32)'],
    [{ ADMIN_TOKEN: 'admin-admin-admin-admin-admin-admin' }, 'ADMIN_TOKEN: is too repetitive: it uses fewer than 10 different characters (generate one with: openssl rand -hex 32)'],
    [{ ADMIN_TOKEN: 'aaaaaaaaaaaaaaaaabcdefghijklmnopqrstuvwxyz' }, 'ADMIN_TOKEN: is too repetitive: runs or sequences (aaa, abc, 123) make up more than a quarter of it (generate one with: openssl rand -hex 32)'],
    [{ ADMIN_TOKEN: 'Tr0ub4dor&3-horseTr0ub4dor&3-staple' }, 'ADMIN_TOKEN: is too repetitive: the same 8 characters appear twice in it (generate one with: openssl rand -hex 32)'],
    [{ ADMIN_TOKEN: 'sandbox-admin-token-0123456789' }, 'ADMIN_TOKEN: must be at least 32 characters (generate one with: openssl rand -hex 32)'],
    [{ ZOHO_REDIRECT_URI: 'https://relay.example.com/oauth/zoho' }, "ZOHO_REDIRECT_URI: must be the relay's public URL followed by /connect/zoho/callback, e.g. https://relay.example.com/connect/zoho/callback"],
    [{ KOMMO_REDIRECT_URI: 'https://relay.example.com/callback' }, "KOMMO_REDIRECT_URI: must be the relay's public URL followed by /connect/kommo/callback, e.g. https://relay.example.com/connect/kommo/callback"],
  ])('%j -> %s', (override, expected) => {
    const list = problems({ ...oauthBoth, ...override });
    expect(list).toEqual([expected]);
    for (const value of Object.values(override)) expect(list.join('\n')).not.toContain(value);
  });
});
