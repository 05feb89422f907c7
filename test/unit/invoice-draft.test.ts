// The invoice rules, table-driven: countries, currencies, line sources, rounding, payment terms,
// numbering, missing data and bad mapping. Pure functions, no doubles.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/env.js';
import type { Mapping } from '../../src/config/mapping.js';
import { resolveTaxRules } from '../../src/sync/tax-rules.js';
import { RelayError } from '../../src/errors.js';
import { normaliseCountry } from '../../src/sync/country.js';
import { buildInvoiceDraft, customerFromPerson, decideBilling, parseAmount, type DraftMapping, type DraftSettings } from '../../src/sync/invoice-draft.js';
import { termsFromValue } from '../../src/sync/payment-terms.js';
import type { Deal, DealProduct, Person } from '../../src/sync/ports.js';
import { sampleDeal, samplePerson, sampleReference } from '../support/doubles.js';

const F = { country: 70, currency: 71, terms: 72, service: 73, qty: 74, price: 75, services: 76, companyCountry: 80, price2: 90, sku: 91, desc: 92 };
const field = (id: number, name: string, type = 'text') => ({ id, name, type });

const taxConfig: Mapping['tax'] = {
  countryFrom: [],
  defaultCountry: 'DE',
  rules: {
    DE: { tax: 'VAT 19%' },
    France: { tax: 'TVA 20%', customer: {} },
    AT: { percentage: 19 },
    NL: { tax: 'btw 21%' },
    UK: { tax: 'UK VAT 20%', customer: { vat_treatment: 'overseas' } },
    US: 'none',
    AU: { tax: 'GST 10%' },
    '*': { exemption: 'EU reverse charge' },
  },
};

function mapping(over: Partial<DraftMapping> = {}): DraftMapping {
  return {
    lines: { sources: ['products', 'fields', 'deal'], products: { priceFieldId: F.price2, skuFieldId: F.sku, descriptionFieldId: F.desc }, fields: { item: field(F.service, 'Service'), quantity: field(F.qty, 'Quantity'), price: field(F.price, 'Unit price') }, whenTotalDiffers: 'record' },
    currency: { field: field(F.currency, 'Currency') },
    paymentTerms: { field: field(F.terms, 'Payment terms'), defaultDays: 14 },
    tax: { countryFrom: [{ entity: 'contact', field: field(F.country, 'Country') }, { entity: 'company', field: field(F.companyCountry, 'Country') }], defaultCountry: 'DE', rules: taxConfig.rules },
    ...over,
  };
}

const settings: DraftSettings = { system: 'Zoho Books', reference: sampleReference(), taxRules: resolveTaxRules(taxConfig, sampleReference(), 'Zoho Books'), accountCurrency: 'EUR' };

function deal(fields: Record<number, string | string[]> = {}, over: Partial<Deal> = {}): Deal {
  return sampleDeal({ fields: new Map(Object.entries(fields).map(([k, v]) => [Number(k), Array.isArray(v) ? v : [v]])), ...over });
}
function person(fields: Record<number, string> = {}, company: Record<number, string> = {}): Person {
  return samplePerson({ fields: new Map(Object.entries(fields).map(([k, v]) => [Number(k), [v]])), companyFields: new Map(Object.entries(company).map(([k, v]) => [Number(k), [v]])) });
}
function product(name: string, quantity: number, fields: Record<number, string> = {}): DealProduct {
  return { id: name.length, name, quantity, fields: new Map(Object.entries(fields).map(([k, v]) => [Number(k), [v]])) };
}

function draftFor(d: Deal, p: Person = person(), products: DealProduct[] = [], m: DraftMapping = mapping(), generation = 1) {
  const billing = decideBilling(d, p, m, settings);
  return { billing, ...buildInvoiceDraft({ deal: d, products, customerId: '9834000000000000001', stamp: { key: 'KOMMO-31700125', dealId: d.id }, generation, billing }, m, settings) };
}

