// Pure rules: deal + client + products -> the invoice an accountant accepts as it is: lines, tax by the
// client's country, currency and its precision, payment terms, number. No I/O here; every rule that
// cannot be met is a permanent error that says what to fix.
import type { ResolvedMapping } from '../config/resolve-mapping.js';
import { permanent } from '../errors.js';
import { normaliseCountry } from './country.js';
import { fillDealTemplate } from './deal-template.js';
import { formatMinor } from './money.js';
import { days, termsFromValue, type Terms } from './payment-terms.js';
import type { AccountingReference, CustomerInput, Deal, DealProduct, DealStamp, InvoiceDraft, InvoiceLine, Person } from './ports.js';
import type { ResolvedTaxRule, TaxRules } from './tax-rules.js';

export type DraftMapping = Pick<ResolvedMapping, 'lines' | 'numberTemplate' | 'currency' | 'paymentTerms' | 'tax'>;

export interface DraftSettings {
  /** The accounting system's name, for the messages ("… is not enabled in <system>"). */
  system: string;
  reference: AccountingReference;
  taxRules: TaxRules;
  /** The Kommo account's currency, the last fallback for a deal's currency. */
  accountCurrency?: string;
  /** invoice.payOnline resolved against the organization (sync/pay-online.ts): the IDs every invoice carries. */
  payOnline?: string[];
}

export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export function isEmail(value: string): boolean {
  return EMAIL.test(value);
}

/** The main contact, else the first one. */
export function billingContact(deal: Deal): number | undefined {
  return (deal.contacts.find((c) => c.isMain) ?? deal.contacts[0])?.id;
}

const first = (fields: Map<number, string[]> | undefined, id: number | undefined) => (id === undefined ? undefined : fields?.get(id)?.find((v) => v.trim() !== '')?.trim());

/** What decides how the client is billed, before the customer exists: currency, country and its tax. */
export interface Billing {
  currency: { code: string; id: string; precision: number; exchangeRate: number; isBase: boolean };
  country?: string;
  tax: ResolvedTaxRule;
}

export function decideBilling(deal: Deal, person: Person, mapping: DraftMapping, settings: DraftSettings): Billing {
  const code = (first(deal.fields, mapping.currency.field?.id) ?? mapping.currency.default ?? settings.accountCurrency ?? settings.reference.baseCurrency).toUpperCase();
  const currency = settings.reference.currencies.find((c) => c.code === code);
  if (!currency) {
    throw permanent('currency_not_enabled', `Invoice not created: the deal's currency ${code} is not enabled in ${settings.system} (enabled: ${settings.reference.currencies.map((c) => c.code).join(', ')}). Enable it in ${settings.system} or change the deal's currency.`);
  }
  const country = clientCountry(deal, person, mapping);
  return { currency, ...(country ? { country } : {}), tax: taxFor(country, settings.taxRules) };
}

function clientCountry(deal: Deal, person: Person, mapping: DraftMapping): string | undefined {
  for (const source of mapping.tax.countryFrom) {
    const fields = source.entity === 'contact' ? person.fields : source.entity === 'company' ? person.companyFields : deal.fields;
    const raw = first(fields, source.field.id);
    if (!raw) continue;
    const code = normaliseCountry(raw);
    if (!code) {
      throw permanent('country_unknown', `Invoice not created: "${raw}" in the ${source.entity} field "${source.field.name}" is not a country we recognise. Use an ISO code (DE, GB) or a country name, then move the deal into the invoicing stage again.`);
    }
    return code;
  }
  return mapping.tax.defaultCountry ? normaliseCountry(mapping.tax.defaultCountry) : undefined;
}

function taxFor(country: string | undefined, rules: TaxRules): ResolvedTaxRule {
  if (rules.size === 0) return { kind: 'none', customerFields: {} };
  const rule = (country ? rules.get(country) : undefined) ?? rules.get('*');
  if (rule) return rule;
  throw permanent(
    country ? 'no_tax_rule' : 'country_missing',
    country
      ? `Invoice not created: the mapping has no tax rule for ${country} (tax.rules). Add one, or a "*" rule, and move the deal into the invoicing stage again.`
      : "Invoice not created: the client's country is not known (no country field filled and no tax.defaultCountry), so the tax cannot be chosen. Fill in the country, then move the deal into the invoicing stage again.",
  );
}

