// Wave's part of the CLI: `relay discover` (the businesses the credentials reach and the one the relay works
// in; its sales taxes, income accounts, currency and products) and `relay check` (the credentials, the
// business, and what invoicing through the API needs of it).
import { problemsOf, table } from '../../cli/format.js';
import { RelayError } from '../../errors.js';
import type { Connections, Organization } from '../../store/connections.js';
import type { AccountingCheck, AccountingDiscovery } from '../backend.js';
import type { WaveClient } from './client.js';
import type { WaveConnection } from './connection.js';
import type { WaveMappingSection } from './mapping.js';
import type { WaveSettings } from './settings.js';

export interface WaveCliDeps {
  client: WaveClient;
  connections: Connections;
  connection: WaveConnection;
  settings: WaveSettings;
  /** Settles the credentials (a seed, the businesses) before the first call. */
  start(): Promise<void>;
}

interface WaveFindings {
  businesses: Array<Organization & { isClassicInvoicing?: boolean; emailSendEnabled?: boolean; currency?: string }>;
  businessId?: string;
  salesTaxes: Array<{ id: string; name: string; abbreviation: string; percentage: number }>;
  incomeAccounts: Array<{ id: string; name: string; subtype: string }>;
  /** The business's currency first, then those with a rate in the mapping's wave.exchangeRates. */
  currencies: string[];
  exchangeRates: Record<string, number>;
  products: Array<{ id: string; name: string; unitPrice: string }>;
  problem?: string;
}

/** `section`: the mapping file's wave section when there is one (its exchangeRates are the other currencies). */
export async function waveDiscovery(cli: WaveCliDeps, section?: Pick<WaveMappingSection, 'exchangeRates'>): Promise<AccountingDiscovery> {
  const found: WaveFindings = { businesses: [], salesTaxes: [], incomeAccounts: [], currencies: [], exchangeRates: {}, products: [] };
  try {
    await cli.start();
    const listed = await cli.client.businesses();
    found.businesses = listed.map((b) => ({ id: b.id, name: b.name, isClassicInvoicing: b.isClassicInvoicing, emailSendEnabled: b.emailSendEnabled, currency: b.currency.code }));
    const businessId = cli.connection.businessId();
    if (!businessId) found.problem = 'no business is chosen: choose one on the /connect page, or set WAVE_BUSINESS_ID';
    else {
      found.businessId = businessId;
      const business = listed.find((b) => b.id === businessId) ?? (await cli.client.businessById(businessId));
      const base = business.currency.code;
      found.exchangeRates = Object.fromEntries(Object.entries(section?.exchangeRates ?? {}).filter(([code]) => code !== base));
      found.currencies = [base, ...Object.keys(found.exchangeRates)];
      found.salesTaxes = (await cli.client.salesTaxes()).filter((t) => !t.isArchived).map((t) => ({ id: t.id, name: t.name, abbreviation: t.abbreviation, percentage: Math.round(Number(t.rate) * 100 * 1e6) / 1e6 }));
      found.incomeAccounts = (await cli.client.incomeAccounts()).filter((a) => !a.isArchived).map((a) => ({ id: a.id, name: a.name, subtype: a.subtype.value }));
      found.products = (await cli.client.products()).map((p) => ({ id: p.id, name: p.name, unitPrice: p.unitPrice }));
    }
  } catch (err) {
    found.problem = problemsOf(err).join(' ');
  }
  return {
    json: found,
    lines: waveSection(found),
    taxes: found.salesTaxes.map((t) => ({ name: t.name, percentage: t.percentage, isDefault: false })),
  };
}

function waveSection(w: WaveFindings): string[] {
  const lines = [
    'Wave businesses',
    ...(w.businesses.length
      ? table(
          w.businesses.map((b) => [
            b.name,
            `id ${b.id}`,
            b.currency ?? '',
            b.isClassicInvoicing ? 'classic invoicing (the API cannot invoice here)' : b.emailSendEnabled === false ? 'cannot email invoices' : '',
            b.id === w.businessId ? '<- the relay works in this one' : '',
          ]),
        )
      : ['  (none known: connect Wave on the /connect page, or set WAVE_ACCESS_TOKEN)']),
  ];
  if (w.problem) lines.push('', `Sales taxes, accounts and products: not read (${w.problem})`);
  if (!w.businessId || w.problem) return lines;
  const [base, ...others] = w.currencies;
  lines.push(
    '',
    "Currencies (another one needs its rate in the mapping's wave.exchangeRates)",
    ...table([[base ?? '', 'base currency'], ...others.map((code) => [code, `rate ${w.exchangeRates[code]} (wave.exchangeRates)`])]),
  );
  lines.push(
    '',
    'Sales taxes (a tax rule names one by its name or abbreviation)',
    ...(w.salesTaxes.length ? table(w.salesTaxes.map((t) => [t.name, `${t.percentage} %`, `id ${t.id}`, t.abbreviation ? `abbreviation ${t.abbreviation}` : ''])) : ['  (none)']),
  );
  lines.push('', "Income accounts (the mapping's wave.incomeAccount names one; default: \"Sales\")", ...(w.incomeAccounts.length ? table(w.incomeAccounts.map((a) => [a.name, a.subtype, `id ${a.id}`])) : ['  (none)']));
  lines.push('', 'Products (a Kommo product of the same name is invoiced on it; others are created once)', ...(w.products.length ? table(w.products.slice(0, 100).map((p) => [p.name, p.unitPrice, `id ${p.id}`])) : ['  (none)']));
  return lines;
}

export async function waveCheck(cli: WaveCliDeps): Promise<AccountingCheck> {
  try {
    await cli.start();
  } catch (err) {
    return { ok: false, problems: problemsOf(err) };
  }
  if (!cli.connection.fullAccess) {
    const c = await cli.connections.describe('wave');
    if (!c || !c.hasRefreshToken) return { ok: false, problems: ['Wave is not connected: connect it on the /connect page (WAVE_REDIRECT_URI), or set WAVE_REFRESH_TOKEN or WAVE_ACCESS_TOKEN.'] };
    if (c.status === 'lost') return { ok: false, problems: [`Wave's connection was lost${c.lastError ? ` (${c.lastError})` : ''}: connect Wave again on the /connect page.`] };
  }
  const businessId = cli.connection.businessId();
  if (!businessId) return { ok: false, problems: ['No Wave business is chosen: choose one on the /connect page, or set WAVE_BUSINESS_ID (relay discover lists them).'] };
  try {
    const business = await cli.client.businessById(businessId);
    const problems: string[] = [];
    if (business.isClassicInvoicing) problems.push(`Wave business "${business.name}" uses classic invoicing, which the API cannot invoice in: upgrade it to Wave's new invoicing.`);
    if (!business.emailSendEnabled) problems.push(`Wave business "${business.name}" cannot email invoices (emailSendEnabled is false): set invoice.send to false, or enable sending in Wave.`);
    const how = cli.connection.fullAccess ? 'WAVE_ACCESS_TOKEN works' : 'the token works';
    return { ok: problems.length === 0, detail: `${how}; business "${business.name}" (${business.id}) is reachable`, problems };
  } catch (err) {
    if (!(err instanceof RelayError)) throw err;
    return { ok: false, detail: `business ${businessId}`, problems: problemsOf(err) };
  }
}
