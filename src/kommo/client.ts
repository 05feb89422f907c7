// Kommo API v4 client: Bearer auth, 7 requests/s client-side, errors translated into RelayErrors.
import type { AxiosResponse } from 'axios';
import { permanent, retryable, type RelayError } from '../errors.js';
import type { Logger } from '../log.js';
import { HttpService, type CallObserver, type CallOptions } from '../net/http.js';
import { SlidingWindowLimiter, withMargin, type CallLimiter } from '../net/rate-limiter.js';
import type { KommoAccount, KommoCatalogElement, KommoCompany, KommoContact, KommoFieldDefinition, KommoFieldWrite, KommoLead, KommoPipeline } from './types.js';

export interface KommoClientOptions {
  baseUrl: string;
  /** Returns the current access token (long-lived, or from the OAuth token store). */
  accessToken: () => Promise<string>;
  /** Called on 401 with the token that request carried; true if a new token is available. */
  onUnauthorized?: (rejectedToken: string | undefined) => Promise<boolean>;
  ratePerSecond: number;
  /** Shared with other processes (net/limits.ts); default: a limiter of this process alone. */
  limiter?: CallLimiter;
  timeoutMs: number;
  log: Logger;
  observer?: CallObserver;
  retryBaseMs?: number;
}

export class KommoClient {
  private readonly http: HttpService;

  constructor(opts: KommoClientOptions) {
    this.http = new HttpService({
      service: 'kommo',
      label: 'Kommo',
      baseUrl: () => `${opts.baseUrl}/api/v4`,
      timeoutMs: opts.timeoutMs,
      limiter: opts.limiter ?? new SlidingWindowLimiter(opts.ratePerSecond, withMargin(1000)),
      authorize: async (headers) => {
        headers.Authorization = `Bearer ${await opts.accessToken()}`;
      },
      // The token this very request carried: if another call (or process) already replaced it, no new refresh.
      onUnauthorized: opts.onUnauthorized ? (sent) => opts.onUnauthorized!(sent.Authorization?.replace(/^Bearer /, '')) : undefined,
      translate: translateKommoError,
      log: opts.log,
      observer: opts.observer,
      retryBaseMs: opts.retryBaseMs,
    });
  }

  /** undefined when the lead does not exist (Kommo answers 204 with no body). */
  async getLead(id: number, withRelations: string[] = ['contacts', 'catalog_elements']): Promise<KommoLead | undefined> {
    const res = await this.http.call<KommoLead>({ method: 'GET', path: `/leads/${id}`, params: withRelations.length ? { with: withRelations.join(',') } : undefined });
    return res.status === 204 ? undefined : res.data;
  }

  /** Several leads in one call (at most 250, Kommo's page limit): the ones that exist, with the same
   *  relations as getLead. Kommo answers 204 when none of them does. */
  async getLeads(ids: number[], withRelations: string[] = ['contacts', 'catalog_elements']): Promise<KommoLead[]> {
    if (ids.length === 0) return [];
    const res = await this.http.call<{ _embedded?: { leads?: KommoLead[] } }>({
      method: 'GET',
      path: '/leads',
      params: { 'filter[id]': ids, limit: Math.max(ids.length, 1), ...(withRelations.length ? { with: withRelations.join(',') } : {}) },
    });
    return res.status === 204 ? [] : (res.data._embedded?.leads ?? []);
  }

  async getContact(id: number): Promise<KommoContact | undefined> {
    const res = await this.http.call<KommoContact>({ method: 'GET', path: `/contacts/${id}` });
    return res.status === 204 ? undefined : res.data;
  }

  async getCompany(id: number): Promise<KommoCompany | undefined> {
    const res = await this.http.call<KommoCompany>({ method: 'GET', path: `/companies/${id}` });
    return res.status === 204 ? undefined : res.data;
  }

  async getAccount(): Promise<KommoAccount> {
    return (await this.http.call<KommoAccount>({ method: 'GET', path: '/account' })).data;
  }

  async getPipelines(): Promise<KommoPipeline[]> {
    const res = await this.http.call<{ _embedded?: { pipelines?: KommoPipeline[] } }>({ method: 'GET', path: '/leads/pipelines' });
    return res.status === 204 ? [] : (res.data._embedded?.pipelines ?? []);
  }

  /** All custom field definitions of an entity (`leads`, `contacts`, `companies`), every page. */
  async getCustomFields(entity: 'leads' | 'contacts' | 'companies'): Promise<KommoFieldDefinition[]> {
    const all: KommoFieldDefinition[] = [];
    for (let page = 1; page <= 100; page++) {
      const res = await this.http.call<{ _embedded?: { custom_fields?: KommoFieldDefinition[] }; _links?: { next?: unknown } }>({
        method: 'GET',
        path: `/${entity}/custom_fields`,
        params: { page, limit: 50 },
      });
      if (res.status === 204) break;
      all.push(...(res.data._embedded?.custom_fields ?? []));
      if (!res.data._links?.next) break;
    }
    return all;
  }