export function customerFromPerson(person: Person, email: string, billing?: Billing): CustomerInput {
  const name = person.companyName?.trim() || person.name.trim() || email;
  const taxFields = billing?.tax.customerFields ?? {};
  return {
    name,
    companyName: person.companyName?.trim() || undefined,
    email,
    firstName: person.firstName?.trim() || undefined,
    lastName: person.lastName?.trim() || (person.firstName ? undefined : person.name.trim() || undefined),
    phone: person.phones[0],
    ...(billing ? { currencyId: billing.currency.id } : {}),
    ...(billing?.country ? { country: billing.country } : {}),
    ...(Object.keys(taxFields).length ? { taxFields } : {}),
    externalId: String(person.id),
  };
}

export interface DraftInput {
  deal: Deal;
  products: DealProduct[];
  customerId: string;
  stamp: DealStamp;
  generation: number;
  billing: Billing;
}

export interface DraftResult {
  draft: InvoiceDraft;
  source: 'products' | 'fields' | 'deal';
  /** Things the accountant should know, kept in the job record (e.g. lines total != deal amount). */
  remarks: string[];
}

export function buildInvoiceDraft(input: DraftInput, mapping: DraftMapping, settings: DraftSettings): DraftResult {
  const { deal, billing } = input;
  const precision = billing.currency.precision;
  const { lines, source } = chooseLines(input, mapping, settings);
  const taxed = lines.map((l) => ({ ...roundRate(l, precision), ...(billing.tax.kind === 'tax' ? { taxId: billing.tax.taxId } : {}) }));

  const remarks: string[] = [];
  let discount: number | undefined;
  const linesMinor = taxed.reduce((sum, l) => sum + lineMinor(l, precision), 0n);
  if (source !== 'deal' && deal.price) {
    const dealMinor = BigInt(deal.price) * 10n ** BigInt(precision);
    const diff = linesMinor - dealMinor;
    if (diff !== 0n) {
      const money = (m: bigint) => formatMinor(m, precision, billing.currency.code);
      remarks.push(`The lines total ${money(linesMinor)}, the deal amount is ${money(dealMinor)} (difference ${money(diff)}); the invoice follows the lines.`);
      if (diff > 0n && mapping.lines.whenTotalDiffers === 'discount') {
        discount = Number(diff) / 10 ** precision;
        remarks.push(`A discount of ${money(diff)} brings the invoice to the deal amount.`);
      }
    }
  }

  const terms = paymentTerms(deal, mapping);
  const draft: InvoiceDraft = {
    customerId: input.customerId,
    stamp: input.stamp,
    lines: taxed,
    currencyId: billing.currency.id,
    ...(billing.currency.isBase ? {} : { exchangeRate: billing.currency.exchangeRate }),
    ...(terms ?? {}),
    ...(mapping.numberTemplate ? { invoiceNumber: fillDealTemplate(mapping.numberTemplate, deal.id, input.generation) } : {}),
    ...(discount !== undefined ? { discount } : {}),
    ...(billing.tax.kind === 'exempt' ? { taxExemptionId: billing.tax.exemptionId } : {}),
    lineSources: lineSources(input, source, lines),
    ...(settings.payOnline?.length ? { payOnline: [...settings.payOnline] } : {}),
  };
  return { draft, source, remarks };
}

/** Where each line comes from: a Kommo product by its ID, a field's option or item by its name, the deal amount. */
function lineSources(input: DraftInput, source: DraftResult['source'], lines: InvoiceLine[]): string[] {
  if (source === 'products') return input.products.map((p) => `product:${p.id}`);
  if (source === 'fields') return lines.map((l) => `field:${l.name}`);
  return lines.map(() => 'deal');
}

function chooseLines(input: DraftInput, mapping: DraftMapping, settings: DraftSettings): { lines: InvoiceLine[]; source: DraftResult['source'] } {
  for (const source of mapping.lines.sources) {
    const lines = source === 'products' ? productLines(input, mapping, settings) : source === 'fields' ? fieldLines(input.deal, mapping, settings) : dealLine(input.deal);
    if (lines.length) return { lines, source };
  }
  throw permanent('no_invoice_lines', 'Invoice not created: the deal has no products, no line fields filled in and no amount. Add products or an amount, then move the deal into the invoicing stage again.');
}

function productLines(input: DraftInput, mapping: DraftMapping, settings: DraftSettings): InvoiceLine[] {
  const cfg = mapping.lines.products;
  return input.products.map((p) => {
    const priceField = p.priceFieldId ?? cfg.priceFieldId;
    const rawPrice = first(p.fields, priceField);
    const sku = first(p.fields, cfg.skuFieldId);
    const item = findItem(settings, sku, p.name);
    const rate = rawPrice !== undefined ? parseAmount(rawPrice) : item?.rate;
    if (rate === undefined || Number.isNaN(rate)) {
      throw permanent('product_without_price', `Invoice not created: the product "${p.name}" has ${rawPrice === undefined ? 'no price' : `an unreadable price ("${rawPrice}")`} in Kommo and no ${settings.system} item with its SKU or name. Set its price, then move the deal into the invoicing stage again.`);
    }
    const description = first(p.fields, cfg.descriptionFieldId) ?? (sku ? `SKU ${sku}` : undefined);
    return { name: p.name, rate, quantity: p.quantity > 0 ? p.quantity : 1, ...(description ? { description } : {}), ...(item ? { itemId: item.id } : {}) };
  });
}

