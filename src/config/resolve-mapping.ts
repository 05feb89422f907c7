// Turns the mapping's names into Kommo IDs at start-up. A name that does not exist is a start-up error
// that lists what does exist, so the fix is one copy-paste away.
import type { KommoFieldDefinition, KommoPipeline } from '../kommo/types.js';
import { ConfigError } from './env.js';
import type { FieldRef, Mapping, StageRef } from './mapping.js';

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

export interface ResolvedMapping {
  invoiceStages: ResolvedStage[];
  /** Where a fully paid deal goes: at most one stage per pipeline. */
  payment: { stages: ResolvedStage[]; paidField?: ResolvedField };
  sendInvoice: boolean;
  dealFields: { invoiceId: ResolvedField; invoiceUrl: ResolvedField; invoiceNumber?: ResolvedField };
  zoho: { dealIdField?: string; referenceTemplate: string };
}

export interface KommoCatalogue {
  pipelines: KommoPipeline[];
  leadFields: KommoFieldDefinition[];
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
  const field = (key: string, ref: FieldRef | undefined): ResolvedField | undefined => {
    if (ref === undefined) return undefined;
    try {
      return resolveField(ref, kommo.leadFields);
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
  const paidField = field('payment.paidField', m.payment.paidField);
  const invoiceId = field('invoiceId', m.dealFields.invoiceId);
  const invoiceUrl = field('invoiceUrl', m.dealFields.invoiceUrl);
  const invoiceNumber = field('invoiceNumber', m.dealFields.invoiceNumber);
  if (problems.length || !invoiceId || !invoiceUrl) throw new ConfigError(problems);
  return {
    invoiceStages: stages,
    payment: { stages: paymentStages, ...(paidField ? { paidField } : {}) },
    sendInvoice: m.invoice.send,
    dealFields: { invoiceId, invoiceUrl, ...(invoiceNumber ? { invoiceNumber } : {}) },
    zoho: { dealIdField: m.zoho.dealIdField, referenceTemplate: m.zoho.referenceTemplate },
  };
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

/** A bare stage name resolves in every pipeline that has it (a deal moves within its own pipeline). */
function resolveStageInEachPipeline(ref: StageRef, pipelines: KommoPipeline[]): ResolvedStage[] {
  if (typeof ref !== 'string') return [resolveStage(ref, pipelines)];
  const found = pipelines.flatMap((p) => p._embedded.statuses.filter((s) => same(s.name, ref)).map((s) => ({ pipelineId: p.id, statusId: s.id, label: `${p.name} / ${s.name}` })));
  if (found.length === 0) return [resolveStage(ref, pipelines)]; // throws, listing what exists
  return found;
}

function resolveField(ref: FieldRef, fields: KommoFieldDefinition[]): ResolvedField {
  const matches = fields.filter((f) => (typeof ref === 'number' ? f.id === ref : same(f.name, ref) || (f.code ? same(f.code, ref) : false)));
  const listing = fields.map((f) => `'${f.name}' (${f.id}, ${f.type})`).join(', ') || 'none';
  if (matches.length === 0) throw new Error(`no lead field ${JSON.stringify(ref)}. Lead fields: ${listing}`);
  if (matches.length > 1) throw new Error(`several lead fields are named ${JSON.stringify(ref)}: use the ID (${matches.map((f) => f.id).join(' or ')})`);
  const f = matches[0]!;
  return { id: f.id, name: f.name, type: f.type };
}