  /** Leads currently in any of the given stages (the reconciler's query), every page. */
  async listLeadsInStages(stages: Array<{ pipelineId: number; statusId: number }>, maxPages = 20): Promise<KommoLead[]> {
    const params: Record<string, unknown> = { limit: 250 };
    stages.forEach((s, i) => {
      params[`filter[statuses][${i}][pipeline_id]`] = s.pipelineId;
      params[`filter[statuses][${i}][status_id]`] = s.statusId;
    });
    const all: KommoLead[] = [];
    for (let page = 1; page <= maxPages; page++) {
      const res = await this.http.call<{ _embedded?: { leads?: KommoLead[] }; _links?: { next?: unknown } }>({ method: 'GET', path: '/leads', params: { ...params, page } });
      if (res.status === 204) break;
      all.push(...(res.data._embedded?.leads ?? []));
      if (!res.data._links?.next) break;
    }
    return all;
  }

  /** Idempotent: writing the same values twice leaves the lead as it was. */
  async updateLead(id: number, patch: { status_id?: number; pipeline_id?: number; custom_fields_values?: KommoFieldWrite[] }): Promise<void> {
    await this.http.call({ method: 'PATCH', path: `/leads/${id}`, data: patch });
  }

  async addLeadNote(leadId: number, text: string): Promise<number | undefined> {
    const res = await this.http.call<{ _embedded?: { notes?: Array<{ id: number }> } }>({
      method: 'POST',
      path: `/leads/${leadId}/notes`,
      data: [{ note_type: 'common', params: { text } }],
    });
    return res.data?._embedded?.notes?.[0]?.id;
  }

  /** Every note of a lead, up to a bound (a lead rarely has more than a few hundred). */
  async leadNotes(leadId: number, maxPages = 10): Promise<Array<{ id: number; note_type: string; params?: unknown }>> {
    const all: Array<{ id: number; note_type: string; params?: unknown }> = [];
    for (let page = 1; page <= maxPages; page++) {
      const res = await this.http.call<{ _embedded?: { notes?: Array<{ id: number; note_type: string; params?: unknown }> }; _links?: { next?: unknown } }>({
        method: 'GET',
        path: `/leads/${leadId}/notes`,
        params: { page, limit: 250 },
      });
      if (res.status === 204) break;
      all.push(...(res.data._embedded?.notes ?? []));
      if (!res.data._links?.next) break;
    }
    return all;
  }

  /** Elements of one catalog by ID, in one call (Kommo answers 204 when none match). */
  async catalogElements(catalogId: number, ids: number[]): Promise<KommoCatalogElement[]> {
    if (ids.length === 0) return [];
    const params: Record<string, unknown> = { limit: 250 };
    ids.forEach((id, i) => (params[`filter[id][${i}]`] = id));
    const res = await this.http.call<{ _embedded?: { elements?: KommoCatalogElement[] } }>({ method: 'GET', path: `/catalogs/${catalogId}/elements`, params });
    return res.status === 204 ? [] : (res.data._embedded?.elements ?? []);
  }

  async catalogs(): Promise<Array<{ id: number; name: string; type: string }>> {
    const res = await this.http.call<{ _embedded?: { catalogs?: Array<{ id: number; name: string; type: string }> } }>({ method: 'GET', path: '/catalogs', params: { limit: 250 } });
    return res.status === 204 ? [] : (res.data._embedded?.catalogs ?? []);
  }

  async catalogFields(catalogId: number): Promise<KommoFieldDefinition[]> {
    const res = await this.http.call<{ _embedded?: { custom_fields?: KommoFieldDefinition[] } }>({ method: 'GET', path: `/catalogs/${catalogId}/custom_fields`, params: { limit: 50 } });
    return res.status === 204 ? [] : (res.data._embedded?.custom_fields ?? []);
  }

  /** Raw access for the CLI and tests. */
  call<T>(call: CallOptions) {
    return this.http.call<T>(call);
  }
}

interface KommoProblem {
  title?: string;
  detail?: string;
  'validation-errors'?: Array<{ errors?: Array<{ code?: string; path?: string; detail?: string }> }>;
}

function translateKommoError(res: AxiosResponse, call: CallOptions): RelayError {
  const body = (typeof res.data === 'object' && res.data ? res.data : {}) as KommoProblem;
  const where = `${call.method} ${call.path}`;
  const opts = { status: res.status, service: 'kommo' as const };
  if (res.status === 401) {
    return retryable('kommo_unauthorized', `Kommo rejected the access token (${body.detail ?? body.title ?? '401'}): reconnect Kommo or renew KOMMO_ACCESS_TOKEN.`, opts);
  }
  if (res.status === 403) {
    // Kommo blocks an account that exceeded its limits with 403 for every call, possibly as an HTML page.
    return retryable('kommo_forbidden', `Kommo refused ${where} (403): the integration lacks access or the account is temporarily blocked for exceeding the rate limit.`, opts);
  }
  if (res.status === 404) return permanent('kommo_not_found', `Kommo has no such record (${where}).`, opts);
  const details = (body['validation-errors'] ?? [])
    .flatMap((v) => v.errors ?? [])
    .map((e) => `${e.path ?? '?'}: ${e.detail ?? e.code ?? 'invalid'}`)
    .join('; ');
  return permanent('kommo_rejected', `Kommo rejected ${where} (${res.status} ${body.title ?? ''}${body.detail ? `: ${body.detail}` : ''}${details ? `; ${details}` : ''}).`, opts);
}
