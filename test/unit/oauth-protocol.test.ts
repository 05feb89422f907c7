// The pure parts of both OAuth flows: consent URLs, which hosts may receive the code and the client
// secret, and the small helpers of the connection page.
import { describe, expect, it } from 'vitest';
import { jwtExpiry } from '../../src/connect/status.js';
import { escapeHtml } from '../../src/http/connect-page.js';
import { kommoAuthorizeUrl, refererIsOurAccount } from '../../src/kommo/oauth.js';
import { trustedAccountsServer, zohoAuthorizeUrl, ZOHO_SCOPES } from '../../src/accounting/zoho/oauth.js';

describe('Zoho consent URL', () => {
  it('asks the accounts server of the data centre for an offline grant with the minimal scopes', () => {
    const url = new URL(zohoAuthorizeUrl('https://accounts.zoho.eu', { clientId: '1000.ABC', redirectUri: 'https://relay.example.com/connect/zoho/callback', state: 'st4te' }));
    expect(url.origin + url.pathname).toBe('https://accounts.zoho.eu/oauth/v2/auth');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      scope: 'ZohoBooks.invoices.ALL,ZohoBooks.contacts.ALL,ZohoBooks.customerpayments.READ,ZohoBooks.settings.READ',
      client_id: '1000.ABC',
      response_type: 'code',
      redirect_uri: 'https://relay.example.com/connect/zoho/callback',
      access_type: 'offline',
      prompt: 'consent',
      state: 'st4te',
    });
    expect(ZOHO_SCOPES).toHaveLength(4);
  });
});

describe('accounts servers a callback may name', () => {
  const configured = 'https://accounts.zoho.com';
  it.each([
    ['https://accounts.zoho.com', 'com'],
    ['https://accounts.zoho.eu', 'eu'],
    ['https://accounts.zoho.eu/', 'eu'],
    ['https://accounts.zoho.in', 'in'],
    ['https://accounts.zoho.com.au', 'com.au'],
    ['https://accounts.zoho.jp', 'jp'],
    ['https://accounts.zoho.sa', 'sa'],
    ['https://accounts.zoho.com.cn', 'com.cn'],
    ['https://accounts.zohocloud.ca', 'ca'],
    ['https://ACCOUNTS.ZOHO.EU', 'eu'],
  ])('%s is trusted (data centre %s)', (named, dc) => {
    expect(trustedAccountsServer(named, configured)).toEqual({ url: new URL(named).origin, dataCentre: dc });
  });

  it.each([
    'https://accounts.zoho.eu.evil.example',
    'https://evil.example',
    'http://accounts.zoho.eu',
    'https://accounts.zoho.eu:8443',
    'https://accounts.zoho.eu/oauth',
    'https://accounts.zoho.eu/?x=1',
    'https://user:pw@accounts.zoho.eu',
    'https://accounts-zoho.eu',
    'https://accounts.zoho.co',
    'javascript:alert(1)',
    'not a url',
  ])('%s is refused', (named) => {
    expect(trustedAccountsServer(named, configured)).toBeUndefined();
  });

  it('the configured ZOHO_ACCOUNTS_URL (a proxy, the sandbox) is trusted too; no name means the configured one', () => {
    expect(trustedAccountsServer('http://127.0.0.1:4010', 'http://127.0.0.1:4010')).toEqual({ url: 'http://127.0.0.1:4010', dataCentre: undefined });
    expect(trustedAccountsServer('http://127.0.0.1:4011', 'http://127.0.0.1:4010')).toBeUndefined();
    expect(trustedAccountsServer(undefined, 'https://accounts.zoho.eu')).toEqual({ url: 'https://accounts.zoho.eu', dataCentre: 'eu' });
  });
});

describe('Kommo consent and referer', () => {
  it('consent URL carries the client and the state', () => {
    const url = new URL(kommoAuthorizeUrl('https://www.kommo.com/oauth', { clientId: 'c0ffee', state: 'st4te' }));
    expect(url.origin + url.pathname).toBe('https://www.kommo.com/oauth');
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: 'c0ffee', state: 'st4te', mode: 'post_message' });
  });

  it.each([
    ['acme.kommo.com', true],
    ['ACME.kommo.com', true],
    ['https://acme.kommo.com', true],
    ['acme.kommo.com/', true],
    ['other.kommo.com', false],
    ['acme.kommo.com.evil.example', false],
    ['evil.example/acme.kommo.com', false],
    ['', false],
    [undefined, false],
  ])('referer %j -> %s', (referer, ok) => {
    expect(refererIsOurAccount(referer, 'https://acme.kommo.com')).toBe(ok);
  });
});

describe('connection page helpers', () => {
  it('escapes everything HTML could read as markup', () => {
    expect(escapeHtml(`<img src=x onerror="a('b')">&\``)).toBe('&#60;img src=x onerror=&#34;a(&#39;b&#39;)&#34;&#62;&#38;&#96;');
  });

  it('reads the expiry of a JWT (Kommo long-lived token) for display, and nothing else', () => {
    const payload = Buffer.from(JSON.stringify({ exp: 1893456000, sub: 'x' })).toString('base64url');
    expect(jwtExpiry(`eyJhbGciOiJSUzI1NiJ9.${payload}.sig`)).toBe(1893456000_000);
    expect(jwtExpiry('kommo-long-lived-token')).toBeUndefined();
    expect(jwtExpiry('a.b.c')).toBeUndefined();
  });
});
