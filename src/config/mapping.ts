// The mapping file: which Kommo stages trigger what, and which Kommo fields hold what. Stages and fields
// may be named or given by ID; names are resolved against the Kommo API at start-up (resolve-mapping.ts).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { AccountingBackend, CustomerFields } from '../accounting/backend.js';
import { accountingBackend, DEFAULT_ACCOUNTING } from '../accounting/registry.js';
import { checkCapabilities } from './capabilities.js';
import { ConfigError } from './config-error.js';

const idOrName = z.union([z.number().int().positive(), z.string().trim().min(1)]);

/** A stage: `"Invoice"`, `123`, or `{ "pipeline": "Sales", "stage": "Invoice" }` when names repeat across pipelines. */
export const stageRef = z.union([idOrName, z.object({ pipeline: idOrName.optional(), stage: idOrName }).strict()]);
export type StageRef = z.infer<typeof stageRef>;
export type FieldRef = z.infer<typeof idOrName>;

/** The object form of payment.paidField; options (`value`, `partialValue`) by name or enum ID. */
const paidFieldObject = z.object({ field: idOrName, value: idOrName.optional(), partialValue: idOrName.optional() }).strict();
export type PaidFieldRef = FieldRef | z.infer<typeof paidFieldObject>;

const currencyCode = z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO currency code such as EUR');

/** How one country is taxed: a tax by name or percentage, an exemption by name, or no tax; `customer`
 *  holds the backend's own customer settings for that country (its mapping's customerFields). */
const taxRuleWith = (customer: z.ZodType<CustomerFields>) =>
  z.union([
    z.literal('none'),
    z.object({ tax: z.string().trim().min(1), customer: customer.optional() }).strict(),
    z.object({ percentage: z.number().min(0).max(100), customer: customer.optional() }).strict(),
    z.object({ exemption: z.string().trim().min(1), customer: customer.optional() }).strict(),
    z.object({ none: z.literal(true), customer: customer.optional() }).strict(),
  ]);
export const taxRule = taxRuleWith(z.record(z.string(), z.union([z.string(), z.boolean()])));
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

const mappingShape = (customer: z.ZodType<CustomerFields>) => ({
    invoice: z
      .object({
        /** Entering any of these stages creates the deal's invoice. */
        stages: z.array(stageRef).min(1, 'list at least one stage that triggers an invoice'),
        /** Email the invoice to the client once it is created. */
        send: z.boolean().default(true),
        lines,
        /** The accounting system numbers invoices by default; a template such as "INV-{deal_id}" numbers them by deal. */
        number: z
          .object({ template: z.string().trim().min(1).refine((t) => t.includes('{deal_id}'), 'must contain {deal_id}') })
          .strict()
          .optional(),
        /** The deal's currency: a deal field holding a code, else `default`, else the Kommo account's. */
        currency: z.object({ field: idOrName.optional(), default: currencyCode.optional() }).strict().default({}),
        /** Days ("30"), a label ("Net 15", "Due on receipt") or a due date, from a deal field; else the default. */
        paymentTerms: z.object({ field: idOrName.optional(), defaultDays: z.number().int().min(0).max(3650).optional() }).strict().default({}),
        /** A deal moved to Kommo's "Closed - lost" (143): `note` says on the deal and on /admin that its invoice is
         *  still open; `void` voids an unpaid one (deletes a draft), never a partly paid one. Absent: nothing is done. */
        onLost: z.enum(['note', 'void']).optional(),
        /** The invoice is made as a draft for the accountant; it is sent when the deal enters an approval stage, or
         *  when the accountant approves or sends it in the accounting system. Absent: invoices go out at once. */
        review: z.object({ approvalStages: z.array(stageRef).default([]) }).strict().optional(),
        /** The client may pay the invoice online: `true` enables every way the organization has set up, a list
         *  names them in the accounting system's terms (README, invoice.payOnline). Checked at start-up against
         *  the organization. Absent: invoices are made as the accounting system makes them by default. */
        payOnline: z.union([z.literal(true), z.array(z.string().trim().min(1)).min(1).max(20)]).optional(),
      })
      .strict(),
    tax: z
      .object({
        /** Where the client's country is read, first found wins. */
        countryFrom: z.array(z.object({ entity: z.enum(['contact', 'company', 'deal']), field: idOrName }).strict()).default([]),
        defaultCountry: z.string().trim().min(2).optional(),
        /** Country (ISO code or name) -> rule; "*" for every other country. */
        rules: z.record(z.string(), taxRuleWith(customer)).default({}),
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
        /** Name of the recurring profile in the accounting system ({deal_id} replaced); unique per deal. */
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
});

/** The mapping file's schema for a backend: the shared sections plus the backend's own (its mapping.key). */
export function mappingSchemaFor(backend: AccountingBackend) {
  return z.object({ ...mappingShape(backend.mapping.customerFields), [backend.mapping.key]: backend.mapping.schema }).strict();
}

/** The default backend's: what mapping.example.json is checked against. */
export const mappingSchema = mappingSchemaFor(accountingBackend(DEFAULT_ACCOUNTING)!);

const sharedSchema = z.object(mappingShape(z.record(z.string(), z.union([z.string(), z.boolean()]))));

/** The mapping as parsed: the shared sections, and the backend's own section (opaque outside its folder). */
export type Mapping = z.infer<typeof sharedSchema> & { accounting: unknown };

export function parseMapping(raw: unknown, source: string, backend: AccountingBackend = accountingBackend(DEFAULT_ACCOUNTING)!): Mapping {
  const result = mappingSchemaFor(backend).safeParse(raw);
  if (!result.success) throw new ConfigError(result.error.issues.map((i) => `MAPPING_FILE ${source}: ${i.path.join('.') || '(top level)'}: ${i.message}`));
  const { [backend.mapping.key]: section, ...shared } = result.data as Record<string, unknown>;
  const mapping = { ...(shared as z.infer<typeof sharedSchema>), accounting: section };
  const problems = checkCapabilities(backend, mapping);
  if (problems.length) throw new ConfigError(problems.map((p) => `MAPPING_FILE ${source}: ${p}`));
  return mapping;
}

export function loadMappingFile(path: string, backend?: AccountingBackend): Mapping {
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
  return parseMapping(raw, path, backend);
}
