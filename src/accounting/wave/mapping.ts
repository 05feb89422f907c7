// Wave's own section of the mapping file (`"wave": {…}`): the invoice number that carries the deal (and is
// how an invoice whose create answer was lost is found again: Wave has no idempotency key) and the income
// account every product the relay creates sells to. Both are checked against the business when its
// reference data is read (start-up).
import { z } from 'zod';
import type { CustomerFields } from '../backend.js';

export const DEFAULT_INVOICE_NUMBER_TEMPLATE = 'KOMMO-{deal_id}';

export const waveMappingSection = z
  .object({
    /** Wave's invoiceNumber of every invoice (and what a lost create is looked up by): {deal_id} is replaced. The mapping's invoice.number.template, when set, is used instead. */
    invoiceNumberTemplate: z
      .string()
      .trim()
      .max(60, 'must be at most 60 characters')
      .refine((t) => t.includes('{deal_id}'), 'must contain {deal_id}')
      .refine((t) => t.split('{deal_id}').length === 2, 'must contain {deal_id} once')
      .default(DEFAULT_INVOICE_NUMBER_TEMPLATE),
    /** The income account of the products the relay creates, by name or ID; default: the one income account named "Sales". */
    incomeAccount: z.string().trim().min(1).max(255).optional(),
    /**
     * Rates to the business's currency of the other currencies deals may be invoiced in ("EUR": 1.08): Wave
     * needs one on every invoice in another currency and publishes none. Without an entry a currency is refused.
     */
    exchangeRates: z
      .record(z.string().regex(/^[A-Z]{3}$/, 'must be a currency code such as EUR'), z.number().positive().max(1_000_000))
      .refine((r) => Object.keys(r).length <= 200, 'at most 200 currencies')
      .default({}),
    /** Text under the invoice (Wave's memo); {deal_id} is replaced. */
    memoTemplate: z.string().trim().max(500).optional(),
  })
  .strict()
  .default({ invoiceNumberTemplate: DEFAULT_INVOICE_NUMBER_TEMPLATE, exchangeRates: {} });

export type WaveMappingSection = z.infer<typeof waveMappingSection>;

/**
 * What a tax rule's `customer` may hold for Wave: nothing. A Wave customer keeps no tax treatment; the rule's
 * sales tax goes on every invoice line (`taxes`), and a "none" rule puts none there.
 */
export const waveCustomerTaxFields: z.ZodType<CustomerFields> = z
  .record(z.string(), z.union([z.string(), z.boolean()]))
  .refine((fields) => Object.keys(fields).length === 0, 'Wave takes no customer settings from a tax rule (the sales tax goes on each invoice line): remove "customer"');
