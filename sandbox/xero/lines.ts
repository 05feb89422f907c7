// Line items and totals as Xero computes them: LineAmount = Quantity × UnitAmount (2 dp), tax from the
// line's TaxType (or the account's default) under the document's LineAmountTypes: Exclusive adds it,
// Inclusive takes it out of the amount, NoTax has none.
import { randomUUID } from 'node:crypto';
import type { LineAmountTypes, LineItem, Tenant } from './state.js';
import { round2 } from './state.js';

type Json = Record<string, unknown>;
export const LINE_AMOUNT_TYPES = ['Exclusive', 'Inclusive', 'NoTax'] as const;
const MAX_LINES = 500;

export interface Totals {
  lineItems: LineItem[];
  subTotal: number;
  totalTax: number;
  total: number;
}

/** Builds the lines; problems are pushed to `messages` in Xero's words. */
export function buildLines(tenant: Tenant, input: unknown, types: LineAmountTypes, messages: string[]): Totals {
  const raw = Array.isArray(input) ? input.slice(0, MAX_LINES) : [];
  if (Array.isArray(input) && input.length > MAX_LINES) messages.push(`A document cannot have more than ${MAX_LINES} line items.`);
  const lineItems = raw.map((item: Json): LineItem => {
    const accountCode = typeof item.AccountCode === 'string' ? item.AccountCode : undefined;
    const account = accountCode === undefined ? undefined : tenant.accounts.find((a) => a.code === accountCode);
    if (accountCode !== undefined && !account) messages.push(`Account code '${accountCode}' is not a valid code for this document.`);
    const taxType = typeof item.TaxType === 'string' ? item.TaxType : account?.taxType ?? defaultSalesTax(tenant);
    const rate = tenant.taxRates.find((t) => t.taxType === taxType && t.status === 'ACTIVE' && t.canApplyToRevenue);
    if (types !== 'NoTax' && !rate) {
      messages.push(`The TaxType code '${taxType}' does not exist or cannot be used with this type of transaction.`);
    }
    const quantity = item.Quantity === undefined ? 1 : Number(item.Quantity);
    const unitAmount = item.UnitAmount === undefined ? 0 : Number(item.UnitAmount);
    if (!Number.isFinite(quantity) || !Number.isFinite(unitAmount)) messages.push('Quantity and UnitAmount must be numbers.');
    const description = typeof item.Description === 'string' ? item.Description : undefined;
    if (!description && typeof item.ItemCode !== 'string') messages.push('Description needs to be specified for each line item.');
    const lineAmount = round2(quantity * unitAmount);
    const percent = types === 'NoTax' ? 0 : (rate?.rate ?? 0);
    const taxAmount = types === 'Inclusive' ? round2((lineAmount * percent) / (100 + percent)) : round2((lineAmount * percent) / 100);
    return {
      lineItemId: randomUUID(),
      ...(description !== undefined ? { description } : {}),
      quantity,
      unitAmount,
      ...(accountCode !== undefined ? { accountCode } : {}),
      ...(types !== 'NoTax' || typeof item.TaxType === 'string' ? { taxType } : {}),
      ...(typeof item.ItemCode === 'string' ? { itemCode: item.ItemCode } : {}),
      lineAmount,
      taxAmount,
    };
  });
  const sumLines = round2(lineItems.reduce((s, l) => s + l.lineAmount, 0));
  const totalTax = round2(lineItems.reduce((s, l) => s + l.taxAmount, 0));
  if (types === 'Inclusive') return { lineItems, subTotal: round2(sumLines - totalTax), totalTax, total: sumLines };
  return { lineItems, subTotal: sumLines, totalTax, total: round2(sumLines + totalTax) };
}

/** The organisation's default revenue rate: its first active one that applies to revenue. */
export function defaultSalesTax(tenant: Tenant): string {
  return tenant.accounts.find((a) => a.type === 'REVENUE' || a.type === 'SALES')?.taxType ?? 'NONE';
}

export function lineAmountTypesOf(value: unknown, messages: string[]): LineAmountTypes {
  if (value === undefined) return 'Exclusive';
  if ((LINE_AMOUNT_TYPES as readonly unknown[]).includes(value)) return value as LineAmountTypes;
  messages.push(`LineAmountTypes must be one of ${LINE_AMOUNT_TYPES.join(', ')}.`);
  return 'Exclusive';
}

export function currencyOf(tenant: Tenant, value: unknown, messages: string[]): string {
  if (value === undefined) return tenant.baseCurrency;
  const code = String(value).toUpperCase();
  if (!tenant.currencies.includes(code)) messages.push(`The currency code ${String(value)} is not a valid currency for this organisation.`);
  return code;
}