function failure(fn: () => unknown): RelayError {
  try {
    fn();
  } catch (e) {
    if (e instanceof RelayError) return e;
    throw e;
  }
  throw new Error('expected a RelayError');
}

describe('country normalisation', () => {
  it.each([
    ['DE', 'DE'], ['de', 'DE'], ['Deutschland', 'DE'], ['Germany', 'DE'], ['Германия', 'DE'],
    ['UK', 'GB'], ['United Kingdom', 'GB'], ['England', 'GB'], ['Great Britain', 'GB'],
    ['France', 'FR'], ['Frankreich', 'FR'], ['Nederland', 'NL'], ['Netherlands', 'NL'], ['Holland', 'NL'],
    ['USA', 'US'], ['United States', 'US'], ['Australia', 'AU'], ['Österreich', 'AT'], ['  españa ', 'ES'],
    ['Narnia', undefined], ['XX', undefined], ['', undefined], ['ZZ', undefined],
  ])('%j -> %j', (raw, code) => expect(normaliseCountry(raw)).toBe(code));
});

describe('tax by the client country', () => {
  it.each([
    ['DE', { [F.country]: 'Deutschland' }, {}, '9834000000000000201', undefined],
    ['FR by name', { [F.country]: 'France' }, {}, '9834000000000000202', undefined],
    ['AT by percentage (19 % is VAT 19%)', { [F.country]: 'Österreich' }, {}, '9834000000000000201', undefined],
    ['NL by name, any case', { [F.country]: 'NL' }, {}, '9834000000000000204', undefined],
    ['GB via "UK"', { [F.country]: 'UK' }, {}, '9834000000000000203', undefined],
    ['US: no tax', { [F.country]: 'USA' }, {}, undefined, undefined],
    ['AU', { [F.country]: 'Australia' }, {}, '9834000000000000205', undefined],
    ['other country: exemption', { [F.country]: 'Spain' }, {}, undefined, '9834000000000000301'],
    ['company country when the contact has none', {}, { [F.companyCountry]: 'France' }, '9834000000000000202', undefined],
    ['default country when none is filled', {}, {}, '9834000000000000201', undefined],
  ])('%s', (_name, contact, company, taxId, exemptionId) => {
    const { draft } = draftFor(deal(), person(contact, company));
    expect(draft.lines.every((l) => l.taxId === taxId)).toBe(true);
    expect(draft.taxExemptionId).toBe(exemptionId);
  });

  it('per-country customer fields go on a new customer (UK vat_treatment), with the country name', () => {
    const p = person({ [F.country]: 'UK' });
    const billing = decideBilling(deal(), p, mapping(), settings);
    expect(customerFromPerson(p, 'a@b.co', billing)).toMatchObject({ country: 'GB', taxFields: { vat_treatment: 'overseas' }, currencyId: '9834000000000000101' });
  });

  it('an unrecognisable country is an error naming the value and the field', () => {
    const err = failure(() => draftFor(deal(), person({ [F.country]: 'Narnia' })));
    expect(err.code).toBe('country_unknown');
    expect(err.message).toContain('"Narnia" in the contact field "Country"');
  });

  it('no rule and no "*": an error naming the country', () => {
    const rules = new Map([...settings.taxRules].filter(([k]) => k !== '*'));
    const err = failure(() => decideBilling(deal(), person({ [F.country]: 'Spain' }), mapping(), { ...settings, taxRules: rules }));
    expect(err.code).toBe('no_tax_rule');
    expect(err.message).toContain('no tax rule for ES');
  });

  it('no country anywhere and no default: an error', () => {
    const m = mapping({ tax: { countryFrom: [], rules: {} } });
    const rules = new Map([...settings.taxRules].filter(([k]) => k !== '*'));
    expect(failure(() => decideBilling(deal(), person(), m, { ...settings, taxRules: rules })).code).toBe('country_missing');
  });
});

