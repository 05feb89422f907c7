// Writing /api/v4 endpoints: lead PATCH (single and batch), notes, webhook subscriptions. Every body is
// validated in full before anything changes, so a 400 never leaves a half-applied batch behind.
import { Router, type Request, type Response } from 'express';
import { checkLeadPatch, type PatchCheck } from './lead-patch.js';
import { baseUrl, hal, noContent, parseId, problem, validationProblem } from './http.js';
import { renderWebhook } from './render.js';
import { renderCtx, type ApiDeps } from './routes-read.js';
import type { FieldError } from './types.js';

export interface WriteDeps extends ApiDeps {
  plan: () => 'advanced' | 'base';
}

const MAX_BATCH = 250; // Kommo's per-request entity limit

const NOTE_TYPES = new Set(['common', 'call_in', 'call_out', 'service_message', 'extended_service_message', 'message_cashier', 'geolocation', 'sms_in', 'sms_out', 'attachment', 'invoice_paid']);
const TEXT_NOTES = new Set(['common', 'service_message', 'extended_service_message', 'sms_in', 'sms_out', 'message_cashier', 'invoice_paid']);

export const WEBHOOK_SETTINGS = new Set(
  ['lead', 'contact', 'company', 'customer'].flatMap((e) => ['add', 'update', 'delete', 'restore', 'responsible', 'note'].map((a) => `${a}_${e}`)).concat(['status_lead', 'add_task', 'update_task', 'delete_task', 'responsible_task', 'add_talk', 'update_talk', 'add_message', 'add_chat_template_review']),
);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function batchShapeError(res: Response, body: unknown): boolean {
  if (!Array.isArray(body) || body.length === 0) {
    validationProblem(res, [{ request_id: '0', errors: [{ code: 'InvalidType', path: '', detail: 'The request body should be a non-empty array.' }] }]);
    return true;
  }
  if (body.length > MAX_BATCH) {
    validationProblem(res, [{ request_id: '0', errors: [{ code: 'Count', path: '', detail: `At most ${MAX_BATCH} entities per request.` }] }]);
    return true;
  }
  return false;
}

/** Answers 404 / 400 for failed checks; returns true when it did. */
function rejectChecks(res: Response, checks: PatchCheck[]): boolean {
  const missing = checks.find((c) => c.missingId !== undefined);
  if (missing) {
    problem(res, 404, `Lead ${missing.missingId} not found`);
    return true;
  }
  const bad = checks.filter((c) => c.errors.length);
  if (bad.length) {
    validationProblem(res, bad.map((c) => ({ request_id: c.requestId, errors: c.errors })));
    return true;
  }
  return false;
}

function checkNote(d: ApiDeps, item: unknown, index: number, entityFromPath?: number): { requestId: string; errors: FieldError[] } {
  const requestId = isObject(item) && typeof item.request_id === 'string' ? item.request_id : String(index);
  if (!isObject(item)) return { requestId, errors: [{ code: 'InvalidType', path: '', detail: 'This value should be of type object.' }] };
  const errors: FieldError[] = [];
  const entityId = entityFromPath ?? item.entity_id;
  if (typeof entityId !== 'number' || !d.store.liveLead(entityId)) {
    errors.push({ code: 'NotSupportedChoice', path: 'entity_id', detail: `Lead ${String(entityId)} does not exist.` });
  }
  if (typeof item.note_type !== 'string' || !NOTE_TYPES.has(item.note_type)) {
    errors.push({ code: 'NotSupportedChoice', path: 'note_type', detail: 'The value you selected is not a valid choice.' });
  }
  if (!isObject(item.params)) errors.push({ code: 'InvalidType', path: 'params', detail: 'This value should be of type object.' });
  else if (typeof item.note_type === 'string' && TEXT_NOTES.has(item.note_type) && (typeof item.params.text !== 'string' || item.params.text.trim() === '')) {
    errors.push({ code: 'NotBlank', path: 'params.text', detail: 'This value should not be blank.' });
  }
  return { requestId, errors };
}

