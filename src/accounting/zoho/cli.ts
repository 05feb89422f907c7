// Zoho's part of the CLI: `relay discover` (organizations, taxes, currencies) and `relay check` (the token
// and the organization).
import { problemsOf, table } from '../../cli/format.js';
import type { AccountingCheck, AccountingDiscovery } from '../backend.js';
import type { ZohoBooksClient } from './client.js';
import type { ZohoConnection } from './connection.js';
import type { ZohoSettings } from './settings.js';
import type { ZohoCurrency, ZohoOrganization, ZohoTax } from './types.js';

interface ZohoCliDeps {
  client: ZohoBooksClient;
  connection: ZohoConnection;
  settings: ZohoSettings;
  /** Settles the organization to work in (ZOHO_ORGANIZATION_ID, the stored one, a Self Client's only one). */
  start(): Promise<void>;
}

interface ZohoFindings {
  organizations: ZohoOrganization[];
  organizationId?: string;
  taxes: ZohoTax[];
  currencies: ZohoCurrency[];
  problem?: string;
}

export async function zohoDiscovery(deps: ZohoCliDeps): Promise<AccountingDiscovery> {
  const found: ZohoFindings = { organizations: await deps.client.listOrganizations(), taxes: [], currencies: [] };
  try {
    await deps.start();
    const id = deps.connection.organizationId();
    if (id) {
      found.organizationId = id;
      found.taxes = await deps.client.listTaxes();
      found.currencies = await deps.client.listCurrencies();
    }
  } catch (err) {
    found.problem = problemsOf(err).join(' ');
  }
  return {
    json: found,
    lines: zohoSection(found),
    taxes: found.taxes.map((t) => ({ name: t.tax_name, percentage: Number(t.tax_percentage), isDefault: t.is_default_tax === true })),
  };
}

function zohoSection(z: ZohoFindings): string[] {
  const lines = ['Zoho Books organizations', ...table(z.organizations.map((o) => [o.name, `id ${o.organization_id}`, o.currency_code ?? '', o.organization_id === z.organizationId ? '<- the relay works in this one' : '']))];
  if (z.problem) lines.push('', `Taxes and currencies: not read (${z.problem})`);
  if (!z.organizationId) return lines;
  lines.push('', 'Taxes', ...(z.taxes.length ? table(z.taxes.map((t) => [t.tax_name, `${t.tax_percentage} %`, `id ${t.tax_id}`, t.is_default_tax ? 'default' : ''])) : ['  (none)']));
  lines.push('', 'Currencies', ...table(z.currencies.map((c) => [c.currency_code, `id ${c.currency_id}`, c.is_base_currency ? 'base currency' : ''])));
  return lines;
}

export async function zohoCheck(deps: ZohoCliDeps): Promise<AccountingCheck> {
  const organizations = await deps.client.listOrganizations();
  await deps.start();
  const id = deps.connection.organizationId();
  const org = organizations.find((o) => o.organization_id === id);
  if (!org) {
    const list = organizations.map((o) => `${o.organization_id} (${o.name})`).join(', ') || 'none';
    return { ok: false, problems: [`The organization ${id} is not one of this Zoho account's organizations: ${list}. Set ZOHO_ORGANIZATION_ID to one of them.`] };
  }
  return { ok: true, detail: `the token works; organization "${org.name}" (${org.organization_id}) is reachable`, problems: [] };
}
