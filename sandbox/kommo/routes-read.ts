// Read-only /api/v4 endpoints. Unknown ids and empty lists answer 204 with no body, as Kommo does.
import { Router, type Request, type Response } from 'express';
import { baseUrl, hal, intList, noContent, paginate, parseId, problem, rawParams, withSet } from './http.js';
import {
  renderAccount,
  renderCatalog,
  renderCompany,
  renderContact,
  renderElement,
  renderFieldDef,
  renderLead,
  renderLeadLinks,
  renderNote,
  renderPipeline,
  renderWebhook,
  type RenderCtx,
} from './render.js';
import type { KommoStore } from './state.js';
import type { CustomFieldDef, Lead } from './types.js';

export interface ApiDeps {
  store: KommoStore;
  numericAs: () => 'string' | 'number';
}

export const renderCtx = (d: ApiDeps, req: Request): RenderCtx => ({ store: d.store, base: baseUrl(req), numericAs: d.numericAs() });

/** A paginated list under `_embedded[key]`, or 204 when the page is empty. */
export function sendList<T>(req: Request, res: Response, key: string, items: T[], render: (x: T) => unknown, maxLimit: number, defaultLimit = maxLimit): void {
  const page = paginate(req, items, maxLimit, defaultLimit);
  if (!page) return noContent(res);
  hal(res, { _page: page.page, _links: page.links, _embedded: { [key]: page.slice.map(render) } });
}

/** Kommo's `filter[x][from]` / `filter[x][to]` (or `filter[x]=exact`) on unix seconds. */
function rangeFilter(params: URLSearchParams, name: string): ((v: number | null) => boolean) | null {
  const exact = params.get(`filter[${name}]`);
  const from = params.get(`filter[${name}][from]`);
  const to = params.get(`filter[${name}][to]`);
  if (exact === null && from === null && to === null) return null;
  return (v) => v !== null && (exact === null || v === Number(exact)) && (from === null || v >= Number(from)) && (to === null || v <= Number(to));
}

function leadFilter(params: URLSearchParams): (l: Lead) => boolean {
  const ids = intList(params, 'filter[id]');
  const pipelines = intList(params, 'filter[pipeline_id]');
  const pairs = new Map<string, { pipeline?: number; status?: number }>();
  for (const [k, v] of params) {
    const m = /^filter\[statuses\]\[(\d+)\]\[(pipeline_id|status_id)\]$/.exec(k);
    if (!m) continue;
    const entry = pairs.get(m[1]!) ?? {};
    if (m[2] === 'pipeline_id') entry.pipeline = Number(v);
    else entry.status = Number(v);
    pairs.set(m[1]!, entry);
  }
  const updated = rangeFilter(params, 'updated_at');
  const created = rangeFilter(params, 'created_at');
  const closed = rangeFilter(params, 'closed_at');
  const query = params.get('query')?.toLowerCase();
  return (l) =>
    !l.deleted &&
    (!ids || ids.includes(l.id)) &&
    (!pipelines || pipelines.includes(l.pipelineId)) &&
    (!pairs.size || [...pairs.values()].some((p) => (p.pipeline === undefined || p.pipeline === l.pipelineId) && (p.status === undefined || p.status === l.statusId))) &&
    (!updated || updated(l.updatedAt)) &&
    (!created || created(l.createdAt)) &&
    (!closed || closed(l.closedAt)) &&
    (!query || l.name.toLowerCase().includes(query) || String(l.id) === query);
}

function leadOrder(params: URLSearchParams): (a: Lead, b: Lead) => number {
  for (const key of ['updated_at', 'created_at', 'id'] as const) {
    const dir = params.get(`order[${key}]`);
    if (dir !== 'asc' && dir !== 'desc') continue;
    const get = (l: Lead) => (key === 'updated_at' ? l.updatedAt : key === 'created_at' ? l.createdAt : l.id);
    const sign = dir === 'asc' ? 1 : -1;
    return (a, b) => sign * (get(a) - get(b) || a.id - b.id);
  }
  return (a, b) => a.id - b.id;
}