describe('tax rules resolved against the organization at start-up', () => {
  const problems = (rules: Mapping['tax']['rules'], defaultCountry?: string) => {
    try {
      resolveTaxRules({ countryFrom: [], rules, ...(defaultCountry ? { defaultCountry } : {}) }, sampleReference(), 'Zoho Books');
      return [];
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
  };
  it.each([
    [{ DE: { tax: 'VAT 16%' } }, "MAPPING_FILE tax.rules.DE: no tax named 'VAT 16%' in Zoho Books. Taxes: 'VAT 19%' (19 %), 'TVA 20%' (20 %), 'UK VAT 20%' (20 %), 'BTW 21%' (21 %), 'GST 10%' (10 %)"],
    [{ GB: { percentage: 20 } }, "MAPPING_FILE tax.rules.GB: several taxes are 20 % ('TVA 20%', 'UK VAT 20%'); name one with { \"tax\": \"...\" }."],
    [{ DE: { percentage: 7 } }, 'MAPPING_FILE tax.rules.DE: no tax of 7 % in Zoho Books.'],
    [{ Narnia: 'none' }, "MAPPING_FILE tax.rules.Narnia: 'Narnia' is not a country"],
    [{ DE: 'none', Germany: 'none' }, 'MAPPING_FILE tax.rules.Germany: DE already has a rule'],
    [{ '*': { exemption: 'Export' } }, "MAPPING_FILE tax.rules.*: no tax exemptions named 'Export' in Zoho Books. Exemptions: 'EU reverse charge'"],
  ])('%j', (rules, expected) => {
    expect(problems(rules as Mapping['tax']['rules']).join('\n')).toContain(expected);
  });
  it('a bad default country', () => expect(problems({}, 'Atlantis')[0]).toContain("tax.defaultCountry: 'Atlantis' is not a country"));
});

describe('currency', () => {
  it.each([
    ['deal field', { [F.currency]: 'usd' }, 'USD', '9834000000000000102', 0.92],
    ['mapping default (none on the deal)', {}, 'EUR', '9834000000000000101', undefined],
    ['GBP', { [F.currency]: ' GBP ' }, 'GBP', '9834000000000000103', 1.17],
  ])('%s', (_n, fields, code, id, rate) => {
    const { billing, draft } = draftFor(deal(fields));
    expect(billing.currency.code).toBe(code);
    expect(draft.currencyId).toBe(id);
    expect(draft.exchangeRate).toBe(rate);
  });

  it('falls back to the Kommo account currency', () => {
    const m = mapping({ currency: {} });
    expect(decideBilling(deal(), person(), m, { ...settings, accountCurrency: 'AUD' }).currency.code).toBe('AUD');
  });

  it('a currency Zoho does not have is an error listing the enabled ones', () => {
    const err = failure(() => draftFor(deal({ [F.currency]: 'CHF' })));
    expect(err.code).toBe('currency_not_enabled');
    expect(err.message).toContain('CHF is not enabled in Zoho Books (enabled: EUR, USD, GBP, JPY, AUD)');
  });

  it('JPY has no decimals: rates are rounded to whole yen', () => {
    const { draft } = draftFor(deal({ [F.currency]: 'JPY', [F.service]: 'Consulting', [F.price]: '1500.6', [F.qty]: '2' }));
    expect(draft.lines).toEqual([{ name: 'Consulting', rate: 1501, quantity: 2, taxId: '9834000000000000201' }]);
  });
});

describe('line items', () => {
  it('products: name, quantity from the link, price and SKU from the catalog, Zoho item by SKU', () => {
    const { draft, source } = draftFor(deal({}, { price: 3059 }), person(), [product('SEO audit', 2, { [F.price2]: '1500', [F.sku]: 'SEO-1' }), product('Hosting plan', 1, { [F.price2]: '59', [F.desc]: 'Monthly hosting' })]);
    expect(source).toBe('products');
    expect(draft.lines).toEqual([
      { name: 'SEO audit', rate: 1500, quantity: 2, description: 'SKU SEO-1', itemId: '9834000000000000401', taxId: '9834000000000000201' },
      { name: 'Hosting plan', rate: 59, quantity: 1, description: 'Monthly hosting', taxId: '9834000000000000201' },
    ]);
  });

  it('a product whose link chose another price field uses it', () => {
    const p = { ...product('Hosting', 3, { [F.price2]: '10', 95: '8.5' }), priceFieldId: 95 };
    expect(draftFor(deal(), person(), [p]).draft.lines[0]).toMatchObject({ rate: 8.5, quantity: 3, itemId: '9834000000000000402' });
  });

  it('a product without a price takes the Zoho item rate when the name matches', () => {
    expect(draftFor(deal(), person(), [product('Hosting', 1)]).draft.lines[0]).toMatchObject({ rate: 29.9, itemId: '9834000000000000402' });
  });

  it('a product without any price is an error naming it', () => {
    const err = failure(() => draftFor(deal(), person(), [product('Mystery box', 1)]));
    expect(err.code).toBe('product_without_price');
    expect(err.message).toContain('"Mystery box" has no price');
  });

  it('no products: item, quantity and price fields', () => {
    const { draft, source } = draftFor(deal({ [F.service]: 'Workshop', [F.qty]: '1,5', [F.price]: '1 200,50' }));
    expect(source).toBe('fields');
    expect(draft.lines).toEqual([{ name: 'Workshop', rate: 1200.5, quantity: 1.5, taxId: '9834000000000000201' }]);
  });

  it('a multiselect of services priced in the mapping or by Zoho items', () => {
    const m = mapping({ lines: { sources: ['fields', 'deal'], products: {}, fields: { multiselect: field(F.services, 'Services', 'multiselect'), prices: { Copywriting: 300 } }, whenTotalDiffers: 'record' } });
    const { draft } = draftFor(deal({ [F.services]: ['Copywriting', 'SEO audit'] }), person(), [], m);
    expect(draft.lines).toEqual([
      { name: 'Copywriting', rate: 300, quantity: 1, taxId: '9834000000000000201' },
      { name: 'SEO audit', rate: 1500, quantity: 1, itemId: '9834000000000000401', taxId: '9834000000000000201' },
    ]);
  });

  it('a multiselect option with no price anywhere is an error', () => {
    const m = mapping({ lines: { sources: ['fields'], products: {}, fields: { multiselect: field(F.services, 'Services', 'multiselect'), prices: {} }, whenTotalDiffers: 'record' } });
    expect(failure(() => draftFor(deal({ [F.services]: ['Logo design'] }), person(), [], m)).code).toBe('option_without_price');
  });

  it('nothing else: one line with the deal name and amount', () => {
    const { draft, source } = draftFor(deal());
    expect(source).toBe('deal');
    expect(draft.lines).toEqual([{ name: 'Аудит сайта + SEO', rate: 4800, quantity: 1, taxId: '9834000000000000201' }]);
  });

  it('no products, no fields and no amount: an error', () => {
    expect(failure(() => draftFor(deal({}, { price: 0 }))).code).toBe('no_invoice_lines');
  });

  it('lines total above the deal amount: recorded, and discounted when configured', () => {
    const products = [product('SEO audit', 2, { [F.price2]: '2600' })];
    const recorded = draftFor(deal({}, { price: 4800 }), person(), products);
    expect(recorded.draft.discount).toBeUndefined();
    expect(recorded.remarks).toEqual(['The lines total 5,200.00 EUR, the deal amount is 4,800.00 EUR (difference 400.00 EUR); the invoice follows the lines.']);
    const m = mapping();
    const discounted = draftFor(deal({}, { price: 4800 }), person(), products, { ...m, lines: { ...m.lines, whenTotalDiffers: 'discount' } });
    expect(discounted.draft.discount).toBe(400);
    expect(discounted.remarks[1]).toBe('A discount of 400.00 EUR brings the invoice to the deal amount.');
  });

  it('lines total below the deal amount: recorded, never discounted', () => {
    const m = mapping();
    const r = draftFor(deal({}, { price: 4800 }), person(), [product('SEO audit', 1, { [F.price2]: '4000' })], { ...m, lines: { ...m.lines, whenTotalDiffers: 'discount' } });
    expect(r.draft.discount).toBeUndefined();
    expect(r.remarks[0]).toContain('difference -800.00 EUR');
  });

  it('no float drift: 3 x 0.1 + 0.2 adds up in cents', () => {
    const r = draftFor(deal({}, { price: 1 }), person(), [product('a', 3, { [F.price2]: '0.1' }), product('b', 1, { [F.price2]: '0.7' })]);
    expect(r.remarks).toEqual([]);
  });

  it.each([
    ['1200.5', 1200.5], ['1 200,50', 1200.5], ['1.200,50', 1200.5], ['1,200.50', 1200.5], ['1200', 1200], ['  99 ', 99], ['12,5', 12.5], ['abc', Number.NaN], ['1.2.3', Number.NaN],
  ])('amount %j -> %d', (raw, n) => expect(parseAmount(raw)).toBe(n));
});

describe('payment terms', () => {
  it.each([
    ['30', undefined, { paymentTerms: 30, paymentTermsLabel: 'Net 30' }],
    ['Net 15', undefined, { paymentTerms: 15, paymentTermsLabel: 'Net 15' }],
    ['net15', undefined, { paymentTerms: 15, paymentTermsLabel: 'Net 15' }],
    ['45 days', undefined, { paymentTerms: 45, paymentTermsLabel: 'Net 45' }],
    ['Due on receipt', undefined, { paymentTerms: 0, paymentTermsLabel: 'Due on receipt' }],
    ['1764028800', 'date', { dueDate: '2025-11-25' }],
    ['2026-12-31', undefined, { dueDate: '2026-12-31' }],
    ['', undefined, undefined],
  ])('%j (%s) -> %j', (raw, type, terms) => expect(termsFromValue(raw, type)).toEqual(terms));

  it('on the invoice, with the default when the field is empty', () => {
    expect(draftFor(deal({ [F.terms]: 'Net 30' })).draft).toMatchObject({ paymentTerms: 30, paymentTermsLabel: 'Net 30' });
    expect(draftFor(deal()).draft).toMatchObject({ paymentTerms: 14, paymentTermsLabel: 'Net 14' });
    expect(draftFor(deal({ [F.terms]: '2026-12-31' })).draft.dueDate).toBe('2026-12-31');
  });

  it('unreadable terms are an error quoting the value', () => {
    const err = failure(() => draftFor(deal({ [F.terms]: 'whenever' })));
    expect(err.code).toBe('payment_terms_unreadable');
    expect(err.message).toContain('"whenever" is not payment terms');
  });
});

describe('reference, number and deal ID', () => {
  it("the deal's stamp (the backend writes it where it keeps deals) goes with the draft; auto-numbering by default", () => {
    const { draft } = draftFor(deal());
    expect(draft).toMatchObject({ stamp: { key: 'KOMMO-31700125', dealId: 31700125 } });
    expect(draft.invoiceNumber).toBeUndefined();
  });
  it('a number template numbers by deal, and a second invoice of the deal gets a suffix', () => {
    const m = mapping({ numberTemplate: 'INV-{deal_id}' });
    expect(draftFor(deal(), person(), [], m).draft.invoiceNumber).toBe('INV-31700125');
    expect(draftFor(deal(), person(), [], m, 2).draft.invoiceNumber).toBe('INV-31700125-2');
  });
});
