// Turns the mapping's names into Kommo IDs at start-up. A name that does not exist is a start-up error
// that lists what does exist, so the fix is one copy-paste away.
import type { KommoFieldDefinition, KommoPipeline } from '../kommo/types.js';
import { ConfigError } from './config-error.js';
import type { FieldRef, Mapping, StageRef } from './mapping.js';
import { paidFieldRef, resolvePaidField, type ResolvedPaidField } from './resolve-paid-field.js';

export interface ResolvedStage {
  pipelineId: number;
  statusId: number;
  label: string;
}

export interface ResolvedField {
  id: number;
  name: string;
  type: string;
}

export interface ResolvedLines {
  sources: Array<'products' | 'fields' | 'deal'>;
  products: { priceFieldId?: number; skuFieldId?: number; descriptionFieldId?: number };
  fields?: { item: ResolvedField; quantity?: ResolvedField; price?: ResolvedField } | { multiselect: ResolvedField; prices: Record<string, number> };
  whenTotalDiffers: 'record' | 'discount';
}

export interface ResolvedRetainer {
  startStages: ResolvedStage[];
  stopStages: ResolvedStage[];
  frequencyField?: ResolvedField;
  frequency: 'days' | 'weeks' | 'months' | 'years';
  every: number;
  startDateField?: ResolvedField;
  endDateField?: ResolvedField;
  recurringIdField: ResolvedField;
  nameTemplate: string;
  moveOnPayment: boolean;
}

export interface ResolvedMapping {
  invoiceStages: ResolvedStage[];
  retainer?: ResolvedRetainer;
  lines: ResolvedLines;
  numberTemplate?: string;
  currency: { field?: ResolvedField; default?: string };
  paymentTerms: { field?: ResolvedField; defaultDays?: number };
  /** Country sources resolved to field IDs; the tax rules themselves are resolved against the accounting system (sync/tax-rules.ts). */
  tax: { countryFrom: Array<{ entity: 'contact' | 'company' | 'deal'; field: ResolvedField }>; defaultCountry?: string; rules: Mapping['tax']['rules'] };
  /** Where a fully paid deal goes: at most one stage per pipeline. */
  payment: { stages: ResolvedStage[]; paidField?: ResolvedPaidField };
  sendInvoice: boolean;
  /** invoice.onLost, with Kommo's "Closed - lost" stage of every pipeline. */
  onLost?: { action: 'note' | 'void'; stages: ResolvedStage[] };
  /** invoice.review: drafts first; entering an approval stage sends the deal's draft. */
  review?: { approvalStages: ResolvedStage[] };
  dealFields: { invoiceId: ResolvedField; invoiceUrl: ResolvedField; invoiceNumber?: ResolvedField };
}

export interface KommoCatalogue {
  pipelines: KommoPipeline[];
  leadFields: KommoFieldDefinition[];
  contactFields?: KommoFieldDefinition[];
  companyFields?: KommoFieldDefinition[];
  /** Fields of the products catalog, when the mapping uses products. */
  productFields?: KommoFieldDefinition[];
}

/** Which field lists the mapping needs from Kommo beyond pipelines and lead fields. */
export function catalogueNeeds(m: Mapping): { contact: boolean; company: boolean; products: boolean } {
  return {
    contact: m.tax.countryFrom.some((c) => c.entity === 'contact'),
    company: m.tax.countryFrom.some((c) => c.entity === 'company'),
    products: m.invoice.lines.sources.includes('products'),
  };
}

