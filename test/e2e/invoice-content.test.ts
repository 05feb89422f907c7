// The invoices a consulting firm with clients in six countries gets, through both sandboxes, for each
// accounting backend, with the README's own mapping example (mapping.example.json, its backend section
// the one of the backend under test): products, tax by country, currency, terms. Every customer and
// invoice body is validated against the system's published contract by its fake.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/env.js';
import { ConfigError } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { ACCOUNTING_IDS } from '../../src/accounting/registry.js';
import { startRelay } from '../../src/relay.js';
import type { Scenario } from '../../sandbox/scenario.js';
import { ACCOUNTING_BACKENDS, namesOf } from '../support/accounting-backends.js';
import { dealInvoices, notesOf, startE2E, waitFor, type E2E } from '../support/e2e.js';

const EXAMPLE = resolve(import.meta.dirname, '../../mapping.example.json');

/** The README's example, its backend section the one of the backend under test (its own if it has one). */
function exampleMapping(s: Scenario): Record<string, unknown> {
  const mapping = JSON.parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
  const own = mapping[s.accounting] ?? s.mappingSection[s.accounting];
  for (const id of ACCOUNTING_IDS) delete mapping[id];
  return { ...mapping, [s.accounting]: own };
}
const writeExample = (s: Scenario) => writeFileSync(s.mappingFile, JSON.stringify(exampleMapping(s)));

const ids = { country: 0, companyCountry: 0, currency: 0, terms: 0, seo: 0, hosting: 0 };

function seed(s: Scenario) {
  ids.country = s.kommo.addContactField({ name: 'Country', type: 'text' });
  ids.companyCountry = s.kommo.addCompanyField({ name: 'Country', type: 'text' });
  ids.currency = s.kommo.addLeadField({ name: 'Currency', type: 'select', enums: ['EUR', 'USD', 'GBP', 'AUD'] });
  ids.terms = s.kommo.addLeadField({ name: 'Payment terms', type: 'select', enums: ['Due on receipt', 'Net 15', 'Net 30'] });
  ids.seo = s.kommo.addProduct({ name: 'SEO audit', price: 1500, sku: 'SEO-1' });
  ids.hosting = s.kommo.addProduct({ name: 'Managed hosting', price: 29.9, sku: 'HOST-M', description: 'Monthly hosting' });
  for (const [name, pct] of [['VAT 19%', 19], ['TVA 20%', 20], ['BTW 21%', 21], ['UK VAT 20%', 20], ['GST 10%', 10]] as const) s.books.addTax({ name, percentage: pct });
  s.books.addCurrency('USD', 0.92);
  s.books.addCurrency('GBP', 1.17);
  s.books.addCurrency('AUD', 0.6);
  // The catalogue item, where the system keeps one the relay uses (Zoho); the product's own name and price otherwise.
  s.books.addItem?.({ name: 'SEO audit', sku: 'SEO-1', rate: 1500 });
  writeExample(s);
}

function client(s: Scenario, country: string, currency: string | undefined, terms: string | undefined, products: Array<{ id: number; quantity: number }>, price = 3000) {
  const contactId = s.kommo.addContact({ name: `Client ${country}`, email: `billing@${country.toLowerCase().replace(/\W/g, '')}.example`, customFields: { [ids.country]: country } });
  const customFields: Record<number, string> = {};
  if (currency) customFields[ids.currency] = currency;
  if (terms) customFields[ids.terms] = terms;
  const dealId = s.kommo.addLead({ name: `Consulting for ${country}`, price, pipelineId: s.pipelineId, statusId: s.stages.incoming, contacts: [{ id: contactId, isMain: true }], products, customFields });
  return dealId;
}

const invoiceOf = (s: Scenario, dealId: number) => dealInvoices(s, dealId)[0];

