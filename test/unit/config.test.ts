import { describe, expect, it } from 'vitest';
import { zohoAccountsUrl } from '../../src/accounting/zoho/settings.js';
import { ConfigError, databaseTarget, parseEnv } from '../../src/config/env.js';
import { parseMapping } from '../../src/config/mapping.js';
import { resolveMapping } from '../../src/config/resolve-mapping.js';
import type { KommoPipeline } from '../../src/kommo/types.js';

const valid = {
  WEBHOOK_SECRET: 'a-long-enough-secret-123',
  KOMMO_BASE_URL: 'https://acme.kommo.com/',
  KOMMO_ACCESS_TOKEN: 'kommo-token',
  ZOHO_CLIENT_ID: '1000.ABC',
  ZOHO_CLIENT_SECRET: 'zoho-secret',
  ZOHO_REFRESH_TOKEN: '1000.refresh',
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    parseEnv(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('environment', () => {
  it('applies defaults and normalises URLs', () => {
    const env = parseEnv(valid);
    expect(env).toMatchObject({ PORT: 3000, DATABASE_URL: 'sqlite:./data/relay.db', KOMMO_BASE_URL: 'https://acme.kommo.com', KOMMO_RATE_LIMIT_PER_SECOND: 7, ACCOUNTING: 'zoho' });
    expect(env.accounting.backend.id).toBe('zoho');
    expect(env.accounting.settings).toMatchObject({ ZOHO_DC: 'com', ZOHO_RATE_LIMIT_REQUESTS: 100, ZOHO_RATE_LIMIT_WINDOW_SECONDS: 60 });
  });

  it('ACCOUNTING names a registered backend; the default zoho keeps a deployment of the Zoho-only relay working unchanged', () => {
    expect(problems({ ...valid, ACCOUNTING: 'quickbooks' })).toEqual(['ACCOUNTING: must be one of zoho, xero, wave']);
    expect(parseEnv({ ...valid, ACCOUNTING: ' Zoho ' }).ACCOUNTING).toBe('zoho');
  });

  it.each([
    [{ WEBHOOK_SECRET: undefined }, 'WEBHOOK_SECRET: is required'],
    [{ WEBHOOK_SECRET: 'short' }, 'WEBHOOK_SECRET: must be at least 16 characters'],
    [{ WEBHOOK_SECRET: 'has/slash/in/it/long-enough' }, 'WEBHOOK_SECRET: may only contain'],
    [{ KOMMO_BASE_URL: 'acme' }, 'KOMMO_BASE_URL: must be a URL'],
    [{ KOMMO_BASE_URL: 'https://acme.kommo.com/api/v4' }, 'KOMMO_BASE_URL: must be the account URL only'],
    [{ ZOHO_DC: 'de' }, 'ZOHO_DC: must be one of com, eu, in, com.au, jp, ca, sa, com.cn'],
    [{ PORT: 'eighty' }, 'PORT:'],
    [{ ZOHO_ORGANIZATION_ID: 'acme' }, 'ZOHO_ORGANIZATION_ID: must be the numeric organization ID'],
    [{ ZOHO_REFRESH_TOKEN: '' }, 'ZOHO_REFRESH_TOKEN: is required'],
    [{ ZOHO_API_URL: 'https://www.zohoapis.eu/books/v3' }, 'ZOHO_API_URL: must be a bare origin with no path, such as https://www.zohoapis.eu'],
    [{ ZOHO_ACCOUNTS_URL: 'https://accounts.zoho.eu/oauth/v2' }, 'ZOHO_ACCOUNTS_URL: must be a bare origin with no path'],
  ])('%j -> %s', (override, expected) => {
    const list = problems({ ...valid, ...override });
    expect(list.some((p) => p.startsWith(expected))).toBe(true);
  });

  it('lists every problem at once and never echoes a secret value', () => {
    const list = problems({ WEBHOOK_SECRET: 'tiny', KOMMO_BASE_URL: 'nope' });
    expect(list.length).toBeGreaterThanOrEqual(5);
    expect(list.join('\n')).not.toContain('tiny');
  });

  it('maps data centres to accounts servers, with overrides', () => {
    expect(zohoAccountsUrl({ ZOHO_DC: 'eu', ZOHO_ACCOUNTS_URL: undefined })).toBe('https://accounts.zoho.eu');
    expect(zohoAccountsUrl({ ZOHO_DC: 'ca', ZOHO_ACCOUNTS_URL: undefined })).toBe('https://accounts.zohocloud.ca');
    expect(zohoAccountsUrl({ ZOHO_DC: 'com.au', ZOHO_ACCOUNTS_URL: undefined })).toBe('https://accounts.zoho.com.au');
    expect(zohoAccountsUrl({ ZOHO_DC: 'eu', ZOHO_ACCOUNTS_URL: 'http://127.0.0.1:9000' })).toBe('http://127.0.0.1:9000');
  });

  it('reads DATABASE_URL for both stores', () => {
    expect(databaseTarget('sqlite:./data/relay.db')).toEqual({ dialect: 'sqlite', location: './data/relay.db' });
    expect(databaseTarget('file:/var/lib/relay.db')).toEqual({ dialect: 'sqlite', location: '/var/lib/relay.db' });
    expect(databaseTarget('postgres://u@h/db')).toEqual({ dialect: 'postgres', location: 'postgres://u@h/db' });
  });
});

const pipelines: KommoPipeline[] = [
  { id: 1, name: 'Sales', _embedded: { statuses: [{ id: 11, name: 'Incoming', pipeline_id: 1 }, { id: 12, name: 'Invoice', pipeline_id: 1 }, { id: 142, name: 'Closed - won', pipeline_id: 1 }] } },
  { id: 2, name: 'Retainers', _embedded: { statuses: [{ id: 21, name: 'Invoice', pipeline_id: 2 }, { id: 142, name: 'Closed - won', pipeline_id: 2 }] } },
];
const leadFields = [
  { id: 900, name: 'Invoice ID', type: 'text' },
  { id: 901, name: 'Invoice URL', type: 'url' },
];
const base = { invoice: { stages: [{ pipeline: 'Sales', stage: 'Invoice' }] }, dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 901 } };

function resolveProblems(raw: unknown): string[] {
  try {
    resolveMapping(parseMapping(raw, 'mapping.json'), { pipelines, leadFields });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('mapping file', () => {
  it('resolves names and IDs, case-insensitively', () => {
    const parsed = parseMapping({ ...base, invoice: { stages: [{ pipeline: 'sales', stage: 'invoice' }, 21] } }, 'm');
    const m = resolveMapping(parsed, { pipelines, leadFields });
    expect(m.invoiceStages).toEqual([
      { pipelineId: 1, statusId: 12, label: 'Sales / Invoice' },
      { pipelineId: 2, statusId: 21, label: 'Retainers / Invoice' },
    ]);
    expect(m.dealFields.invoiceId).toEqual({ id: 900, name: 'Invoice ID', type: 'text' });
    expect(parsed.accounting).toEqual({ referenceTemplate: 'KOMMO-{deal_id}' });
    expect(m.sendInvoice).toBe(true);
  });

  it('an unknown stage lists the stages that exist', () => {
    const [p] = resolveProblems({ ...base, invoice: { stages: [{ pipeline: 'Sales', stage: 'Invoce' }] } });
    expect(p).toContain('MAPPING_FILE invoice.stages[0]: no stage "Invoce" in pipeline "Sales"');
    expect(p).toContain("'Invoice' (12)");
  });

  it('an ambiguous stage name asks for the pipeline', () => {
    const [p] = resolveProblems({ ...base, invoice: { stages: ['Invoice'] } });
    expect(p).toContain('exists in several pipelines (Sales, Retainers)');
  });

  it('an unknown pipeline lists the pipelines', () => {
    expect(resolveProblems({ ...base, invoice: { stages: [{ pipeline: 'Nope', stage: 'Invoice' }] } })[0]).toContain("Pipelines: 'Sales' (1), 'Retainers' (2)");
  });

  it('an unknown field lists the lead fields, and all problems come together', () => {
    const list = resolveProblems({ ...base, dealFields: { invoiceId: 'Invoice Nr', invoiceUrl: 999 } });
    expect(list).toHaveLength(2);
    expect(list[0]).toContain('dealFields.invoiceId: no lead field "Invoice Nr". Lead fields: \'Invoice ID\' (900, text)');
    expect(list[1]).toContain('dealFields.invoiceUrl: no lead field 999');
  });

  it.each([
    [{ dealFields: base.dealFields }, 'invoice'],
    [{ ...base, invoice: { stages: [] } }, 'invoice.stages: list at least one stage'],
    [{ ...base, extra: 1 }, '(top level)'],
    [{ ...base, zoho: { dealIdField: 'Kommo Deal' } }, "zoho.dealIdField: must be a Zoho custom field api_name such as 'cf_kommo_deal_id'"],
    [{ ...base, zoho: { referenceTemplate: 'DEAL' } }, 'zoho.referenceTemplate: must contain {deal_id}'],
  ])('schema problem %#: %s', (raw, expected) => {
    const list = resolveProblems(raw);
    expect(list.join('\n')).toContain(expected);
    expect(list.every((p) => p.startsWith('MAPPING_FILE mapping.json: '))).toBe(true);
  });
});
