// The fake account's data and every mutation on it. Mutations that Kommo would announce by webhook report a
// ChangeBatch through `onChange`, synchronously, so the webhook body is a snapshot of the moment of change.
import { isEnumType, seedValues, setField } from './fields.js';
import type {
  Account,
  Catalog,
  CatalogElement,
  Company,
  Contact,
  CustomFieldDef,
  FieldEntity,
  FieldEnum,
  FieldValues,
  Lead,
  Note,
  Pipeline,
  SeedFieldType,
  StoredValue,
  Tag,
  WebhookSub,
} from './types.js';

export const WON = 142;
export const LOST = 143;

/** A lead as it was before a change, for `old_status_id` / `old_pipeline_id`. */
export interface LeadChange {
  lead: Lead;
  oldStatusId: number;
  oldPipelineId: number;
}

export interface ChangeBatch {
  add?: Lead[];
  update?: LeadChange[];
  status?: LeadChange[];
  delete?: Lead[];
}

export interface FieldSeed {
  name: string;
  type: SeedFieldType;
  code?: string;
  enums?: string[];
}

export interface ContactSeed {
  name: string;
  firstName?: string;
  lastName?: string;
  email?: string | string[];
  phone?: string;
  companyId?: number;
  customFields?: Record<number, string | number>;
}

export interface CompanySeed {
  name: string;
  customFields?: Record<number, string | number>;
}

export interface ProductSeed {
  name: string;
  price?: number;
  sku?: string;
  description?: string;
}

export interface LeadSeed {
  name: string;
  price?: number;
  pipelineId: number;
  statusId: number;
  contacts?: Array<{ id: number; isMain?: boolean }>;
  products?: Array<{ id: number; quantity: number }>;
  companyId?: number;
  customFields?: Record<number, string | number>;
  tags?: string[];
  responsibleUserId?: number;
}

/** A validated change to one lead (see lead-patch.ts). */
export interface LeadPatch {
  id: number;
  name?: string;
  price?: number;
  statusId?: number;
  pipelineId?: number;
  responsibleUserId?: number;
  fields?: Array<{ fieldId: number; values: StoredValue[] | null }>;
}

// Realistic magnitudes (Kommo IDs are 7-8 digit integers), one counter per kind; custom field and enum IDs are
// account-wide in Kommo, so they share one counter across entities.
const FIRST_ID = {
  pipeline: 7710021,
  status: 61234566,
  lead: 31700125,
  contact: 24510001,
  company: 24600001,
  field: 66339,
  enum: 139517,
  tag: 80147,
  catalog: 11201,
  element: 1500001,
  note: 91000001,
  webhook: 1,
};
type IdKind = keyof typeof FIRST_ID;

export class KommoStore {
  readonly account: Account;
  readonly leads = new Map<number, Lead>();
  readonly contacts = new Map<number, Contact>();
  readonly companies = new Map<number, Company>();
  readonly catalogs = new Map<number, Catalog>();
  readonly elements = new Map<number, CatalogElement>();
  readonly notes = new Map<number, Note>();
  readonly pipelines = new Map<number, Pipeline>();
  readonly leadFields = new Map<number, CustomFieldDef>();
  readonly contactFields = new Map<number, CustomFieldDef>();
  readonly companyFields = new Map<number, CustomFieldDef>();
  readonly catalogFields = new Map<number, CustomFieldDef>();
  readonly tags = new Map<number, Tag>();
  /** Subscriptions keyed by destination URL (one subscription per destination, as in Kommo). */
  readonly webhooks = new Map<string, WebhookSub>();
  refreshCount = 0;
  readonly productsCatalogId: number;
  onChange: (batch: ChangeBatch) => void = () => {};
  private next: Record<IdKind, number> = { ...FIRST_ID };

  constructor(a: { id: number; subdomain: string; country: string; currency: string; userId: number }) {
    this.account = {
      id: a.id,
      name: a.subdomain,
      subdomain: a.subdomain,
      country: a.country,
      currency: a.currency,
      currencySymbol: currencySymbol(a.currency),
      createdAt: this.now(),
      userId: a.userId,
    };
    this.seedPredefinedFields();
    const catalog: Catalog = { id: this.id('catalog'), name: 'Products', type: 'products', sort: 10, createdAt: this.now(), updatedAt: this.now() };
    this.catalogs.set(catalog.id, catalog);
    this.productsCatalogId = catalog.id;
    for (const [name, type, code] of [['SKU', 'text', 'SKU'], ['Price', 'price', 'PRICE'], ['Description', 'textarea', 'DESCRIPTION']] as const) {
      const id = this.createField('catalogs', { name, type: type as SeedFieldType, code });
      this.catalogFields.get(id)!.catalogId = catalog.id;
    }
  }

