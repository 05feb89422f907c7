// ACCOUNTING=wave at start-up: its settings and its mapping section are checked before anything runs, each
// problem named with what to do; what Wave cannot do (retainers, no polling) stops start-up; a Zoho deployment
// is not touched by WAVE_* settings.
import { describe, expect, it } from 'vitest';
import type { AccountingBackend } from '../../src/accounting/backend.js';
import { waveBackend } from '../../src/accounting/wave/index.js';
import { WaveStamps } from '../../src/accounting/wave/stamp.js';
import { decimal } from '../../src/accounting/wave/products.js';
import { ConfigError, parseEnv } from '../../src/config/env.js';
import { parseMapping } from '../../src/config/mapping.js';

const base = { WEBHOOK_SECRET: 'a-long-enough-secret-123', KOMMO_BASE_URL: 'https://acme.kommo.com/', KOMMO_ACCESS_TOKEN: 'kommo-token', ACCOUNTING: 'wave' };
const fullAccess = { ...base, WAVE_ACCESS_TOKEN: 'wave-full-access-token-0123456789' };
const oauth = {
  ...base,
  WAVE_CLIENT_ID: 'wave-client-id',
  WAVE_CLIENT_SECRET: 'wave-client-secret-0123456789',
  WAVE_REDIRECT_URI: 'https://relay.example.com/connect/wave/callback',
  ENCRYPTION_KEY: 'a3f1c2e4b5d6978812345678abcdef0123456789abcdef0123456789abcdef01',
  ADMIN_TOKEN: 'c81e728d9d4c2f636f067f89cc14862c1f0e3dad64fb75a8',
};

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