export function resolveMapping(m: Mapping, kommo: KommoCatalogue): ResolvedMapping {
  const problems: string[] = [];
  const stages = m.invoice.stages.flatMap((ref, i) => {
    try {
      return [resolveStage(ref, kommo.pipelines)];
    } catch (e) {
      problems.push(`MAPPING_FILE invoice.stages[${i}]: ${(e as Error).message}`);
      return [];
    }
  });
  const field = (key: string, ref: FieldRef | undefined, list = kommo.leadFields, entity = 'lead'): ResolvedField | undefined => {
    if (ref === undefined) return undefined;
    try {
      return resolveField(ref, list, entity);
    } catch (e) {
      problems.push(`MAPPING_FILE ${key.includes('.') ? key : `dealFields.${key}`}: ${(e as Error).message}`);
      return undefined;
    }
  };
  const paymentStages = (m.payment.stage === undefined ? [] : Array.isArray(m.payment.stage) ? m.payment.stage : [m.payment.stage]).flatMap((ref, i) => {
    try {
      return resolveStageInEachPipeline(ref, kommo.pipelines);
    } catch (e) {
      problems.push(`MAPPING_FILE payment.stage${Array.isArray(m.payment.stage) ? `[${i}]` : ''}: ${(e as Error).message}`);
      return [];
    }
  });
  let paidField: ResolvedPaidField | undefined;
  if (m.payment.paidField !== undefined) {
    const found = field('payment.paidField', paidFieldRef(m.payment.paidField));
    const def = found && kommo.leadFields.find((f) => f.id === found.id);
    if (def) {
      const resolved = resolvePaidField(m.payment.paidField, def);
      problems.push(...resolved.problems);
      paidField = resolved.field;
    }
  }
  let retainer: ResolvedRetainer | undefined;
  if (m.retainer) {
    const r = m.retainer;
    const stagesOf = (key: string, refs: StageRef[]) =>
      refs.flatMap((ref, i) => {
        try {
          return resolveStageInEachPipeline(ref, kommo.pipelines);
        } catch (e) {
          problems.push(`MAPPING_FILE retainer.${key}[${i}]: ${(e as Error).message}`);
          return [];
        }
      });
    const recurringIdField = field('retainer.recurringIdField', r.recurringIdField);
    const frequencyField = field('retainer.frequencyField', r.frequencyField);
    const startDateField = field('retainer.startDateField', r.startDateField);
    const endDateField = field('retainer.endDateField', r.endDateField);
    const startStages = stagesOf('startStages', r.startStages);
    const stopStages = stagesOf('stopStages', r.stopStages);
    const clash = startStages.find((s) => stages.some((i) => i.statusId === s.statusId && i.pipelineId === s.pipelineId));
    if (clash) problems.push(`MAPPING_FILE retainer.startStages: ${clash.label} is also an invoicing stage (invoice.stages); a deal is either invoiced once or billed on a schedule.`);
    if (recurringIdField) {
      retainer = {
        startStages,
        stopStages,
        frequency: r.frequency,
        every: r.every,
        recurringIdField,
        nameTemplate: r.nameTemplate,
        moveOnPayment: r.moveOnPayment,
        ...(frequencyField ? { frequencyField } : {}),
        ...(startDateField ? { startDateField } : {}),
        ...(endDateField ? { endDateField } : {}),
      };
    }
  }
  const lines = m.invoice.lines;
  const productField = (key: string, ref: FieldRef | undefined, code: string): number | undefined => {
    const list = kommo.productFields ?? [];
    if (ref === undefined) return list.find((f) => f.code === code)?.id; // Kommo's built-in catalog fields
    return field(`invoice.lines.products.${key}`, ref, list, 'product')?.id;
  };
  const products = lines.sources.includes('products')
    ? { priceFieldId: productField('priceField', lines.products.priceField, 'PRICE'), skuFieldId: productField('skuField', lines.products.skuField, 'SKU'), descriptionFieldId: productField('descriptionField', lines.products.descriptionField, 'DESCRIPTION') }
    : {};
  let lineFields: ResolvedLines['fields'];
  if (lines.fields && 'item' in lines.fields) {
    const item = field('invoice.lines.fields.item', lines.fields.item);
    if (item) lineFields = { item, quantity: field('invoice.lines.fields.quantity', lines.fields.quantity), price: field('invoice.lines.fields.price', lines.fields.price) };
  } else if (lines.fields) {
    const multiselect = field('invoice.lines.fields.multiselect', lines.fields.multiselect);
    if (multiselect) lineFields = { multiselect, prices: lines.fields.prices };
  }
  if (lines.sources.includes('fields') && !lines.fields) problems.push("MAPPING_FILE invoice.lines.sources: 'fields' is listed but invoice.lines.fields is not set");
  const countryFrom = m.tax.countryFrom.flatMap((c, i) => {
    const list = c.entity === 'contact' ? kommo.contactFields : c.entity === 'company' ? kommo.companyFields : kommo.leadFields;
    const f = field(`tax.countryFrom[${i}].field`, c.field, list ?? [], c.entity);
    return f ? [{ entity: c.entity, field: f }] : [];
  });
  const currencyField = field('invoice.currency.field', m.invoice.currency.field);
  const termsField = field('invoice.paymentTerms.field', m.invoice.paymentTerms.field);
  const invoiceId = field('invoiceId', m.dealFields.invoiceId);
  const invoiceUrl = field('invoiceUrl', m.dealFields.invoiceUrl);
  const invoiceNumber = field('invoiceNumber', m.dealFields.invoiceNumber);
  const approvalStages = (m.invoice.review?.approvalStages ?? []).flatMap((ref, i) => {
    try {
      return resolveStageInEachPipeline(ref, kommo.pipelines);
    } catch (e) {
      problems.push(`MAPPING_FILE invoice.review.approvalStages[${i}]: ${(e as Error).message}`);
      return [];
    }
  });
  const approvalClash = approvalStages.find((a) => stages.some((s) => s.statusId === a.statusId && s.pipelineId === a.pipelineId));
  if (approvalClash) problems.push(`MAPPING_FILE invoice.review.approvalStages: ${approvalClash.label} is also an invoicing stage (invoice.stages); the approval stage is the one the deal moves to once the draft is approved.`);
  if (problems.length || !invoiceId || !invoiceUrl) throw new ConfigError(problems);
  return {
    invoiceStages: stages,
    ...(retainer ? { retainer } : {}),
    lines: { sources: lines.sources, products, ...(lineFields ? { fields: lineFields } : {}), whenTotalDiffers: lines.whenTotalDiffers },
    ...(m.invoice.number ? { numberTemplate: m.invoice.number.template } : {}),
    currency: { ...(currencyField ? { field: currencyField } : {}), ...(m.invoice.currency.default ? { default: m.invoice.currency.default } : {}) },
    paymentTerms: { ...(termsField ? { field: termsField } : {}), ...(m.invoice.paymentTerms.defaultDays !== undefined ? { defaultDays: m.invoice.paymentTerms.defaultDays } : {}) },
    tax: { countryFrom, ...(m.tax.defaultCountry ? { defaultCountry: m.tax.defaultCountry } : {}), rules: m.tax.rules },
    payment: { stages: paymentStages, ...(paidField ? { paidField } : {}) },
    sendInvoice: m.invoice.send,
    ...(m.invoice.onLost ? { onLost: { action: m.invoice.onLost, stages: lostStages(kommo.pipelines) } } : {}),
    ...(m.invoice.review ? { review: { approvalStages } } : {}),
    dealFields: { invoiceId, invoiceUrl, ...(invoiceNumber ? { invoiceNumber } : {}) },
  };
}

