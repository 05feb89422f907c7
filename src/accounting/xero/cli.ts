// Xero's part of the CLI: `relay discover` (the organisations the connection reaches and the one the relay
// works in; its tax rates, currencies and revenue accounts) and `relay check` (the connection, the
// organisation, and a call that reaches it).
import { problemsOf, table } from '../../cli/format.js';
import { RelayError } from '../../errors.js';
import type { Connections, Organization } from '../../store/connections.js';
import type { AccountingCheck, AccountingDiscovery } from '../backend.js';
import type { XeroClient } from './client.js';
import type { XeroSettings } from './settings.js';
import type { XeroAccount, XeroCurrency, XeroOrganisation, XeroTaxRate } from './types.js';

export interface XeroCliDeps {
  client: XeroClient;
  connections: Connections;
  settings: XeroSettings;
  /** Settles the connection (a seed from XERO_REFRESH_TOKEN, its organisations) before the first call. */
  start(): Promise<void>;
}

interface XeroFindings {
  organisations: Organization[];
  tenantId?: string;
  organisation?: { name: string; baseCurrency?: string; countryCode?: string };
  taxRates: Array<{ taxType: string; name: string; rate: number; status?: string; canApplyToRevenue: boolean }>;
  currencies: Array<{ code: string; description?: string }>;
  revenueAccounts: Array<{ code: string; name: string; taxType?: string }>;
  problem?: string;
}

/** Revenue accounts a sales invoice line can use (an archived one is refused by Xero). */
const isRevenue = (a: XeroAccount) => a.Class === 'REVENUE' && a.Status !== 'ARCHIVED' && !!a.Code;
const usableForSales = (t: XeroTaxRate) => t.CanApplyToRevenue !== false && (t.Status === undefined || t.Status === 'ACTIVE');

export async function xeroDiscovery(cli: XeroCliDeps): Promise<AccountingDiscovery> {
  const found: XeroFindings = { organisations: [], taxRates: [], currencies: [], revenueAccounts: [] };
  let salesTaxType: string | undefined;
  let target: Target | undefined;
  try {
    await cli.start();
    target = await tenantOf(cli);
    found.organisations = target.organisations;
    if (!target.tenantId) found.problem = target.problem;
    else {
      found.tenantId = target.tenantId;
      const org: XeroOrganisation = await cli.client.organisation();
      found.organisation = { name: org.Name, ...(org.BaseCurrency ? { baseCurrency: org.BaseCurrency } : {}), ...(org.CountryCode ? { countryCode: org.CountryCode } : {}) };
      found.taxRates = (await cli.client.taxRates()).map((t) => ({
        taxType: t.TaxType,
        name: t.Name,
        rate: Number(t.EffectiveRate ?? t.DisplayTaxRate ?? 0),
        ...(t.Status ? { status: t.Status } : {}),
        canApplyToRevenue: usableForSales(t),
      }));
      found.currencies = (await cli.client.currencies()).map((c: XeroCurrency) => ({ code: c.Code, ...(c.Description ? { description: c.Description } : {}) }));
      const accounts = (await cli.client.accounts()).filter(isRevenue);
      found.revenueAccounts = accounts.map((a) => ({ code: a.Code!, name: a.Name ?? a.Code!, ...(a.TaxType ? { taxType: a.TaxType } : {}) }));
      // Xero has no default tax. The "Sales" account's is what a line on it gets when it names none: the
      // organisation's standard rate when it is a real one (above 0 %). An exempt, zero or "no tax" rate, or no
      // account named Sales, is no standard at all: the starter mapping then suggests nothing for the home country.
      const sales = accounts.find((a) => a.Name?.trim().toLowerCase() === 'sales');
      const rate = found.taxRates.find((t) => t.taxType === sales?.TaxType && t.canApplyToRevenue);
      salesTaxType = rate && rate.rate > 0 && rate.taxType !== 'NONE' ? rate.taxType : undefined;
    }
  } catch (err) {
    // XERO_TENANT_ID outside the known list matters only when the organisation cannot be read.
    found.problem = [target?.unlisted, ...problemsOf(err)].filter(Boolean).join(' ');
  }
  return {
    json: found,
    lines: xeroSection(found),
    taxes: found.taxRates.filter((t) => t.canApplyToRevenue).map((t) => ({ name: t.name, percentage: t.rate, isDefault: t.taxType === salesTaxType })),
  };
}

