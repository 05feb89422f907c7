// Entities to Kommo's JSON. `base` is the URL the client reached us on, so `_links` point back at the fake
// (a client following `_links.next.href` must stay on loopback).
import { renderFieldDef, renderFieldValues, type RenderOptions } from './fields.js';
import type { KommoStore } from './state.js';
import type { CatalogElement, Company, Contact, Lead, Note, Pipeline, WebhookSub } from './types.js';

export interface RenderCtx extends RenderOptions {
  store: KommoStore;
  base: string;
}

const self = (href: string) => ({ self: { href } });

export function renderAccount(c: RenderCtx) {
  const a = c.store.account;
  return {
    id: a.id,
    name: a.name,
    subdomain: a.subdomain,
    created_at: a.createdAt,
    created_by: a.userId,
    updated_at: a.createdAt,
    updated_by: a.userId,
    current_user_id: a.userId,
    country: a.country,
    currency: a.currency,
    currency_symbol: a.currencySymbol,
    customers_mode: 'disabled',
    is_unsorted_on: true,
    is_loss_reason_enabled: true,
    is_helpbot_enabled: false,
    is_technical_account: false,
    contact_name_display_order: 1,
    _links: self(`${c.base}/api/v4/account`),
  };
}

export function renderPipeline(c: RenderCtx, p: Pipeline) {
  const href = `${c.base}/api/v4/leads/pipelines/${p.id}`;
  return {
    id: p.id,
    name: p.name,
    sort: p.sort,
    is_main: p.isMain,
    is_unsorted_on: true,
    is_archive: false,
    account_id: c.store.account.id,
    _links: self(href),
    _embedded: {
      statuses: p.statuses.map((s) => ({
        id: s.id,
        name: s.name,
        sort: s.sort,
        is_editable: s.id !== 142 && s.id !== 143,
        pipeline_id: p.id,
        color: s.color,
        type: s.type,
        account_id: c.store.account.id,
        _links: self(`${href}/statuses/${s.id}`),
      })),
    },
  };
}

export function renderLead(c: RenderCtx, l: Lead, withParts: Set<string>) {
  const tags = l.tagIds.map((id) => ({ id, name: c.store.tags.get(id)?.name ?? '', color: null }));
  const embedded: Record<string, unknown> = {
    tags,
    companies: l.companyId === null ? [] : [{ id: l.companyId, _links: self(`${c.base}/api/v4/companies/${l.companyId}`) }],
  };
  // Kommo embeds only ids and link metadata: the client must fetch contacts and products itself.
  if (withParts.has('contacts')) {
    embedded.contacts = l.contacts.map((x) => ({ id: x.id, is_main: x.isMain, _links: self(`${c.base}/api/v4/contacts/${x.id}`) }));
  }
  if (withParts.has('catalog_elements')) {
    embedded.catalog_elements = l.products.map((p) => {
      const catalogId = c.store.elements.get(p.id)?.catalogId ?? c.store.productsCatalogId;
      const priceId = c.store.priceFieldId(catalogId);
      return { id: p.id, metadata: { quantity: p.quantity, catalog_id: catalogId, ...(priceId !== undefined ? { price_id: priceId } : {}) } };
    });
  }
  return {
    id: l.id,
    name: l.name,
    price: l.price,
    responsible_user_id: l.responsibleUserId,
    group_id: 0,
    status_id: l.statusId,
    pipeline_id: l.pipelineId,
    loss_reason_id: null,
    created_by: l.createdBy,
    updated_by: l.updatedBy,
    created_at: l.createdAt,
    updated_at: l.updatedAt,
    closed_at: l.closedAt,
    closest_task_at: null,
    is_deleted: false,
    custom_fields_values: renderFieldValues(l.customFields, c.store.leadFields, c),
    score: null,
    account_id: c.store.account.id,
    labor_cost: null,
    _links: self(`${c.base}/api/v4/leads/${l.id}`),
    _embedded: embedded,
  };
}

export function renderLeadLinks(c: RenderCtx, l: Lead) {
  const links: unknown[] = [];
  for (const x of l.contacts) links.push({ to_entity_id: x.id, to_entity_type: 'contacts', metadata: { main_contact: x.isMain } });
  if (l.companyId !== null) links.push({ to_entity_id: l.companyId, to_entity_type: 'companies', metadata: null });
  for (const p of l.products) {
    const catalogId = c.store.elements.get(p.id)?.catalogId ?? c.store.productsCatalogId;
    links.push({ to_entity_id: p.id, to_entity_type: 'catalog_elements', metadata: { quantity: p.quantity, catalog_id: catalogId, price_id: c.store.priceFieldId(catalogId) ?? null } });
  }
  return links;
}

