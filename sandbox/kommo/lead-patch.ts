// Validation of PATCH /leads bodies, before anything is applied: a batch is all-or-nothing here so a test can
// rely on "400 means nothing changed". Error codes and dotted paths follow Kommo's validation-errors format.
import { normalizeValues } from './fields.js';
import { LOST, WON, type KommoStore, type LeadPatch } from './state.js';
import type { FieldError } from './types.js';

export interface PatchCheck {
  requestId: string;
  patch?: LeadPatch;
  errors: FieldError[];
  /** Set when the addressed lead does not exist (the route answers 404). */
  missingId?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const intError = (path: string): FieldError => ({ code: 'InvalidType', path, detail: 'This value should be of type int.' });
const choiceError = (path: string, detail = 'The value you selected is not a valid choice.'): FieldError => ({ code: 'NotSupportedChoice', path, detail });

/** `idFromPath` is set for `PATCH /leads/{id}`; batch items carry their own `id`. */
export function checkLeadPatch(store: KommoStore, item: unknown, index: number, idFromPath?: number): PatchCheck {
  const requestId = isObject(item) && typeof item.request_id === 'string' ? item.request_id : String(index);
  if (!isObject(item)) return { requestId, errors: [{ code: 'InvalidType', path: '', detail: 'This value should be of type object.' }] };
  const id = idFromPath ?? item.id;
  if (!isInt(id)) return { requestId, errors: [intError('id')] };
  const lead = store.liveLead(id);
  if (!lead) return { requestId, errors: [], missingId: id };

  const errors: FieldError[] = [];
  const patch: LeadPatch = { id };
  if (item.name !== undefined) {
    if (typeof item.name === 'string') patch.name = item.name;
    else errors.push({ code: 'InvalidType', path: 'name', detail: 'This value should be of type string.' });
  }
  if (item.price !== undefined) {
    // Kommo's price is an integer: 10.5 or "10" are rejected (amocrm-api-php#332).
    if (isInt(item.price) && item.price >= 0) patch.price = item.price;
    else errors.push(intError('price'));
  }
  if (item.responsible_user_id !== undefined) {
    if (isInt(item.responsible_user_id)) patch.responsibleUserId = item.responsible_user_id;
    else errors.push(intError('responsible_user_id'));
  }
  checkStatus(store, item, lead.pipelineId, lead.statusId, patch, errors);
  if (item.custom_fields_values !== undefined) checkFields(store, item.custom_fields_values, patch, errors);
  return errors.length ? { requestId, errors } : { requestId, patch, errors };
}

function checkStatus(store: KommoStore, item: Record<string, unknown>, curPipeline: number, curStatus: number, patch: LeadPatch, errors: FieldError[]): void {
  const { status_id: statusId, pipeline_id: pipelineId } = item;
  if (pipelineId !== undefined) {
    if (!isInt(pipelineId)) return void errors.push(intError('pipeline_id'));
    if (!store.pipelines.has(pipelineId)) return void errors.push(choiceError('pipeline_id'));
  }
  if (statusId !== undefined && !isInt(statusId)) return void errors.push(intError('status_id'));
  const target = (pipelineId as number | undefined) ?? curPipeline;
  if (statusId !== undefined) {
    if (!store.hasStatus(target, statusId as number)) return void errors.push(choiceError('status_id', `Status ${String(statusId)} does not belong to pipeline ${target}.`));
    patch.statusId = statusId as number;
    patch.pipelineId = target;
  } else if (pipelineId !== undefined && target !== curPipeline) {
    // Moving to another pipeline without a status lands in its first stage, as in the UI.
    const first = store.pipelines.get(target)!.statuses.find((s) => s.id !== WON && s.id !== LOST);
    patch.pipelineId = target;
    patch.statusId = first?.id ?? curStatus;
  }
}

function checkFields(store: KommoStore, cfv: unknown, patch: LeadPatch, errors: FieldError[]): void {
  if (!Array.isArray(cfv)) return void errors.push({ code: 'InvalidType', path: 'custom_fields_values', detail: 'This value should be of type array.' });
  const fields: NonNullable<LeadPatch['fields']> = [];
  cfv.forEach((entry, i) => {
    const path = `custom_fields_values.${i}`;
    if (!isObject(entry)) return void errors.push({ code: 'InvalidType', path, detail: 'This value should be of type object.' });
    let def;
    if (entry.field_id !== undefined) {
      def = isInt(entry.field_id) ? store.leadFields.get(entry.field_id) : undefined;
      if (!def) return void errors.push(choiceError(`${path}.field_id`, `Custom field ${String(entry.field_id)} does not exist.`));
    } else if (entry.field_code !== undefined) {
      def = typeof entry.field_code === 'string' ? [...store.leadFields.values()].find((f) => f.code === entry.field_code) : undefined;
      if (!def) return void errors.push(choiceError(`${path}.field_code`, `Custom field with code ${String(entry.field_code)} does not exist.`));
    } else {
      return void errors.push({ code: 'NotBlank', path: `${path}.field_id`, detail: 'field_id or field_code is required.' });
    }
    const r = normalizeValues(def, entry.values, path);
    if (r.errors.length) errors.push(...r.errors);
    else fields.push({ fieldId: def.id, values: r.values });
  });
  if (fields.length) patch.fields = fields;
}
