// /_sandbox: unauthenticated JSON control API so a demo or benchmark in another process can seed data, move
// leads like a user would, inject faults and read what the fake saw. Not part of Kommo; never rate limited.
import { Router, type Response } from 'express';
import { z } from 'zod';
import type { FakeKommo } from './server.js';

const fieldType = z.enum(['text', 'textarea', 'numeric', 'date', 'date_time', 'url', 'select', 'radiobutton', 'multiselect', 'checkbox', 'price']);
const customFields = z.record(z.string(), z.union([z.string(), z.number()])).optional();
const int = z.number().int().positive();

const schemas = {
  pipeline: z.object({ name: z.string().min(1), statuses: z.array(z.string().min(1)).min(1) }),
  field: z.object({ name: z.string().min(1), type: fieldType, code: z.string().optional(), enums: z.array(z.string()).optional() }),
  contact: z.object({
    name: z.string().min(1),
    firstName: z.string().optional(),
    lastName: z.string().optional(),
    email: z.union([z.string(), z.array(z.string())]).optional(),
    phone: z.string().optional(),
    companyId: int.optional(),
    customFields,
  }),
  company: z.object({ name: z.string().min(1), customFields }),
  product: z.object({ name: z.string().min(1), price: z.number().optional(), sku: z.string().optional(), description: z.string().optional() }),
  lead: z.object({
    name: z.string(),
    price: z.number().int().nonnegative().optional(),
    pipelineId: int,
    statusId: int,
    contacts: z.array(z.object({ id: int, isMain: z.boolean().optional() })).optional(),
    products: z.array(z.object({ id: int, quantity: z.number().positive() })).optional(),
    companyId: int.optional(),
    customFields,
    tags: z.array(z.string()).optional(),
    responsibleUserId: int.optional(),
  }),
  move: z.object({ ids: z.array(int).min(1), statusId: int, pipelineId: int.optional() }),
  subscribe: z.object({ destination: z.url(), settings: z.array(z.string()).min(1) }),
  unsubscribe: z.object({ destination: z.string() }),
  drop: z.object({ count: z.number().int().nonnegative(), event: z.string().optional() }),
  faults: z.object({
    reset: z.boolean().optional(),
    errorRate: z.number().min(0).max(1).optional(),
    statuses: z.array(z.number().int()).optional(),
    timeoutRate: z.number().min(0).max(1).optional(),
    latencyMs: z.number().nonnegative().optional(),
    failNext: z.object({ count: z.number().int().positive(), status: z.number().int(), body: z.unknown().optional(), headers: z.record(z.string(), z.string()).optional() }).optional(),
  }),
  settings: z.object({
    rateLimitPerSecond: z.number().int().positive().optional(),
    plan: z.enum(['advanced', 'base']).optional(),
    dropWebhookRate: z.number().min(0).max(1).optional(),
    webhookTimeoutMs: z.number().int().positive().optional(),
    webhookRetries: z.number().int().nonnegative().optional(),
    webhookRetryDelayMs: z.number().int().nonnegative().optional(),
    webhookDelayMs: z.number().int().nonnegative().optional(),
    combineWebhookActions: z.boolean().optional(),
    numericValuesAs: z.enum(['string', 'number']).optional(),
  }),
};

/** Accepts snake_case too (`pipeline_id`, `status_id`, `custom_fields`, `is_main`), as a Kommo user would write. */
function camel(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(camel);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), k === 'custom_fields' || k === 'customFields' ? x : camel(x)]));
}

/** Parses the body with `schema`, runs `fn`, answers its result; bad input or a refused seed -> 400. */
function handle<S extends z.ZodType>(res: Response, schema: S, body: unknown, fn: (input: z.infer<S>) => unknown): void {
  const parsed = schema.safeParse(camel(body ?? {}));
  if (!parsed.success) {
    res.status(400).json({ error: 'invalid body', issues: parsed.error.issues });
    return;
  }
  Promise.resolve()
    .then(() => fn(parsed.data))
    .then((out) => res.status(200).json(out ?? { ok: true }))
    .catch((e: unknown) => res.status(400).json({ error: e instanceof Error ? e.message : String(e) }));
}