  now(): number {
    return Math.floor(Date.now() / 1000);
  }

  private id(kind: IdKind): number {
    return this.next[kind]++;
  }

  /** `updated_at` / `last_modified` strictly increase per lead even within one second, so two moves differ. */
  private touch(e: { updatedAt: number }): void {
    e.updatedAt = Math.max(this.now(), e.updatedAt + 1);
  }

  fieldsOf(entity: FieldEntity): Map<number, CustomFieldDef> {
    return { leads: this.leadFields, contacts: this.contactFields, companies: this.companyFields, catalogs: this.catalogFields }[entity];
  }

  // Kommo creates these in every account; contacts/companies keep email and phone in them.
  private seedPredefinedFields(): void {
    const phone = ['WORK', 'WORKDD', 'MOB', 'FAX', 'HOME', 'OTHER'];
    const email = ['WORK', 'PRIV', 'OTHER'];
    this.createField('contacts', { name: 'Position', type: 'text', code: 'POSITION' });
    this.createField('contacts', { name: 'Phone', type: 'multitext', code: 'PHONE', enums: phone });
    this.createField('contacts', { name: 'Email', type: 'multitext', code: 'EMAIL', enums: email });
    this.createField('companies', { name: 'Phone', type: 'multitext', code: 'PHONE', enums: phone });
    this.createField('companies', { name: 'Email', type: 'multitext', code: 'EMAIL', enums: email });
    this.createField('companies', { name: 'Web', type: 'url', code: 'WEB' });
    this.createField('companies', { name: 'Address', type: 'textarea', code: 'ADDRESS' });
  }

  private createField(entity: FieldEntity, f: { name: string; type: CustomFieldDef['type']; code?: string | undefined; enums?: string[] | undefined }): number {
    const defs = this.fieldsOf(entity);
    const hasEnums = isEnumType(f.type);
    if (hasEnums && !f.enums?.length) throw new Error(`Field "${f.name}" of type ${f.type} needs enums`);
    const def: CustomFieldDef = {
      id: this.id('field'),
      name: f.name,
      code: f.code ?? null,
      type: f.type,
      sort: (defs.size + 1) * 10,
      enums: hasEnums ? f.enums!.map((value, i) => ({ id: this.id('enum'), value, sort: (i + 1) * 10 })) : null,
      entity,
    };
    defs.set(def.id, def);
    return def.id;
  }

  addField(entity: 'leads' | 'contacts' | 'companies', f: FieldSeed): number {
    return this.createField(entity, f);
  }

  /** Replaces a list field's options: an option kept by name keeps its ID, a new one gets a new ID. */
  setLeadFieldOptions(fieldId: number, values: string[]): FieldEnum[] {
    const def = this.leadFields.get(fieldId);
    if (!def?.enums) throw new Error(`Lead field ${fieldId} is not a list field`);
    const old = def.enums;
    def.enums = values.map((value, i) => ({ id: old.find((e) => e.value === value)?.id ?? this.id('enum'), value, sort: (i + 1) * 10 }));
    return def.enums;
  }

  /** Adds a pipeline with the given stages plus Kommo's fixed 142 "Closed - won" and 143 "Closed - lost". */
  addPipeline(name: string, statuses: string[]): { id: number; statuses: Array<{ id: number; name: string }> } {
    const id = this.id('pipeline');
    const colors = ['#99ccff', '#fffeb2', '#ffcc66', '#ffce5a', '#d6eaff', '#e6e8ea'];
    const list = statuses.map((s, i) => ({ id: this.id('status'), name: s, sort: (i + 1) * 10, pipelineId: id, color: colors[i % colors.length]!, type: 0 as const }));
    list.push({ id: WON, name: 'Closed - won', sort: 10000, pipelineId: id, color: '#CCFF66', type: 0 });
    list.push({ id: LOST, name: 'Closed - lost', sort: 11000, pipelineId: id, color: '#D5D8DB', type: 0 });
    this.pipelines.set(id, { id, name, sort: (this.pipelines.size + 1) * 10, isMain: this.pipelines.size === 0, statuses: list });
    return { id, statuses: list.map((s) => ({ id: s.id, name: s.name })) };
  }

  hasStatus(pipelineId: number, statusId: number): boolean {
    return this.pipelines.get(pipelineId)?.statuses.some((s) => s.id === statusId) ?? false;
  }

  /** Pipeline that owns a (non-shared) status: 142/143 exist in every pipeline, so they give undefined. */
  pipelineOfStatus(statusId: number): number | undefined {
    if (statusId === WON || statusId === LOST) return undefined;
    for (const p of this.pipelines.values()) if (p.statuses.some((s) => s.id === statusId)) return p.id;
    return undefined;
  }