function fieldList(d: ApiDeps, defs: Map<number, CustomFieldDef>) {
  return (req: Request, res: Response) => sendList(req, res, 'custom_fields', [...defs.values()], (f) => renderFieldDef(f, d.store.account.id), 50);
}

export function readRoutes(d: ApiDeps): Router {
  const r = Router();
  const s = d.store;

  r.get('/api/v4/account', (req, res) => hal(res, renderAccount(renderCtx(d, req))));

  r.get('/api/v4/leads/pipelines', (req, res) => {
    const c = renderCtx(d, req);
    const list = [...s.pipelines.values()];
    if (!list.length) return noContent(res);
    hal(res, { _total_items: list.length, _links: { self: { href: `${c.base}/api/v4/leads/pipelines` } }, _embedded: { pipelines: list.map((p) => renderPipeline(c, p)) } });
  });
  r.get('/api/v4/leads/pipelines/:id', (req, res) => {
    const p = s.pipelines.get(parseId(req.params.id) ?? -1);
    if (!p) return noContent(res);
    hal(res, renderPipeline(renderCtx(d, req), p));
  });

  r.get('/api/v4/leads/custom_fields', fieldList(d, s.leadFields));
  r.get('/api/v4/contacts/custom_fields', fieldList(d, s.contactFields));
  r.get('/api/v4/companies/custom_fields', fieldList(d, s.companyFields));

  r.get('/api/v4/leads/notes', (req, res) => {
    const entityIds = intList(rawParams(req), 'filter[entity_id]');
    const notes = [...s.notes.values()].filter((n) => !entityIds || entityIds.includes(n.entityId));
    sendList(req, res, 'notes', notes, (n) => renderNote(renderCtx(d, req), n), 250, 50);
  });

  r.get('/api/v4/leads', (req, res) => {
    const params = rawParams(req);
    const c = renderCtx(d, req);
    const w = withSet(params);
    const leads = [...s.leads.values()].filter(leadFilter(params)).sort(leadOrder(params));
    sendList(req, res, 'leads', leads, (l) => renderLead(c, l, w), 250, 50);
  });

  r.get('/api/v4/leads/:id', (req, res, next) => {
    const id = parseId(req.params.id);
    if (id === null) return next();
    const lead = s.liveLead(id);
    if (!lead) return noContent(res);
    hal(res, renderLead(renderCtx(d, req), lead, withSet(rawParams(req))));
  });

  r.get('/api/v4/leads/:id/links', (req, res) => {
    const lead = s.liveLead(parseId(req.params.id) ?? -1);
    const links = lead ? renderLeadLinks(renderCtx(d, req), lead) : [];
    if (!links.length) return noContent(res);
    hal(res, { _total_items: links.length, _links: { self: { href: `${baseUrl(req)}${req.path}` } }, _embedded: { links } });
  });

  r.get('/api/v4/leads/:id/notes', (req, res) => {
    const id = parseId(req.params.id);
    const types = rawParams(req).getAll('filter[note_type][]').concat(rawParams(req).getAll('filter[note_type]'));
    const notes = [...s.notes.values()].filter((n) => n.entityId === id && (!types.length || types.includes(n.noteType)));
    sendList(req, res, 'notes', notes, (n) => renderNote(renderCtx(d, req), n), 250, 50);
  });
  r.get('/api/v4/leads/:id/notes/:noteId', (req, res) => {
    const n = s.notes.get(parseId(req.params.noteId) ?? -1);
    if (!n || n.entityId !== parseId(req.params.id)) return noContent(res);
    hal(res, renderNote(renderCtx(d, req), n));
  });

  r.get('/api/v4/contacts', (req, res) => {
    const params = rawParams(req);
    const ids = intList(params, 'filter[id]');
    const query = params.get('query')?.toLowerCase();
    const c = renderCtx(d, req);
    const w = withSet(params);
    const list = [...s.contacts.values()].filter((x) => (!ids || ids.includes(x.id)) && (!query || JSON.stringify([x.name, x.customFields]).toLowerCase().includes(query)));
    sendList(req, res, 'contacts', list, (x) => renderContact(c, x, w), 250, 50);
  });
  r.get('/api/v4/contacts/:id', (req, res, next) => {
    const id = parseId(req.params.id);
    if (id === null) return next();
    const x = s.contacts.get(id);
    if (!x) return noContent(res);
    hal(res, renderContact(renderCtx(d, req), x, withSet(rawParams(req))));
  });

  r.get('/api/v4/companies', (req, res) => {
    const params = rawParams(req);
    const ids = intList(params, 'filter[id]');
    const query = params.get('query')?.toLowerCase();
    const c = renderCtx(d, req);
    const w = withSet(params);
    const list = [...s.companies.values()].filter((x) => (!ids || ids.includes(x.id)) && (!query || x.name.toLowerCase().includes(query)));
    sendList(req, res, 'companies', list, (x) => renderCompany(c, x, w), 250, 50);
  });
  r.get('/api/v4/companies/:id', (req, res, next) => {
    const id = parseId(req.params.id);
    if (id === null) return next();
    const x = s.companies.get(id);
    if (!x) return noContent(res);
    hal(res, renderCompany(renderCtx(d, req), x, withSet(rawParams(req))));
  });

  r.get('/api/v4/catalogs', (req, res) => {
    const c = renderCtx(d, req);
    sendList(req, res, 'catalogs', [...s.catalogs.keys()], (id) => renderCatalog(c, id), 250, 50);
  });
  r.get('/api/v4/catalogs/:id', (req, res) => {
    const id = parseId(req.params.id);
    if (id === null || !s.catalogs.has(id)) return noContent(res);
    hal(res, renderCatalog(renderCtx(d, req), id));
  });
  r.get('/api/v4/catalogs/:id/custom_fields', (req, res) => {
    const id = parseId(req.params.id);
    if (id === null || !s.catalogs.has(id)) return problem(res, 404, `Catalog ${req.params.id} not found`);
    const defs = [...s.catalogFields.values()].filter((f) => f.catalogId === id);
    sendList(req, res, 'custom_fields', defs, (f) => renderFieldDef(f, s.account.id), 50);
  });
  r.get('/api/v4/catalogs/:id/elements', (req, res) => {
    const id = parseId(req.params.id);
    if (id === null || !s.catalogs.has(id)) return problem(res, 404, `Catalog ${req.params.id} not found`);
    const params = rawParams(req);
    const ids = intList(params, 'filter[id]');
    const query = params.get('query')?.toLowerCase();
    const c = renderCtx(d, req);
    const list = [...s.elements.values()].filter((e) => e.catalogId === id && (!ids || ids.includes(e.id)) && (!query || e.name.toLowerCase().includes(query)));
    sendList(req, res, 'elements', list, (e) => renderElement(c, e), 250, 50);
  });
  r.get('/api/v4/catalogs/:id/elements/:elementId', (req, res) => {
    const e = s.elements.get(parseId(req.params.elementId) ?? -1);
    if (!e || e.catalogId !== parseId(req.params.id)) return noContent(res);
    hal(res, renderElement(renderCtx(d, req), e));
  });

  r.get('/api/v4/webhooks', (req, res) => {
    const dest = rawParams(req).get('filter[destination]');
    const list = [...s.webhooks.values()].filter((w) => dest === null || w.destination === dest);
    if (!list.length) return noContent(res);
    const c = renderCtx(d, req);
    hal(res, { _total_items: list.length, _links: { self: { href: `${c.base}/api/v4/webhooks` } }, _embedded: { webhooks: list.map((w) => renderWebhook(c, w)) } });
  });

  return r;
}