/** Kommo's "Closed - lost": status 143 in every pipeline (shared/reference/kommo.md). */
export const KOMMO_LOST_STATUS = 143;

/** The lost stage of every pipeline (the pipelines list may leave the closed stages out: 143 is fixed). */
function lostStages(pipelines: KommoPipeline[]): ResolvedStage[] {
  return pipelines.map((p) => ({ pipelineId: p.id, statusId: KOMMO_LOST_STATUS, label: `${p.name} / ${p._embedded.statuses.find((s) => s.id === KOMMO_LOST_STATUS)?.name ?? 'Closed - lost'}` }));
}

function same(a: string, b: string): boolean {
  return a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();
}

function resolveStage(ref: StageRef, pipelines: KommoPipeline[]): ResolvedStage {
  const { pipeline, stage } = typeof ref === 'object' ? ref : { pipeline: undefined, stage: ref };
  let candidates = pipelines;
  if (pipeline !== undefined) {
    candidates = pipelines.filter((p) => (typeof pipeline === 'number' ? p.id === pipeline : same(p.name, pipeline)));
    if (candidates.length === 0) {
      throw new Error(`no pipeline ${JSON.stringify(pipeline)}. Pipelines: ${pipelines.map((p) => `'${p.name}' (${p.id})`).join(', ') || 'none'}`);
    }
  }
  const matches = candidates.flatMap((p) =>
    p._embedded.statuses.filter((s) => (typeof stage === 'number' ? s.id === stage : same(s.name, stage))).map((s) => ({ p, s })),
  );
  if (matches.length === 1) {
    const { p, s } = matches[0]!;
    return { pipelineId: p.id, statusId: s.id, label: `${p.name} / ${s.name}` };
  }
  const listing = candidates.map((p) => `${p.name} (${p.id}): ${p._embedded.statuses.map((s) => `'${s.name}' (${s.id})`).join(', ')}`).join('; ');
  if (matches.length === 0) throw new Error(`no stage ${JSON.stringify(stage)}${pipeline !== undefined ? ` in pipeline ${JSON.stringify(pipeline)}` : ''}. Stages: ${listing}`);
  throw new Error(`stage ${JSON.stringify(stage)} exists in several pipelines (${matches.map((m) => m.p.name).join(', ')}): write it as { "pipeline": "...", "stage": ${JSON.stringify(stage)} }`);
}

/** A bare stage name (or ID, such as 143 "Closed - lost" which every pipeline has) resolves in every
 *  pipeline that has it: a deal moves within its own pipeline. */
function resolveStageInEachPipeline(ref: StageRef, pipelines: KommoPipeline[]): ResolvedStage[] {
  if (typeof ref === 'object') return [resolveStage(ref, pipelines)];
  const matches = (s: { id: number; name: string }) => (typeof ref === 'number' ? s.id === ref : same(s.name, ref));
  const found = pipelines.flatMap((p) => p._embedded.statuses.filter(matches).map((s) => ({ pipelineId: p.id, statusId: s.id, label: `${p.name} / ${s.name}` })));
  if (found.length === 0) return [resolveStage(ref, pipelines)]; // throws, listing what exists
  return found;
}

function resolveField(ref: FieldRef, fields: KommoFieldDefinition[], entity: string): ResolvedField {
  const matches = fields.filter((f) => (typeof ref === 'number' ? f.id === ref : same(f.name, ref) || (f.code ? same(f.code, ref) : false)));
  const listing = fields.map((f) => `'${f.name}' (${f.id}, ${f.type})`).join(', ') || 'none';
  const Entity = entity.charAt(0).toUpperCase() + entity.slice(1);
  if (matches.length === 0) throw new Error(`no ${entity} field ${JSON.stringify(ref)}. ${Entity} fields: ${listing}`);
  if (matches.length > 1) throw new Error(`several ${entity} fields are named ${JSON.stringify(ref)}: use the ID (${matches.map((f) => f.id).join(' or ')})`);
  const f = matches[0]!;
  return { id: f.id, name: f.name, type: f.type };
}