  tagIdFor(name: string): number {
    for (const t of this.tags.values()) if (t.name === name) return t.id;
    const t = { id: this.id('tag'), name };
    this.tags.set(t.id, t);
    return t.id;
  }

  addCompany(c: CompanySeed): number {
    const now = this.now();
    const id = this.id('company');
    const customFields = seedValues(this.companyFields, c.customFields);
    this.companies.set(id, { id, name: c.name, responsibleUserId: this.account.userId, createdAt: now, updatedAt: now, customFields, tagIds: [] });
    return id;
  }

  addContact(c: ContactSeed): number {
    if (c.companyId !== undefined && !this.companies.has(c.companyId)) throw new Error(`Unknown company ${c.companyId}`);
    const now = this.now();
    const id = this.id('contact');
    let customFields = seedValues(this.contactFields, c.customFields);
    const emails = c.email === undefined ? [] : Array.isArray(c.email) ? c.email : [c.email];
    customFields = this.setMultitext(customFields, 'EMAIL', emails);
    customFields = this.setMultitext(customFields, 'PHONE', c.phone ? [c.phone] : []);
    const [first = c.name, ...rest] = c.name.split(' ');
    this.contacts.set(id, {
      id,
      name: c.name,
      firstName: c.firstName ?? first,
      lastName: c.lastName ?? rest.join(' '),
      responsibleUserId: this.account.userId,
      createdAt: now,
      updatedAt: now,
      customFields,
      companyId: c.companyId ?? null,
      tagIds: [],
    });
    return id;
  }

  private setMultitext(list: FieldValues[], code: 'EMAIL' | 'PHONE', values: string[]): FieldValues[] {
    if (!values.length) return list;
    const def = [...this.contactFields.values()].find((f) => f.code === code)!;
    const work = def.enums![0]!;
    return setField(list, this.contactFields, def.id, values.map((value) => ({ value, enumId: work.id, enumCode: work.value })));
  }

  addProduct(p: ProductSeed): number {
    const now = this.now();
    const id = this.id('element');
    const byCode = (code: string) => [...this.catalogFields.values()].find((f) => f.code === code && f.catalogId === this.productsCatalogId)!.id;
    let customFields: FieldValues[] = [];
    if (p.sku !== undefined) customFields = setField(customFields, this.catalogFields, byCode('SKU'), [{ value: p.sku }]);
    if (p.price !== undefined) customFields = setField(customFields, this.catalogFields, byCode('PRICE'), [{ value: p.price }]);
    if (p.description !== undefined) customFields = setField(customFields, this.catalogFields, byCode('DESCRIPTION'), [{ value: p.description }]);
    this.elements.set(id, { id, catalogId: this.productsCatalogId, name: p.name, createdAt: now, updatedAt: now, customFields });
    return id;
  }

  priceFieldId(catalogId: number): number | undefined {
    return [...this.catalogFields.values()].find((f) => f.code === 'PRICE' && f.catalogId === catalogId)?.id;
  }

  addLead(l: LeadSeed): number {
    if (!this.hasStatus(l.pipelineId, l.statusId)) throw new Error(`Status ${l.statusId} is not in pipeline ${l.pipelineId}`);
    if (l.price !== undefined && !Number.isInteger(l.price)) throw new Error('Lead price must be an integer (Kommo has no decimals)');
    for (const c of l.contacts ?? []) if (!this.contacts.has(c.id)) throw new Error(`Unknown contact ${c.id}`);
    for (const p of l.products ?? []) if (!this.elements.has(p.id)) throw new Error(`Unknown product ${p.id}`);
    if (l.companyId !== undefined && !this.companies.has(l.companyId)) throw new Error(`Unknown company ${l.companyId}`);
    const now = this.now();
    const id = this.id('lead');
    const contacts = (l.contacts ?? []).map((c) => ({ id: c.id, isMain: c.isMain ?? false }));
    // Kommo always has one main contact when a lead has contacts.
    if (contacts.length && !contacts.some((c) => c.isMain)) contacts[0]!.isMain = true;
    const user = l.responsibleUserId ?? this.account.userId;
    const lead: Lead = {
      id,
      name: l.name,
      price: l.price ?? 0,
      statusId: l.statusId,
      pipelineId: l.pipelineId,
      responsibleUserId: user,
      createdBy: user,
      updatedBy: user,
      createdAt: now,
      updatedAt: now,
      closedAt: l.statusId === WON || l.statusId === LOST ? now : null,
      customFields: seedValues(this.leadFields, l.customFields),
      tagIds: (l.tags ?? []).map((t) => this.tagIdFor(t)),
      contacts,
      companyId: l.companyId ?? null,
      products: (l.products ?? []).map((p) => ({ id: p.id, quantity: p.quantity })),
      deleted: false,
    };
    this.leads.set(id, lead);
    this.onChange({ add: [lead] });
    return id;
  }