export function renderContact(c: RenderCtx, x: Contact, withParts: Set<string>) {
  const embedded: Record<string, unknown> = {
    tags: [],
    companies: x.companyId === null ? [] : [{ id: x.companyId, _links: self(`${c.base}/api/v4/companies/${x.companyId}`) }],
  };
  if (withParts.has('leads')) {
    embedded.leads = [...c.store.leads.values()].filter((l) => !l.deleted && l.contacts.some((k) => k.id === x.id)).map((l) => ({ id: l.id, _links: self(`${c.base}/api/v4/leads/${l.id}`) }));
  }
  return {
    id: x.id,
    name: x.name,
    first_name: x.firstName,
    last_name: x.lastName,
    responsible_user_id: x.responsibleUserId,
    group_id: 0,
    created_by: x.responsibleUserId,
    updated_by: x.responsibleUserId,
    created_at: x.createdAt,
    updated_at: x.updatedAt,
    closest_task_at: null,
    is_deleted: false,
    is_unsorted: false,
    custom_fields_values: renderFieldValues(x.customFields, c.store.contactFields, c),
    account_id: c.store.account.id,
    _links: self(`${c.base}/api/v4/contacts/${x.id}`),
    _embedded: embedded,
  };
}

export function renderCompany(c: RenderCtx, x: Company, withParts: Set<string>) {
  const embedded: Record<string, unknown> = { tags: [] };
  if (withParts.has('contacts')) {
    embedded.contacts = [...c.store.contacts.values()].filter((k) => k.companyId === x.id).map((k) => ({ id: k.id, _links: self(`${c.base}/api/v4/contacts/${k.id}`) }));
  }
  return {
    id: x.id,
    name: x.name,
    responsible_user_id: x.responsibleUserId,
    group_id: 0,
    created_by: x.responsibleUserId,
    updated_by: x.responsibleUserId,
    created_at: x.createdAt,
    updated_at: x.updatedAt,
    closest_task_at: null,
    is_deleted: false,
    custom_fields_values: renderFieldValues(x.customFields, c.store.companyFields, c),
    account_id: c.store.account.id,
    _links: self(`${c.base}/api/v4/companies/${x.id}`),
    _embedded: embedded,
  };
}

export function renderCatalog(c: RenderCtx, id: number) {
  const k = c.store.catalogs.get(id)!;
  return {
    id: k.id,
    name: k.name,
    created_by: c.store.account.userId,
    updated_by: c.store.account.userId,
    created_at: k.createdAt,
    updated_at: k.updatedAt,
    sort: k.sort,
    type: k.type,
    can_add_elements: true,
    can_show_in_cards: false,
    can_link_multiple: true,
    can_be_deleted: k.type !== 'products',
    sdk_widget_code: null,
    account_id: c.store.account.id,
    _links: self(`${c.base}/api/v4/catalogs/${k.id}`),
  };
}

export function renderElement(c: RenderCtx, e: CatalogElement) {
  return {
    id: e.id,
    name: e.name,
    created_by: c.store.account.userId,
    updated_by: c.store.account.userId,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
    is_deleted: false,
    custom_fields_values: renderFieldValues(e.customFields, c.store.catalogFields, c),
    catalog_id: e.catalogId,
    account_id: c.store.account.id,
    _links: self(`${c.base}/api/v4/catalogs/${e.catalogId}/elements/${e.id}`),
  };
}

export function renderNote(c: RenderCtx, n: Note) {
  return {
    id: n.id,
    entity_id: n.entityId,
    created_by: n.createdBy,
    updated_by: n.createdBy,
    created_at: n.createdAt,
    updated_at: n.updatedAt,
    responsible_user_id: n.responsibleUserId,
    group_id: 0,
    note_type: n.noteType,
    params: n.params,
    account_id: c.store.account.id,
    _links: self(`${c.base}/api/v4/leads/${n.entityId}/notes/${n.id}`),
  };
}

export function renderWebhook(c: RenderCtx, w: WebhookSub) {
  return {
    id: w.id,
    destination: w.destination,
    created_at: w.createdAt,
    updated_at: w.updatedAt,
    account_id: c.store.account.id,
    created_by: c.store.account.userId,
    sort: w.sort,
    disabled: w.disabled,
    settings: w.settings,
  };
}

export { renderFieldDef };
