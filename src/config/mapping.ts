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

export const mappingSchema = z
  .object({
    invoice: z
      .object({
        /** Entering any of these stages creates the deal's invoice. */
        stages: z.array(stageRef).min(1, 'list at least one stage that triggers an invoice'),
        /** Email the invoice on creation (Zoho `send=true`). */
        send: z.boolean().default(true),
      })
      .strict(),
    dealFields: z
      .object({
        invoiceId: idOrName,
        invoiceUrl: idOrName,
        invoiceNumber: idOrName.optional(),
      })
      .strict(),
    payment: z
      .object({
        /** Where a fully paid deal goes. A bare stage name means "that stage of the deal's own pipeline". */
        stage: z.union([stageRef, z.array(stageRef).min(1)]).optional(),
        /** A deal field set when the invoice is paid: checkbox -> checked, date -> payment date, text -> "Paid <date>". */
        paidField: idOrName.optional(),
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
