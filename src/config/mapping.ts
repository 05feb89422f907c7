// The mapping file: which Kommo stages trigger what, and which Kommo fields hold what. Stages and fields
// may be named or given by ID; names are resolved against the Kommo API at start-up (resolve-mapping.ts).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from './env.js';

const idOrName = z.union([z.number().int().positive(), z.string().trim().min(1)]);

/** A stage: `"Invoice"`, `123`, or `{ "pipeline": "Sales", "stage": "Invoice" }` when names repeat across pipelines. */
export const stageRef = z.union([idOrName, z.object({ pipeline: idOrName.optional(), stage: idOrName }).strict()]);
export type StageRef = z.infer<typeof stageRef>;
export type FieldRef = z.infer<typeof idOrName>;

/** The object form of payment.paidField; options (`value`, `partialValue`) by name or enum ID. */
const paidFieldObject = z.object({ field: idOrName, value: idOrName.optional(), partialValue: idOrName.optional() }).strict();
export type PaidFieldRef = FieldRef | z.infer<typeof paidFieldObject>;

const currencyCode = z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO currency code such as EUR');

/** Edition-specific customer fields Zoho wants for some countries (UK vat_treatment, India gst_treatment, …). */
const customerTaxFields = z.partialRecord(
  z.enum(['vat_treatment', 'tax_treatment', 'gst_treatment', 'gst_no', 'place_of_contact', 'country_code', 'vat_reg_no', 'tax_reg_no', 'is_taxable']),
  z.union([z.string(), z.boolean()]),
);

/** How one country is taxed: a Zoho tax by name or percentage, an exemption by name, or no tax. */
export const taxRule = z.union([
  z.literal('none'),
  z.object({ tax: z.string().trim().min(1), customer: customerTaxFields.optional() }).strict(),
  z.object({ percentage: z.number().min(0).max(100), customer: customerTaxFields.optional() }).strict(),
  z.object({ exemption: z.string().trim().min(1), customer: customerTaxFields.optional() }).strict(),
  z.object({ none: z.literal(true), customer: customerTaxFields.optional() }).strict(),
]);
export type TaxRule = z.infer<typeof taxRule>;

export const LINE_SOURCES = ['products', 'fields', 'deal'] as const;

const lines = z
  .object({
    /** Tried in this order; the first that yields lines wins (`deal`: its name and amount, if it has an amount). */
    sources: z.array(z.enum(LINE_SOURCES)).min(1).default(['products', 'deal']),
    /** Fields of the Kommo products catalog. Default: the catalog's PRICE and SKU fields, description none. */
    products: z.object({ priceField: idOrName.optional(), skuField: idOrName.optional(), descriptionField: idOrName.optional() }).strict().default({}),
    /** Deal fields that describe the lines: one item with quantity and price, or a multiselect of services. */
    fields: z
      .union([
        z.object({ item: idOrName, quantity: idOrName.optional(), price: idOrName.optional() }).strict(),
        z.object({ multiselect: idOrName, prices: z.record(z.string(), z.number().nonnegative()).default({}) }).strict(),
      ])
      .optional(),
    /** Lines total != deal amount: the invoice follows the lines; `discount` also discounts the surplus. */
    whenTotalDiffers: z.enum(['record', 'discount']).default('record'),
  })
  .strict()
  .default({ sources: ['products', 'deal'], products: {}, whenTotalDiffers: 'record' });

export const mappingSchema = z
  .object({
    invoice: z
      .object({
        /** Entering any of these stages creates the deal's invoice. */
        stages: z.array(stageRef).min(1, 'list at least one stage that triggers an invoice'),
        /** Email the invoice on creation (Zoho `send=true`). */
        send: z.boolean().default(true),
        lines,
        /** Zoho numbers invoices by default; a template such as "INV-{deal_id}" numbers them by deal. */
        number: z
          .object({ template: z.string().trim().min(1).refine((t) => t.includes('{deal_id}'), 'must contain {deal_id}') })
          .strict()
          .optional(),
        /** The deal's currency: a deal field holding a code, else `default`, else the Kommo account's. */
        currency: z.object({ field: idOrName.optional(), default: currencyCode.optional() }).strict().default({}),
        /** Days ("30"), a label ("Net 15", "Due on receipt") or a due date, from a deal field; else the default. */
        paymentTerms: z.object({ field: idOrName.optional(), defaultDays: z.number().int().min(0).max(3650).optional() }).strict().default({}),
      })
      .strict(),
    tax: z
      .object({
        /** Where the client's country is read, first found wins. */
        countryFrom: z.array(z.object({ entity: z.enum(['contact', 'company', 'deal']), field: idOrName }).strict()).default([]),
        defaultCountry: z.string().trim().min(2).optional(),
        /** Country (ISO code or name) -> rule; "*" for every other country. */
        rules: z.record(z.string(), taxRule).default({}),
      })
      .strict()
      .default({ countryFrom: [], rules: {} }),
    dealFields: z
      .object({
        invoiceId: idOrName,
        invoiceUrl: idOrName,
        invoiceNumber: idOrName.optional(),
      })
      .strict(),
    retainer: z
      .object({
        /** Entering one of these starts (or resumes) the deal's recurring invoice. A bare name means that stage in any pipeline. */
        startStages: z.array(stageRef).min(1),
        /** Entering one of these stops it (e.g. "Completed", or 143 for Closed - lost). */
        stopStages: z.array(stageRef).default([]),
        /** A deal field such as "monthly", "every 2 weeks", "quarterly"; else `every` x `frequency`. */
        frequencyField: idOrName.optional(),
        frequency: z.enum(['days', 'weeks', 'months', 'years']).default('months'),
        every: z.number().int().min(1).max(365).default(1),
        startDateField: idOrName.optional(),
        endDateField: idOrName.optional(),
        /** The deal field that receives the recurring invoice's ID. */
        recurringIdField: idOrName,
        /** Name of the recurring profile in Zoho ({deal_id} replaced); unique per deal. */
        nameTemplate: z.string().trim().refine((t) => t.includes('{deal_id}'), 'must contain {deal_id}').default('Kommo deal {deal_id}'),
        /** A fully paid invoice of the retainer moves the deal to payment.stage too (default: notes only). */
        moveOnPayment: z.boolean().default(false),
      })
      .strict()
      .optional(),
    payment: z
      .object({
        /** Where a fully paid deal goes. A bare stage name means "that stage of the deal's own pipeline". */
        stage: z.union([stageRef, z.array(stageRef).min(1)]).optional(),
        /** A deal field set when the invoice is paid (paid-field.ts): `"Paid"`, or `{ "field": "Payment status",
         *  "value": "paid", "partialValue": "partially paid" }` for a select / radio field's options. */
        paidField: z.union([idOrName, paidFieldObject]).optional(),
      })
      .strict()
      .default({}),
    zoho: z
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
      .default({ referenceTemplate: 'KOMMO-{deal_id}' }),
  })
  .strict();

export type Mapping = z.infer<typeof mappingSchema>;

export function parseMapping(raw: unknown, source: string): Mapping {
  const result = mappingSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((i) => `MAPPING_FILE ${source}: ${i.path.join('.') || '(top level)'}: ${i.message}`),
  );
}

export function loadMappingFile(path: string): Mapping {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`MAPPING_FILE: cannot read '${path}' (${(err as NodeJS.ErrnoException).code ?? String(err)}). Create it from mapping.example.json.`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError([`MAPPING_FILE ${path}: not valid JSON (${(err as Error).message}).`]);
  }
  return parseMapping(raw, path);
}