function addNotes(d: ApiDeps, req: Request, res: Response, entityFromPath?: number): void {
  const body: unknown = req.body;
  if (batchShapeError(res, body)) return;
  const items = body as unknown[];
  const checks = items.map((item, i) => checkNote(d, item, i, entityFromPath));
  const bad = checks.filter((c) => c.errors.length);
  if (bad.length) return validationProblem(res, bad.map((c) => ({ request_id: c.requestId, errors: c.errors })));
  const base = baseUrl(req);
  const notes = items.map((raw, i) => {
    const item = raw as Record<string, unknown>;
    const n = d.store.addNote((entityFromPath ?? item.entity_id) as number, item.note_type as string, { ...(item.params as Record<string, unknown>) });
    return { id: n.id, entity_id: n.entityId, request_id: checks[i]!.requestId, _links: { self: { href: `${base}/api/v4/leads/${n.entityId}/notes/${n.id}` } } };
  });
  hal(res, { _links: { self: { href: `${base}${req.path}` } }, _embedded: { notes } });
}

export function writeRoutes(d: WriteDeps): Router {
  const r = Router();
  const s = d.store;

  r.patch('/api/v4/leads', (req, res) => {
    const body: unknown = req.body;
    if (batchShapeError(res, body)) return;
    const checks = (body as unknown[]).map((item, i) => checkLeadPatch(s, item, i));
    if (rejectChecks(res, checks)) return;
    const leads = s.applyLeadPatches(checks.map((c) => c.patch!));
    const base = baseUrl(req);
    hal(res, {
      _links: { self: { href: `${base}/api/v4/leads` } },
      _embedded: { leads: leads.map((l, i) => ({ id: l.id, updated_at: l.updatedAt, request_id: checks[i]!.requestId, _links: { self: { href: `${base}/api/v4/leads/${l.id}` } } })) },
    });
  });

  r.patch('/api/v4/leads/:id', (req, res, next) => {
    const id = parseId(req.params.id);
    if (id === null) return next();
    if (!isObject(req.body)) return validationProblem(res, [{ request_id: '0', errors: [{ code: 'InvalidType', path: '', detail: 'The request body should be an object.' }] }]);
    const check = checkLeadPatch(s, req.body, 0, id);
    if (rejectChecks(res, [check])) return;
    const [lead] = s.applyLeadPatches([check.patch!]);
    hal(res, { id: lead!.id, updated_at: lead!.updatedAt, _links: { self: { href: `${baseUrl(req)}/api/v4/leads/${lead!.id}` } } });
  });

  r.post('/api/v4/leads/notes', (req, res) => addNotes(d, req, res));
  r.post('/api/v4/leads/:id/notes', (req, res, next) => {
    const id = parseId(req.params.id);
    if (id === null) return next();
    addNotes(d, req, res, id);
  });

  r.post('/api/v4/webhooks', (req, res) => {
    if (d.plan() !== 'advanced') return problem(res, 403, 'Webhooks via API are available on the Advanced and Enterprise plans only');
    const b: unknown = req.body;
    const errors: FieldError[] = [];
    if (!isObject(b)) errors.push({ code: 'InvalidType', path: '', detail: 'The request body should be an object.' });
    else {
      if (typeof b.destination !== 'string' || !/^https?:\/\/[^\s]+$/.test(b.destination)) errors.push({ code: 'InvalidUrl', path: 'destination', detail: 'This value is not a valid URL.' });
      if (!Array.isArray(b.settings) || b.settings.length === 0) errors.push({ code: 'NotBlank', path: 'settings', detail: 'This value should be a non-empty array.' });
      else b.settings.forEach((v, i) => {
        if (typeof v !== 'string' || !WEBHOOK_SETTINGS.has(v)) errors.push({ code: 'NotSupportedChoice', path: `settings.${i}`, detail: 'The value you selected is not a valid choice.' });
      });
    }
    if (errors.length) return validationProblem(res, [{ request_id: '0', errors }]);
    const body = b as { destination: string; settings: string[] };
    const sub = s.subscribe(body.destination, body.settings);
    hal(res, renderWebhook(renderCtx(d, req), sub), 201);
  });

  r.delete('/api/v4/webhooks', (req, res) => {
    const b: unknown = req.body;
    if (!isObject(b) || typeof b.destination !== 'string') {
      return validationProblem(res, [{ request_id: '0', errors: [{ code: 'NotBlank', path: 'destination', detail: 'This value should not be blank.' }] }]);
    }
    s.unsubscribe(b.destination);
    noContent(res);
  });

  return r;
}