function fieldLines(deal: Deal, mapping: DraftMapping, settings: DraftSettings): InvoiceLine[] {
  const cfg = mapping.lines.fields;
  if (!cfg) return [];
  if ('multiselect' in cfg) {
    const chosen = (deal.fields.get(cfg.multiselect.id) ?? []).map((v) => v.trim()).filter(Boolean);
    return chosen.map((option) => {
      const item = findItem(settings, undefined, option);
      const rate = cfg.prices[option] ?? item?.rate;
      if (rate === undefined) {
        throw permanent('option_without_price', `Invoice not created: "${option}" (field "${cfg.multiselect.name}") has no price in the mapping (invoice.lines.fields.prices) and no ${settings.system} item of that name.`);
      }
      return { name: option, rate, quantity: 1, ...(item ? { itemId: item.id } : {}) };
    });
  }
  const name = first(deal.fields, cfg.item.id);
  if (!name) return [];
  const rawQty = first(deal.fields, cfg.quantity?.id);
  const quantity = rawQty === undefined ? 1 : parseAmount(rawQty);
  if (!(quantity > 0)) throw permanent('bad_quantity', `Invoice not created: the quantity "${rawQty}" (field "${cfg.quantity?.name}") is not a positive number.`);
  const rawPrice = first(deal.fields, cfg.price?.id);
  const item = findItem(settings, undefined, name);
  const rate = rawPrice !== undefined ? parseAmount(rawPrice) : (item?.rate ?? (deal.price ? deal.price / quantity : undefined));
  if (rate === undefined || Number.isNaN(rate)) {
    throw permanent('line_without_price', `Invoice not created: "${name}" has ${rawPrice === undefined ? 'no price' : `an unreadable price ("${rawPrice}")`}; fill in the price field or the deal amount.`);
  }
  return [{ name, rate, quantity, ...(item ? { itemId: item.id } : {}) }];
}

function dealLine(deal: Deal): InvoiceLine[] {
  if (!deal.price) return [];
  return [{ name: deal.name.trim() || `Deal ${deal.id}`, rate: deal.price, quantity: 1 }];
}

function findItem(settings: DraftSettings, sku: string | undefined, name: string) {
  const items = settings.reference.items;
  return (sku ? items.find((i) => i.sku && i.sku.trim().toLowerCase() === sku.toLowerCase()) : undefined) ?? items.find((i) => i.name.trim().toLowerCase() === name.trim().toLowerCase());
}

function paymentTerms(deal: Deal, mapping: DraftMapping): Terms | undefined {
  const field = mapping.paymentTerms.field;
  const raw = first(deal.fields, field?.id);
  try {
    const terms = termsFromValue(raw, field?.type);
    if (terms) return terms;
  } catch (e) {
    throw permanent('payment_terms_unreadable', `Invoice not created: the deal's "${field?.name}" ${(e as Error).message}. Correct it, then move the deal into the invoicing stage again.`);
  }
  return mapping.paymentTerms.defaultDays !== undefined ? days(mapping.paymentTerms.defaultDays) : undefined;
}

/** Kommo numbers arrive as text, sometimes with spaces or a decimal comma: "1 200,50" -> 1200.5. */
export function parseAmount(raw: string): number {
  let s = raw.replace(/[\s\u00a0]/g, '');
  if (/^-?\d{1,3}(\.\d{3})+(,\d+)?$/.test(s)) s = s.replace(/\./g, '').replace(',', '.');
  else if (/^-?\d+,\d+$/.test(s)) s = s.replace(',', '.');
  else s = s.replace(/,(?=\d{3}\b)/g, '');
  return /^-?\d+(\.\d+)?$/.test(s) ? Number(s) : Number.NaN;
}

/** Rates carry the currency's precision exactly (no 0.30000000000000004 on the invoice). */
function roundRate(line: InvoiceLine, precision: number): InvoiceLine {
  const minor = Math.round(line.rate * 10 ** precision);
  return { ...line, rate: minor / 10 ** precision };
}

function lineMinor(line: InvoiceLine, precision: number): bigint {
  return BigInt(Math.round(Math.round(line.rate * 10 ** precision) * line.quantity));
}
