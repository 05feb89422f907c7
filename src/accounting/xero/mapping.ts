// Xero's own section of the mapping file (`"xero": {…}`): how invoices carry their deal (Reference), which
// revenue account and branding theme they use, and whether line amounts include tax. Accounts, themes and
// the tax rules' names are checked against the organisation when its reference data is read (start-up).
import { z } from 'zod';
import type { CustomerFields } from '../backend.js';

export const xeroMappingSection = z
  .object({
    /** Reference written on every invoice (and looked up after a lost answer): {deal_id} is replaced. */
    referenceTemplate: z
      .string()
      .trim()
      .max(200, 'must be at most 200 characters')
      .refine((t) => t.includes('{deal_id}'), 'must contain {deal_id}')
      .default('KOMMO-{deal_id}'),
    /** The revenue account of every line (its Code in Xero's chart of accounts); default: the one account named "Sales". */
    salesAccountCode: z.string().trim().min(1).max(10).optional(),
    /** The invoices' branding theme, by name or BrandingThemeID; default: the organisation's default theme. */
    brandingTheme: z.string().trim().min(1).max(255).optional(),
    /** Whether the lines' amounts exclude tax (Xero adds it), include it, or carry none. */
    lineAmountTypes: z.enum(['Exclusive', 'Inclusive', 'NoTax']).default('Exclusive'),
  })
  .strict()
  .default({ referenceTemplate: 'KOMMO-{deal_id}', lineAmountTypes: 'Exclusive' });

export type XeroMappingSection = z.infer<typeof xeroMappingSection>;

/**
 * What a tax rule's `customer` may hold for Xero: nothing. Xero keeps no per-country tax treatment on a
 * contact that an invoice needs — the rule's tax goes on every line as its TaxType — and a contact's
 * TaxNumber belongs to the client, not to a country.
 */
export const xeroCustomerTaxFields: z.ZodType<CustomerFields> = z
  .record(z.string(), z.union([z.string(), z.boolean()]))
  .refine((fields) => Object.keys(fields).length === 0, 'Xero takes no customer settings from a tax rule (the tax goes on each invoice line as its TaxType): remove "customer"');

/**
 * A retainer's schedule as Xero repeats invoices: only every n weeks (WEEKLY) or n months (MONTHLY). Days
 * that make whole weeks and years (12 months each) are exact; any other schedule is a sentence saying why
 * not (start-up refuses such a mapping; a deal asking for one is refused with it).
 */
export function xeroSchedule(frequency: 'days' | 'weeks' | 'months' | 'years', every: number): { unit: 'WEEKLY' | 'MONTHLY'; period: number } | string {
  switch (frequency) {
    case 'weeks':
      return { unit: 'WEEKLY', period: every };
    case 'months':
      return { unit: 'MONTHLY', period: every };
    case 'years':
      return { unit: 'MONTHLY', period: 12 * every };
    case 'days':
      return every % 7 === 0
        ? { unit: 'WEEKLY', period: every / 7 }
        : `Xero repeats invoices only every so many weeks or months, and every ${every} day${every === 1 ? '' : 's'} is neither (use a multiple of 7 days, weeks or months).`;
  }
}