const backend = waveBackend as AccountingBackend;
const mapping = { invoice: { stages: ['Invoice'] }, dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' } };

describe('Wave settings', () => {
  it('a Full Access Token alone is enough (no OAuth: no ENCRYPTION_KEY, no ADMIN_TOKEN); defaults are 60 a minute, 2 at once, the relay\'s scopes', () => {
    const env = parseEnv(fullAccess);
    expect(env.accounting.backend.id).toBe('wave');
    expect(env.accounting.settings).toMatchObject({ WAVE_RATE_LIMIT_PER_MINUTE: 60, WAVE_CONCURRENT_CALLS: 2, WAVE_SCOPES: expect.arrayContaining(['invoice:send', 'sales_tax:read', 'account:read']) });
    expect(waveBackend.settings.usesOAuth(new Set(['WAVE_ACCESS_TOKEN']))).toBe(false);
  });

  it('OAuth: the client, a way to connect, ENCRYPTION_KEY and ADMIN_TOKEN; the public URL from the redirect URI', () => {
    const env = parseEnv(oauth);
    expect(waveBackend.publicUrl(env.accounting.settings as never)).toBe('https://relay.example.com');
    const { WAVE_REDIRECT_URI: _, WAVE_CLIENT_SECRET: __, ENCRYPTION_KEY: ___, ...bare } = oauth;
    const found = problems(() => parseEnv(bare));
    expect(found).toEqual(
      expect.arrayContaining([
        'WAVE_CLIENT_SECRET: is required unless WAVE_ACCESS_TOKEN is set (Wave > Manage Applications > your application)',
        expect.stringMatching(/^WAVE_REDIRECT_URI: is required unless WAVE_REFRESH_TOKEN or WAVE_ACCESS_TOKEN is set/),
        expect.stringMatching(/^ENCRYPTION_KEY:/),
      ]),
    );
  });

  it('every malformed value named', () => {
    expect(
      problems(() =>
        parseEnv({ ...fullAccess, WAVE_BUSINESS_ID: 'not an id!', WAVE_SCOPES: 'invoice:read invoice:write', WAVE_API_URL: 'http://127.0.0.1:4030/graphql/public', WAVE_CONCURRENT_CALLS: '0', WAVE_REDIRECT_URI: 'https://relay.example.com/callback' }),
      ),
    ).toEqual([
      "WAVE_REDIRECT_URI: must be the relay's public URL followed by /connect/wave/callback, e.g. https://relay.example.com/connect/wave/callback",
      "WAVE_BUSINESS_ID: must be the business's ID as Wave gives it (relay discover lists them)",
      'WAVE_SCOPES: must include invoice:send (without it Wave refuses to email invoices)',
      'WAVE_API_URL: must be a bare origin with no path, such as http://127.0.0.1:4030 (the relay adds the paths)',
      'WAVE_CONCURRENT_CALLS: Too small: expected number to be >=1',
      'WAVE_REDIRECT_URI: not used with WAVE_ACCESS_TOKEN (a Full Access Token needs no OAuth). Remove it, or remove WAVE_ACCESS_TOKEN to connect through OAuth.',
    ]);
    expect(problems(() => parseEnv({ ...fullAccess, WAVE_REFRESH_TOKEN: 'seed' }))).toEqual([
      'WAVE_REFRESH_TOKEN: not used with WAVE_ACCESS_TOKEN (a Full Access Token needs no OAuth). Remove it, or remove WAVE_ACCESS_TOKEN to connect through OAuth.',
    ]);
  });

  it('Wave sends no webhooks the relay uses: the reconciler may not be turned off', () => {
    expect(problems(() => parseEnv({ ...fullAccess, RECONCILE_INTERVAL_SECONDS: '0' }))).toEqual([
      'RECONCILE_INTERVAL_SECONDS: may not be 0 with ACCOUNTING=wave: Wave sends no webhooks, so the reconciler is how payments reach the deals',
    ]);
  });

  it('a Zoho deployment does not read WAVE_* settings; the secrets are scrubbed from logs', () => {
    const env = parseEnv({ WEBHOOK_SECRET: base.WEBHOOK_SECRET, KOMMO_BASE_URL: base.KOMMO_BASE_URL, KOMMO_ACCESS_TOKEN: 'k', ZOHO_CLIENT_ID: '1000.A', ZOHO_CLIENT_SECRET: 's', ZOHO_REFRESH_TOKEN: 'r', WAVE_BUSINESS_ID: 'not an id!' });
    expect(env.accounting.backend.id).toBe('zoho');
    const settings = parseEnv({ ...oauth, WAVE_REFRESH_TOKEN: 'seed-token' }).accounting.settings;
    expect(waveBackend.settings.secrets(settings as never)).toEqual([oauth.WAVE_CLIENT_SECRET, undefined, 'seed-token']);
  });
});

describe("Wave's mapping section", () => {
  it('defaults: KOMMO-{deal_id} numbers, no other currency; what Wave cannot use is refused, naming where', () => {
    expect(parseMapping(mapping, 'm', backend).accounting).toEqual({ invoiceNumberTemplate: 'KOMMO-{deal_id}', exchangeRates: {} });
    expect(parseMapping({ ...mapping, wave: { invoiceNumberTemplate: 'CRM-{deal_id}', incomeAccount: 'Consulting', exchangeRates: { EUR: 1.08 }, memoTemplate: 'Deal {deal_id}' } }, 'm', backend).accounting).toEqual({
      invoiceNumberTemplate: 'CRM-{deal_id}',
      incomeAccount: 'Consulting',
      exchangeRates: { EUR: 1.08 },
      memoTemplate: 'Deal {deal_id}',
    });
    expect(problems(() => parseMapping({ ...mapping, wave: { invoiceNumberTemplate: 'KOMMO', exchangeRates: { eur: -1 } } }, 'm', backend))).toEqual(
      expect.arrayContaining(['MAPPING_FILE m: wave.invoiceNumberTemplate: must contain {deal_id}', expect.stringMatching(/^MAPPING_FILE m: wave\.exchangeRates/)]),
    );
    expect(problems(() => parseMapping({ ...mapping, tax: { rules: { GB: { tax: 'VAT', customer: { vat_treatment: 'uk' } } } } }, 'm', backend))).toEqual([
      'MAPPING_FILE m: tax.rules.GB.customer: Wave takes no customer settings from a tax rule (the sales tax goes on each invoice line): remove "customer"',
    ]);
  });

  it("a retainer section stops start-up: Wave's API has no recurring invoices", () => {
    const withRetainer = { ...mapping, retainer: { startStages: ['Retainer'], recurringIdField: 'Recurring ID', frequency: 'months', every: 1 } };
    expect(problems(() => parseMapping(withRetainer, 'm', backend))).toEqual([
      'MAPPING_FILE m: retainer: Wave has no recurring invoices, so deals cannot be billed on a schedule. Remove the retainer section (ACCOUNTING=wave).',
    ]);
  });

  it('the invoice number is the stamp, read back for any generation and for nothing else', () => {
    const stamps = new WaveStamps({ invoiceNumberTemplate: 'KOMMO-{deal_id}' });
    expect(stamps.stamp(42, 1).key).toBe('KOMMO-42');
    expect(stamps.stamp(42, 3).key).toBe('KOMMO-42-3');
    expect(stamps.read({ invoiceNumber: 'KOMMO-42-3' })).toEqual({ dealId: '42', retainer: false });
    expect(stamps.read({ invoiceNumber: '1001' })).toBeUndefined();
    expect(stamps.read({ invoiceNumber: `KOMMO-${'9'.repeat(500)}` })).toBeUndefined();
  });

  it('decimals go to Wave as strings without float noise', () => {
    expect([decimal(4800), decimal(0.1 + 0.2), decimal(1.08, 0), decimal(2, 0), decimal(1234.5678)]).toEqual(['4800.00', '0.30', '1.08', '2', '1234.5678']);
  });
});