function xeroSection(x: XeroFindings): string[] {
  const lines = [
    'Xero organisations',
    ...(x.organisations.length
      ? table(x.organisations.map((o) => [o.name, `tenant ${o.id}`, o.id === x.tenantId ? '<- the relay works in this one' : '']))
      : ['  (none known: connect Xero on the /connect page)']),
  ];
  if (x.problem) lines.push('', `Tax rates, currencies and accounts: not read (${x.problem})`);
  if (!x.tenantId || !x.organisation) return lines;
  const org = x.organisation;
  lines.push('', `Organisation "${org.name}"${org.countryCode ? `, country ${org.countryCode}` : ''}${org.baseCurrency ? `, base currency ${org.baseCurrency}` : ''}`);
  const sales = x.taxRates.filter((t) => t.canApplyToRevenue);
  lines.push('', 'Tax rates for sales (a tax rule names one by its name)', ...(sales.length ? table(sales.map((t) => [t.name, `${t.rate} %`, `TaxType ${t.taxType}`])) : ['  (none)']));
  lines.push('', 'Currencies', ...(x.currencies.length ? table(x.currencies.map((c) => [c.code, c.description ?? ''])) : ['  (none)']));
  lines.push(
    '',
    'Revenue accounts (the mapping\'s xero.salesAccountCode names one by its code)',
    ...(x.revenueAccounts.length ? table(x.revenueAccounts.map((a) => [a.code, a.name, a.taxType ? `default tax ${a.taxType}` : ''])) : ['  (none)']),
  );
  return lines;
}

export async function xeroCheck(cli: XeroCliDeps): Promise<AccountingCheck> {
  try {
    await cli.start();
  } catch (err) {
    return { ok: false, problems: problemsOf(err) };
  }
  const c = await cli.connections.describe('xero');
  if (!c || !c.hasRefreshToken) {
    return { ok: false, problems: ['Xero is not connected: connect it on the /connect page (XERO_REDIRECT_URI), or set XERO_REFRESH_TOKEN.'] };
  }
  if (c.status === 'lost') {
    return { ok: false, problems: [`Xero's connection was lost${c.lastError ? ` (${c.lastError})` : ''}: connect Xero again on the /connect page.`] };
  }
  const target = await tenantOf(cli);
  if (!target.tenantId) return { ok: false, problems: [target.problem ?? 'No Xero organisation is chosen.'] };
  const label = target.organisations.find((o) => o.id === target.tenantId)?.name;
  try {
    // Reaching it is what counts: the stored list of organisations may be older than XERO_TENANT_ID.
    const org = await cli.client.organisation();
    return { ok: true, detail: `the token works; organisation "${org.Name}" (${target.tenantId}) is reachable`, problems: [] };
  } catch (err) {
    if (!(err instanceof RelayError)) throw err;
    return { ok: false, detail: `organisation ${label ? `"${label}" ` : ''}(${target.tenantId})`, problems: [...(target.unlisted ? [target.unlisted] : []), ...problemsOf(err)] };
  }
}

/** The organisation calls go to (XERO_TENANT_ID, the chosen one, the only one), or why there is none. */
interface Target {
  organisations: Organization[];
  tenantId?: string;
  /** Why there is none. */
  problem?: string;
  /** XERO_TENANT_ID is not among the organisations stored for the connection. */
  unlisted?: string;
}

async function tenantOf(cli: XeroCliDeps): Promise<Target> {
  const c = await cli.connections.describe('xero');
  const organisations = c?.organizations ?? [];
  const list = organisations.map((o) => `${o.id} (${o.name})`).join(', ') || 'none known';
  const configured = cli.settings.XERO_TENANT_ID;
  if (configured) {
    if (organisations.length > 0 && !organisations.some((o) => o.id === configured)) {
      return { organisations, tenantId: configured, unlisted: `XERO_TENANT_ID ${configured} is not one of the organisations this Xero connection reaches: ${list}. Set it to one of them, or tick it on Xero's consent page when connecting again.` };
    }
    return { organisations, tenantId: configured };
  }
  if (c?.organizationId) return { organisations, tenantId: c.organizationId };
  if (organisations.length === 1) return { organisations, tenantId: organisations[0]!.id };
  if (organisations.length === 0) return { organisations, problem: 'The Xero connection reaches no organisation that the relay knows of: connect Xero again on the /connect page and tick an organisation.' };
  return { organisations, problem: `No Xero organisation is chosen among ${list}: choose one on the /connect page, or set XERO_TENANT_ID.` };
}