  liveLead(id: number): Lead | undefined {
    const l = this.leads.get(id);
    return l && !l.deleted ? l : undefined;
  }

  private setStatus(lead: Lead, statusId: number, pipelineId: number): void {
    const wasClosed = lead.statusId === WON || lead.statusId === LOST;
    const isClosed = statusId === WON || statusId === LOST;
    lead.statusId = statusId;
    lead.pipelineId = pipelineId;
    if (isClosed && !wasClosed) lead.closedAt = this.now();
    if (!isClosed) lead.closedAt = null;
  }

  /** A user moving leads in the UI: all-or-nothing, one status webhook request for all moved leads. */
  moveLeads(ids: number[], statusId: number, pipelineId?: number): void {
    const plan = ids.map((id) => {
      const lead = this.liveLead(id);
      if (!lead) throw new Error(`Unknown lead ${id}`);
      const target = pipelineId ?? this.pipelineOfStatus(statusId) ?? lead.pipelineId;
      if (!this.hasStatus(target, statusId)) throw new Error(`Status ${statusId} is not in pipeline ${target}`);
      return { lead, target };
    });
    const changes: LeadChange[] = [];
    for (const { lead, target } of plan) {
      if (lead.statusId === statusId && lead.pipelineId === target) continue; // nothing moved, Kommo stays quiet
      changes.push({ lead, oldStatusId: lead.statusId, oldPipelineId: lead.pipelineId });
      this.setStatus(lead, statusId, target);
      lead.updatedBy = this.account.userId;
      this.touch(lead);
    }
    if (changes.length) this.onChange({ status: changes, update: changes });
  }

  /** Applies already validated PATCH items (lead-patch.ts) and announces them like Kommo does. */
  applyLeadPatches(patches: LeadPatch[]): Lead[] {
    const updated: LeadChange[] = [];
    const moved: LeadChange[] = [];
    for (const p of patches) {
      const lead = this.liveLead(p.id)!;
      const change = { lead, oldStatusId: lead.statusId, oldPipelineId: lead.pipelineId };
      if (p.name !== undefined) lead.name = p.name;
      if (p.price !== undefined) lead.price = p.price;
      if (p.responsibleUserId !== undefined) lead.responsibleUserId = p.responsibleUserId;
      for (const f of p.fields ?? []) lead.customFields = setField(lead.customFields, this.leadFields, f.fieldId, f.values);
      const statusId = p.statusId ?? lead.statusId;
      const pipelineId = p.pipelineId ?? lead.pipelineId;
      if (statusId !== lead.statusId || pipelineId !== lead.pipelineId) {
        this.setStatus(lead, statusId, pipelineId);
        moved.push(change);
      }
      lead.updatedBy = this.account.userId;
      this.touch(lead);
      updated.push(change);
    }
    const batch: ChangeBatch = { update: updated };
    if (moved.length) batch.status = moved;
    this.onChange(batch);
    return updated.map((c) => c.lead);
  }

  deleteLead(id: number): void {
    const lead = this.liveLead(id);
    if (!lead) throw new Error(`Unknown lead ${id}`);
    lead.deleted = true;
    this.touch(lead);
    this.onChange({ delete: [lead] });
  }

  addNote(entityId: number, noteType: string, params: Record<string, unknown>): Note {
    const now = this.now();
    const note: Note = {
      id: this.id('note'),
      entityId,
      entityType: 'leads',
      noteType,
      params,
      createdBy: this.account.userId,
      responsibleUserId: this.account.userId,
      createdAt: now,
      updatedAt: now,
    };
    this.notes.set(note.id, note);
    return note;
  }

  /** Subscribing an already subscribed destination replaces its settings (Kommo keeps one hook per URL). */
  subscribe(destination: string, settings: string[]): WebhookSub {
    const now = this.now();
    const existing = this.webhooks.get(destination);
    if (existing) {
      existing.settings = [...settings];
      existing.updatedAt = now;
      existing.disabled = false;
      existing.failures = [];
      return existing;
    }
    const sub: WebhookSub = { id: this.id('webhook'), destination, settings: [...settings], sort: this.webhooks.size + 1, createdAt: now, updatedAt: now, disabled: false, failures: [] };
    this.webhooks.set(destination, sub);
    return sub;
  }

  unsubscribe(destination: string): boolean {
    return this.webhooks.delete(destination);
  }
}

function currencySymbol(currency: string): string {
  return { USD: '$', EUR: '€', RUB: '₽', GBP: '£', BRL: 'R$', MXN: '$', INR: '₹' }[currency] ?? currency;
}
