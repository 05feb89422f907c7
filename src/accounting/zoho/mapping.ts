// Zoho's own section of the mapping file (`"zoho": {…}`) and the customer settings a tax rule may carry
// for Zoho (`tax.rules.GB.customer.vat_treatment`): what only Zoho Books has a word for.
import { z } from 'zod';

export const zohoMappingSection = z
  .object({
    /** api_name of an invoice custom field (e.g. cf_kommo_deal_id) that receives the Kommo deal ID. */
    dealIdField: z.string().trim().regex(/^cf_[a-z0-9_]+$/, "must be a Zoho custom field api_name such as 'cf_kommo_deal_id'").optional(),
    /** Reference number written on every invoice: {deal_id} is replaced. */
    referenceTemplate: z
      .string()
      .trim()
      .refine((t) => t.includes('{deal_id}'), 'must contain {deal_id}')
      .default('KOMMO-{deal_id}'),
  })
  .strict()
  .default({ referenceTemplate: 'KOMMO-{deal_id}' });

export type ZohoMappingSection = z.infer<typeof zohoMappingSection>;

/** Edition-specific customer fields Zoho wants for some countries (UK vat_treatment, India gst_treatment, …). */
export const zohoCustomerTaxFields = z.partialRecord(
  z.enum(['vat_treatment', 'tax_treatment', 'gst_treatment', 'gst_no', 'place_of_contact', 'country_code', 'vat_reg_no', 'tax_reg_no', 'is_taxable']),
  z.union([z.string(), z.boolean()]),
);
