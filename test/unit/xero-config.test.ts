// ACCOUNTING=xero at start-up: its settings and its mapping section are checked before anything runs, each
// problem named with what to do; a Zoho deployment is not touched by them.
import { describe, expect, it } from 'vitest';
import type { AccountingBackend } from '../../src/accounting/backend.js';
import { xeroBackend } from '../../src/accounting/xero/index.js';
import { xeroSchedule } from '../../src/accounting/xero/mapping.js';
import { ConfigError, parseEnv } from '../../src/config/env.js';
import { parseMapping } from '../../src/config/mapping.js';

const xero = {
  WEBHOOK_SECRET: 'a-long-enough-secret-123',
  KOMMO_BASE_URL: 'https://acme.kommo.com/',
  KOMMO_ACCESS_TOKEN: 'kommo-token',
  ACCOUNTING: 'xero',
  XERO_CLIENT_ID: 'C1D2E3F4A5B6C7D8E9F0A1B2C3D4E5F6',
  XERO_CLIENT_SECRET: 'xero-secret-xero-secret-xero-secret',
  XERO_REDIRECT_URI: 'https://relay.example.com/connect/xero/callback',
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

const backend = xeroBackend as AccountingBackend;
const mapping = { invoice: { stages: ['Invoice'] }, dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' } };

describe('Xero settings', () => {
  it('defaults: Xero\'s own hosts, its limits and the granular scopes; the relay\'s public URL from the redirect URI', () => {
    const env = parseEnv(xero);
    expect(env.accounting.backend.id).toBe('xero');
    expect(env.accounting.settings).toMatchObject({
      XERO_RATE_LIMIT_PER_MINUTE: 60,
      XERO_CONCURRENT_CALLS: 5,
      XERO_DAY_LIMIT: 5000,
      XERO_SCOPES: ['offline_access', 'accounting.contacts', 'accounting.settings.read', 'accounting.invoices', 'accounting.payments.read'],
    });
    expect(xeroBackend.publicUrl(env.accounting.settings as never)).toBe('https://relay.example.com');
    const tenant = parseEnv({ ...xero, XERO_TENANT_ID: ' 8F3C9E52-1B2A-4C1D-9E8F-0A1B2C3D4E5F ', XERO_SCOPES: 'offline_access accounting.transactions accounting.contacts' });
    expect(tenant.accounting.settings).toMatchObject({ XERO_TENANT_ID: '8f3c9e52-1b2a-4c1d-9e8f-0a1b2c3d4e5f', XERO_SCOPES: ['offline_access', 'accounting.transactions', 'accounting.contacts'] });
  });

  it('every problem at once, each naming its setting', () => {
    const { XERO_CLIENT_ID: _, ...noClient } = xero;
    expect(
      problems(() =>
        parseEnv({ ...noClient, XERO_TENANT_ID: 'acme', XERO_SCOPES: 'accounting.invoices', XERO_API_URL: 'http://127.0.0.1:4020/api.xro/2.0', XERO_RATE_LIMIT_PER_MINUTE: '0' }),
      ),
    ).toEqual([
      'XERO_CLIENT_ID: is required (developer.xero.com > My Apps > your app > Configuration)',
      "XERO_TENANT_ID: must be the organisation's tenant ID, a GUID such as 8f3c9e52-1b2a-4c1d-9e8f-0a1b2c3d4e5f (relay discover lists them)",
      'XERO_SCOPES: must include offline_access (without it Xero gives no refresh token)',
      'XERO_API_URL: must be a bare origin with no path, such as http://127.0.0.1:4020 (the relay adds the paths)',
      'XERO_RATE_LIMIT_PER_MINUTE: Too small: expected number to be >=1',
    ]);
  });

  it('no way to connect: neither a redirect URI nor a refresh token; tokens are stored, so ENCRYPTION_KEY and ADMIN_TOKEN are needed', () => {
    const { XERO_REDIRECT_URI: _, ENCRYPTION_KEY: __, ADMIN_TOKEN: ___, ...bare } = xero;
    const found = problems(() => parseEnv(bare));
    expect(found).toContain(
      'XERO_REDIRECT_URI: is required unless XERO_REFRESH_TOKEN is set. Xero is not connected: set XERO_REDIRECT_URI (https://<relay>/connect/xero/callback, registered with the Xero app) and open /connect, or set XERO_REFRESH_TOKEN',
    );
    expect(found.some((p) => p.startsWith('ENCRYPTION_KEY:'))).toBe(true);
    expect(found.some((p) => p.startsWith('ADMIN_TOKEN:'))).toBe(true);
    expect(problems(() => parseEnv({ ...bare, XERO_REFRESH_TOKEN: 'seed', ENCRYPTION_KEY: xero.ENCRYPTION_KEY, ADMIN_TOKEN: xero.ADMIN_TOKEN }))).toEqual([]);
  });

  it('a Zoho deployment does not read XERO_* settings at all', () => {
    const env = parseEnv({ WEBHOOK_SECRET: xero.WEBHOOK_SECRET, KOMMO_BASE_URL: xero.KOMMO_BASE_URL, KOMMO_ACCESS_TOKEN: 'k', ZOHO_CLIENT_ID: '1000.A', ZOHO_CLIENT_SECRET: 's', ZOHO_REFRESH_TOKEN: 'r', XERO_TENANT_ID: 'acme' });
    expect(env.accounting.backend.id).toBe('zoho');
  });

  it('the secrets among them are scrubbed from logs', () => {
    const settings = parseEnv({ ...xero, XERO_REFRESH_TOKEN: 'seed-token', XERO_WEBHOOK_KEY: 'hook-key' }).accounting.settings;
    expect(xeroBackend.settings.secrets(settings as never)).toEqual([xero.XERO_CLIENT_SECRET, 'seed-token', 'hook-key']);
  });
});

describe("Xero's mapping section", () => {
  it('defaults: KOMMO-{deal_id} references, Exclusive line amounts, the account and theme left to the organisation', () => {
    expect(parseMapping(mapping, 'm', backend).accounting).toEqual({ referenceTemplate: 'KOMMO-{deal_id}', lineAmountTypes: 'Exclusive' });
    expect(parseMapping({ ...mapping, xero: { salesAccountCode: '4000', brandingTheme: 'Standard', lineAmountTypes: 'Inclusive', referenceTemplate: 'CRM-{deal_id}' } }, 'm', backend).accounting).toEqual({
      salesAccountCode: '4000',
      brandingTheme: 'Standard',
      lineAmountTypes: 'Inclusive',
      referenceTemplate: 'CRM-{deal_id}',
    });
  });

  it('refuses what Xero cannot use, naming where', () => {
    const found = problems(() => parseMapping({ ...mapping, xero: { referenceTemplate: 'KOMMO', lineAmountTypes: 'Gross', dealIdField: 'cf_x' } }, 'm', backend));
    expect(found).toEqual(expect.arrayContaining([expect.stringMatching(/^MAPPING_FILE m: xero: Unrecognized key: "dealIdField"/)]));
    expect(problems(() => parseMapping({ ...mapping, xero: { referenceTemplate: 'KOMMO' } }, 'm', backend))).toEqual(['MAPPING_FILE m: xero.referenceTemplate: must contain {deal_id}']);
    expect(problems(() => parseMapping({ ...mapping, tax: { rules: { GB: { tax: 'OUTPUT2', customer: { vat_treatment: 'uk' } } } } }, 'm', backend))).toEqual([
      'MAPPING_FILE m: tax.rules.GB.customer: Xero takes no customer settings from a tax rule (the tax goes on each invoice line as its TaxType): remove "customer"',
    ]);
  });

  it('a retainer on a schedule Xero cannot repeat on stops start-up; whole weeks of days and years are exact', () => {
    const withRetainer = (frequency: string, every: number) => ({ ...mapping, retainer: { startStages: ['Retainer'], recurringIdField: 'Recurring ID', frequency, every } });
    expect(problems(() => parseMapping(withRetainer('days', 10), 'm', backend))).toEqual([
      'MAPPING_FILE m: retainer.frequency: Xero repeats invoices only every so many weeks or months, and every 10 days is neither (use a multiple of 7 days, weeks or months). Change retainer.frequency and retainer.every (ACCOUNTING=xero).',
    ]);
    expect(problems(() => parseMapping(withRetainer('days', 14), 'm', backend))).toEqual([]);
    expect(problems(() => parseMapping(withRetainer('years', 2), 'm', backend))).toEqual([]);
    expect([xeroSchedule('days', 14), xeroSchedule('weeks', 3), xeroSchedule('months', 3), xeroSchedule('years', 2)]).toEqual([
      { unit: 'WEEKLY', period: 2 },
      { unit: 'WEEKLY', period: 3 },
      { unit: 'MONTHLY', period: 3 },
      { unit: 'MONTHLY', period: 24 },
    ]);
  });
});
