// Line items and the totals Zoho derives from them (shared by invoices and recurring profiles).
// Each line is rounded once to the currency's precision; tax is computed per tax on the sum of the
// lines carrying it and rounded once, so sub_total + tax_total = total exactly in minor units.
import { longId } from '../common.js';
import { invalidValue } from './errors.js';
import { fromMinor, includedTaxMinor, isNumeric, percentOfMinor, productMinor, toMinor } from './money.js';
import type { LineItem, TaxSummary, Totals, ZohoState } from './state.js';

export function computeTotals(
  state: ZohoState,
  organizationId: string,
  input: unknown,
  precision: number,
  isInclusiveTax: boolean,
  previous: LineItem[] = [],
): Totals {
  if (!Array.isArray(input) || input.length === 0) throw invalidValue('line_items is required and must not be empty');
  const lineItems = input.map((raw, i) => parseLine(state, organizationId, raw, i, precision, previous));

  const byTax = new Map<string, { taxName: string; percentage: number; baseMinor: bigint }>();
  let subTotalMinor = 0n;
  for (const line of lineItems) {
    subTotalMinor += line.itemTotalMinor;
    if (!line.taxId) continue;
    const group = byTax.get(line.taxId) ?? { taxName: line.taxName, percentage: line.taxPercentage, baseMinor: 0n };
    group.baseMinor += line.itemTotalMinor;
    byTax.set(line.taxId, group);
  }
  const taxes: TaxSummary[] = [...byTax].map(([taxId, g]) => ({
    taxId,
    taxName: g.taxName,
    amountMinor: isInclusiveTax ? includedTaxMinor(g.baseMinor, g.percentage) : percentOfMinor(g.baseMinor, g.percentage),
  }));
  const taxTotalMinor = taxes.reduce((sum, t) => sum + t.amountMinor, 0n);
  // With inclusive tax the entered rates already contain the tax: the total is the sum of the lines.
  const totalMinor = isInclusiveTax ? subTotalMinor : subTotalMinor + taxTotalMinor;
  return { lineItems, subTotalMinor, taxTotalMinor, totalMinor, taxes };
}

function parseLine(
  state: ZohoState,
  organizationId: string,
  raw: unknown,
  index: number,
  precision: number,
  previous: LineItem[],
): LineItem {
  const at = `line_items[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalidValue(`Invalid value passed for ${at}`);
  const l = raw as Record<string, unknown>;

  const itemId = l.item_id === undefined || l.item_id === null || l.item_id === '' ? '' : String(l.item_id);
  const item = itemId ? state.items.get(itemId) : undefined;
  if (itemId && (!item || item.organizationId !== organizationId)) throw invalidValue(`Invalid value passed for ${at}.item_id`);

  const name = typeof l.name === 'string' && l.name.trim() !== '' ? l.name : (item?.name ?? '');
  if (!name) throw invalidValue(`${at} needs an item_id or a name`);

  const rateRaw = l.rate ?? item?.rate;
  if (!isNumeric(rateRaw)) throw invalidValue(`Invalid value passed for ${at}.rate`);
  const quantityRaw = l.quantity ?? 1;
  if (!isNumeric(quantityRaw) || Number(quantityRaw) <= 0) throw invalidValue(`Invalid value passed for ${at}.quantity: it must be greater than zero`);

  const grossMinor = productMinor(rateRaw, quantityRaw, precision);
  const discount = parseDiscount(l.discount, at);
  const discountMinor =
    typeof discount === 'string' ? percentOfMinor(grossMinor, discount.slice(0, -1)) : toMinor(discount, precision);
  if (discountMinor > grossMinor && grossMinor >= 0n) throw invalidValue(`${at}.discount is larger than the line amount`);

  const taxId = l.tax_id === undefined || l.tax_id === null || l.tax_id === '' ? '' : String(l.tax_id);
  const tax = taxId ? state.taxes.get(taxId) : undefined;
  if (taxId && (!tax || tax.organizationId !== organizationId)) throw invalidValue(`Invalid value passed for ${at}.tax_id`);

  const keepId = typeof l.line_item_id === 'string' && previous.some((p) => p.lineItemId === l.line_item_id);
  return {
    lineItemId: keepId ? (l.line_item_id as string) : longId(),
    itemId,
    name,
    description: typeof l.description === 'string' ? l.description : (item?.description ?? ''),
    rate: Number(rateRaw),
    quantity: Number(quantityRaw),
    unit: typeof l.unit === 'string' ? l.unit : '',
    discount,
    taxId,
    taxName: tax?.name ?? '',
    taxPercentage: tax?.percentage ?? 0,
    itemTotalMinor: grossMinor - discountMinor,
  };
}

/** A number is an amount off the line; "12.5%" is a percentage of it (Zoho accepts both). */
function parseDiscount(v: unknown, at: string): number | string {
  if (v === undefined || v === null || v === '') return 0;
  if (typeof v === 'string' && /^\s*\d+(\.\d+)?\s*%\s*$/.test(v)) {
    const text = v.replace(/\s/g, '');
    if (Number(text.slice(0, -1)) > 100) throw invalidValue(`Invalid value passed for ${at}.discount`);
    return text;
  }
  if (!isNumeric(v) || Number(v) < 0) throw invalidValue(`Invalid value passed for ${at}.discount`);
  return Number(v);
}

export function lineItemJson(l: LineItem, precision: number) {
  return {
    line_item_id: l.lineItemId,
    item_id: l.itemId,
    name: l.name,
    description: l.description,
    rate: l.rate,
    quantity: l.quantity,
    unit: l.unit,
    // The contract types the answer's discount as a number: a percentage '10%' comes back as 10.
    discount: typeof l.discount === 'string' ? Number(l.discount.slice(0, -1)) : l.discount,
    tax_id: l.taxId,
    tax_name: l.taxName,
    tax_type: 'tax',
    tax_percentage: l.taxPercentage,
    item_total: fromMinor(l.itemTotalMinor, precision),
  };
}

export function taxesJson(taxes: TaxSummary[], precision: number) {
  return taxes.map((t) => ({ tax_name: t.taxName, tax_amount: fromMinor(t.amountMinor, precision) }));
}