/** The state as JSON: Maps become arrays of their values. */
export function snapshot(k: FakeKommo): unknown {
  const s = k.state;
  const pick = { account: s.account, refreshCount: s.refreshCount, productsCatalogId: s.productsCatalogId, leads: s.leads, contacts: s.contacts, companies: s.companies, catalogs: s.catalogs, elements: s.elements, notes: s.notes, pipelines: s.pipelines, leadFields: s.leadFields, contactFields: s.contactFields, companyFields: s.companyFields, catalogFields: s.catalogFields, tags: s.tags, webhooks: s.webhooks, settings: k.settings };
  return JSON.parse(JSON.stringify(pick, (_key, v: unknown) => (v instanceof Map ? [...v.values()] : v)));
}

export function controlRoutes(k: FakeKommo): Router {
  const r = Router();
  r.get('/state', (_req, res) => void res.json(snapshot(k)));
  r.get('/requests', (_req, res) => void res.json(k.requests));
  r.delete('/requests', (_req, res) => {
    k.requests.length = 0;
    res.json({ ok: true });
  });
  r.get('/deliveries', (_req, res) => void res.json({ deliveries: k.deliveries, dropped: k.droppedWebhooks }));
  r.delete('/deliveries', (_req, res) => {
    k.deliveries.length = 0;
    k.droppedWebhooks.length = 0;
    res.json({ ok: true });
  });

  r.post('/pipelines', (req, res) => handle(res, schemas.pipeline, req.body, (b) => k.addPipeline(b.name, b.statuses)));
  r.post('/custom_fields/:entity', (req, res) => {
    const add = { leads: k.addLeadField, contacts: k.addContactField, companies: k.addCompanyField }[req.params.entity as 'leads'];
    if (!add) return void res.status(404).json({ error: 'entity must be leads, contacts or companies' });
    handle(res, schemas.field, req.body, (b) => ({ id: add.call(k, b) }));
  });
  // An account admin editing a list field's options in Kommo's settings: kept options keep their IDs.
  r.post('/custom_fields/leads/:id/enums', (req, res) =>
    handle(res, z.object({ enums: z.array(z.string().min(1)).min(1) }), req.body, (b) => ({ enums: k.setLeadFieldOptions(Number(req.params.id), b.enums) })),
  );
  r.post('/contacts', (req, res) => handle(res, schemas.contact, req.body, (b) => ({ id: k.addContact(b) })));
  r.post('/companies', (req, res) => handle(res, schemas.company, req.body, (b) => ({ id: k.addCompany(b) })));
  r.post('/products', (req, res) => handle(res, schemas.product, req.body, (b) => ({ id: k.addProduct(b), catalog_id: k.productsCatalogId })));
  r.post('/leads', (req, res) => handle(res, schemas.lead, req.body, (b) => ({ id: k.addLead(b) })));
  r.post('/leads/move', (req, res) => handle(res, schemas.move, req.body, (b) => k.moveLeads(b.ids, b.statusId, b.pipelineId)));
  r.delete('/leads/:id', (req, res) => handle(res, z.object({}), {}, () => k.deleteLead(Number(req.params.id))));

  r.post('/webhooks', (req, res) => handle(res, schemas.subscribe, req.body, (b) => k.subscribe(b.destination, b.settings)));
  r.delete('/webhooks', (req, res) => handle(res, schemas.unsubscribe, req.body, (b) => ({ removed: k.state.unsubscribe(b.destination) })));
  r.post('/webhooks/drop', (req, res) => handle(res, schemas.drop, req.body, (b) => k.dropNextWebhooks(b.count, b.event)));
  r.post('/webhooks/flush', (req, res) => handle(res, z.object({}), {}, () => k.flushWebhooks()));

  r.post('/faults', (req, res) =>
    handle(res, schemas.faults, req.body, (b) => {
      if (b.reset) k.faults.reset();
      const { reset: _r, failNext, ...settings } = b;
      k.faults.set(Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)));
      if (failNext) k.faults.failNext(failNext.count, { status: failNext.status, ...(failNext.body !== undefined ? { body: failNext.body } : {}), ...(failNext.headers ? { headers: failNext.headers } : {}) });
      return k.faults.settings;
    }),
  );
  r.post('/settings', (req, res) => handle(res, schemas.settings, req.body, (b) => k.configure(Object.fromEntries(Object.entries(b).filter(([, v]) => v !== undefined)))));

  r.post('/oauth/code', (_req, res) => void res.json({ code: k.issueAuthCode() }));
  r.post('/oauth/tokens', (_req, res) => void res.json(k.issueTokens()));
  r.post('/oauth/expire', (_req, res) => {
    k.expireAccessTokens();
    res.json({ ok: true });
  });
  return r;
}