describe.each(ACCOUNTING_BACKENDS)('%s: invoices an accountant accepts as they are', (accounting) => {
  const names = namesOf(accounting);
  let e2e: E2E;
  beforeAll(async () => {
    // Six new customers and their invoices, and restarts, in less than a minute: more than Xero's 60 calls.
    e2e = await startE2E({ accounting, apiLimits: 'roomy', prepare: seed });
  });
  afterAll(async () => {
    await e2e.close();
  });

  it('six countries: the right tax, currency, lines and terms on each, zero contract violations', async () => {
    const s = e2e.scenario;
    const cases = [
      { country: 'Deutschland', currency: undefined, terms: 'Net 30', tax: 'VAT 19%', code: 'EUR', termsDays: 30 },
      { country: 'France', currency: 'EUR', terms: 'Due on receipt', tax: 'TVA 20%', code: 'EUR', termsDays: 0 },
      { country: 'Nederland', currency: 'EUR', terms: undefined, tax: 'BTW 21%', code: 'EUR', termsDays: 14 },
      { country: 'UK', currency: 'GBP', terms: 'Net 15', tax: 'UK VAT 20%', code: 'GBP', termsDays: 15 },
      { country: 'USA', currency: 'USD', terms: 'Net 30', tax: undefined, code: 'USD', termsDays: 30 },
      { country: 'Australia', currency: 'AUD', terms: 'Net 15', tax: 'GST 10%', code: 'AUD', termsDays: 15 },
    ];
    const deals = cases.map((c) => client(s, c.country, c.currency, c.terms, [{ id: ids.seo, quantity: 2 }, { id: ids.hosting, quantity: 12 }], 3359));
    s.moveToInvoice(...deals);
    await waitFor(() => deals.every((d) => invoiceOf(s, d)?.url && s.kommo.state.leads.get(d)!.customFields.some((f) => f.fieldId === s.fields.invoiceUrl)), 'six invoices linked', 30_000);

    cases.forEach((c, i) => {
      const inv = invoiceOf(s, deals[i]!)!;
      expect([c.country, inv.currency, inv.termsDays]).toEqual([c.country, c.code, c.termsDays]);
      expect(inv.lines.map((l) => [l.name, l.quantity, l.unitAmount, l.taxName])).toEqual([
        ['SEO audit', 2, 1500, c.tax],
        ['Managed hosting', 12, 29.9, c.tax],
      ]);
    });
    // 2 x 1500 + 12 x 29.90 = 3358.80: the deal said 3359, the invoice follows the lines and says so.
    const job = await e2e.relay.store.db.selectFrom('jobs').selectAll().where('deal_id', '=', String(deals[0])).where('kind', '=', 'invoice_for_deal').executeTakeFirstOrThrow();
    expect(JSON.parse(job.result!).remarks).toEqual(['The lines total 3,358.80 EUR, the deal amount is 3,359.00 EUR (difference -0.20 EUR); the invoice follows the lines.']);
    // New customers are created in the deal's currency and with their country.
    const us = s.books.customers().find((c) => c.email === 'billing@usa.example')!;
    expect([us.currency, us.country]).toEqual(['USD', 'United States']);
    expect(s.books.violations).toEqual([]);
  });

  it("an existing customer kept in another currency: a clear error and a note on the deal where the system ties invoices to the customer's currency, else invoiced in the deal's", async () => {
    const s = e2e.scenario;
    const legacy = s.books.addCustomer({ name: 'Legacy Ltd', email: 'legacy@client.example', currency: 'GBP' });
    const contactId = s.kommo.addContact({ name: 'Legacy Ltd', email: 'legacy@client.example', customFields: { [ids.country]: 'UK' } });
    const dealId = s.kommo.addLead({ name: 'Retainer in euros', price: 500, pipelineId: s.pipelineId, statusId: s.stages.incoming, contacts: [{ id: contactId, isMain: true }], customFields: { [ids.currency]: 'EUR' } });
    s.moveToInvoice(dealId);
    if (s.books.facts.customerKeepsCurrency) {
      const note = await waitFor(() => notesOf(s, dealId)[0], 'a note');
      expect(note).toBe(
        `Invoice not created: the deal is in EUR, but the ${names.system} customer "Legacy Ltd" (legacy@client.example) is kept in GBP, and ${names.system} cannot change a customer's currency. Invoice this deal in GBP, or create a separate customer for EUR in ${names.system}, then move the deal into the invoicing stage again.`,
      );
      expect(invoiceOf(s, dealId)).toBeUndefined();
    } else {
      const invoice = await waitFor(() => (invoiceOf(s, dealId)?.url ? invoiceOf(s, dealId) : undefined), 'the invoice');
      expect([invoice.customerId, invoice.currency]).toEqual([legacy, 'EUR']);
      expect(notesOf(s, dealId)).toEqual([]);
    }
    expect(s.books.customers().filter((c) => c.email === 'legacy@client.example')).toHaveLength(1);
  });

  it('numbering by deal: INV-<deal>; a number already taken is a clear error and a note, not a retry loop', async () => {
    const s = e2e.scenario;
    const mapping = exampleMapping(s) as { invoice: Record<string, unknown> };
    mapping.invoice.number = { template: 'INV-{deal_id}' };
    writeFileSync(s.mappingFile, JSON.stringify(mapping));
    await e2e.restart();
    const free = client(s, 'Deutschland', 'EUR', 'Net 30', [{ id: ids.seo, quantity: 1 }], 1500);
    const taken = client(s, 'Deutschland', 'EUR', 'Net 30', [{ id: ids.seo, quantity: 1 }], 1500);
    // Someone already used the number this deal would get.
    const customer = s.books.addCustomer({ name: 'Someone else', email: 'else@example.com' });
    await s.books.addForeignInvoice({ customerId: customer, reference: 'x', amount: 1, number: `INV-${taken}` });
    s.moveToInvoice(free, taken);
    // Where the number is the deal's stamp (Wave), the mapping's number is the stamp too.
    const stamped = (deal: number) => (s.books.facts.stamp === 'number' ? s.books.invoicesWithReference(`INV-${deal}`)[0] : invoiceOf(s, deal));
    await waitFor(() => stamped(free), 'the free number to be used');
    expect(stamped(free)!.number).toBe(`INV-${free}`);
    const note = await waitFor(() => notesOf(s, taken)[0], 'a note on the deal whose number is taken');
    expect(note).toBe(`Invoice not created: the invoice number INV-${taken} is already used in ${names.system}. Remove or renumber that invoice, or change invoice.number.template, then move the deal into the invoicing stage again.`);
    const job = await e2e.relay.store.db.selectFrom('jobs').selectAll().where('deal_id', '=', String(taken)).where('kind', '=', 'invoice_for_deal').executeTakeFirstOrThrow();
    expect(job).toMatchObject({ state: 'failed', attempts: 1, last_error_code: 'invoice_number_taken' });
    // No second invoice of that number, for any customer.
    expect(s.books.invoices().filter((i) => i.number === `INV-${taken}`)).toHaveLength(1);
    writeExample(s);
    await e2e.restart();
  });

  it('a mapping whose tax matches nothing in the system stops start-up with the list of taxes', async () => {
    const s = e2e.scenario;
    const bad = exampleMapping(s) as { tax: { rules: Record<string, unknown> } };
    bad.tax.rules.DE = { tax: 'MwSt 19%' };
    bad.tax.rules.GB = { percentage: 20 };
    const file = `${e2e.dir}/bad-mapping.json`;
    writeFileSync(file, JSON.stringify(bad));
    const err = await startRelay(parseEnv(s.env({ MAPPING_FILE: file, DATABASE_URL: `sqlite:${e2e.dir}/bad.db` })), { log: createLogger({ level: 'silent' }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      `MAPPING_FILE tax.rules.DE: no tax named 'MwSt 19%' in ${names.system}. Taxes: ${s.books.taxes().map((t) => `'${t.name}' (${t.percentage} %)`).join(', ')}`,
      `MAPPING_FILE tax.rules.GB: several taxes are 20 % ('TVA 20%', 'UK VAT 20%'); name one with { "tax": "..." }.`,
    ]);
  });
});
