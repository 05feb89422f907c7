// Kommo as the relay's CRM port: deals, people and write-backs in the use cases' own terms.
import type { CrmPort, Deal, DealProduct, FieldValue, Person } from '../sync/ports.js';
import type { KommoClient } from './client.js';
import { LeadBatch } from './lead-batch.js';
import type { KommoCustomFieldValue, KommoFieldWrite } from './types.js';

export class KommoCrm implements CrmPort {
  /** Deals read at the same time by different jobs share one request. */
  private readonly leads: LeadBatch;

  constructor(private readonly client: KommoClient) {
    this.leads = new LeadBatch(client);
  }

  async getDeal(id: number): Promise<Deal | undefined> {
    const lead = await this.leads.get(id);
    if (!lead) return undefined;
    const contacts = (lead._embedded?.contacts ?? []).map((c) => ({ id: c.id, isMain: c.is_main === true }));
    return {
      id: lead.id,
      name: lead.name,
      price: lead.price,
      pipelineId: lead.pipeline_id,
      statusId: lead.status_id,
      fields: fieldMap(lead.custom_fields_values),
      contacts,
      companyId: lead._embedded?.companies?.[0]?.id,
      products: (lead._embedded?.catalog_elements ?? []).map((e) => ({
        id: e.id,
        quantity: Number(e.metadata?.quantity ?? 1),
        catalogId: e.metadata?.catalog_id,
        ...(e.metadata?.price_id ? { priceId: e.metadata.price_id } : {}),
      })),
    };
  }

  async getPerson(id: number): Promise<Person | undefined> {
    const contact = await this.client.getContact(id);
    if (!contact) return undefined;
    const byCode = (code: string) =>
      (contact.custom_fields_values ?? [])
        .filter((f) => f.field_code === code)
        .flatMap((f) => f.values.map((v) => String(v.value ?? '').trim()))
        .filter(Boolean);
    const companyId = contact._embedded?.companies?.[0]?.id;
    const company = companyId ? await this.client.getCompany(companyId) : undefined;
    return {
      id: contact.id,
      name: contact.name,
      firstName: contact.first_name || undefined,
      lastName: contact.last_name || undefined,
      emails: byCode('EMAIL'),
      phones: byCode('PHONE'),
      companyName: company?.name,
      fields: fieldMap(contact.custom_fields_values),
      ...(company ? { companyFields: fieldMap(company.custom_fields_values) } : {}),
    };
  }

  /** One call per catalog the deal's products come from (in practice one: the products catalog). */
  async dealProducts(deal: Deal): Promise<DealProduct[]> {
    const byCatalog = new Map<number, Deal['products']>();
    for (const p of deal.products) {
      if (p.catalogId === undefined) continue;
      byCatalog.set(p.catalogId, [...(byCatalog.get(p.catalogId) ?? []), p]);
    }
    const out: DealProduct[] = [];
    for (const [catalogId, links] of byCatalog) {
      const elements = new Map((await this.client.catalogElements(catalogId, links.map((l) => l.id))).map((e) => [e.id, e]));
      for (const link of links) {
        const element = elements.get(link.id);
        if (!element) continue; // deleted from the catalog since it was linked
        out.push({ id: element.id, name: element.name, quantity: link.quantity, fields: fieldMap(element.custom_fields_values), ...(link.priceId ? { priceFieldId: link.priceId } : {}) });
      }
    }
    return out;
  }

  async writeDealFields(dealId: number, values: Array<{ fieldId: number; value: FieldValue }>): Promise<void> {
    await this.client.updateLead(dealId, { custom_fields_values: fieldWrites(values) });
  }

  async moveDeal(dealId: number, to: { pipelineId: number; statusId: number }, values: Array<{ fieldId: number; value: FieldValue }>): Promise<void> {
    await this.client.updateLead(dealId, {
      status_id: to.statusId,
      pipeline_id: to.pipelineId,
      ...(values.length ? { custom_fields_values: fieldWrites(values) } : {}),
    });
  }

  async addDealNote(dealId: number, text: string): Promise<void> {
    await this.client.addLeadNote(dealId, text);
  }

  async dealNoteTexts(dealId: number): Promise<string[]> {
    const notes = await this.client.leadNotes(dealId);
    return notes.map((n) => String((n.params as { text?: unknown } | undefined)?.text ?? ''));
  }

  async dealsInStages(stages: Array<{ pipelineId: number; statusId: number }>) {
    const leads = await this.client.listLeadsInStages(stages);
    return leads.map((l) => ({ id: l.id, pipelineId: l.pipeline_id, statusId: l.status_id, updatedAt: l.updated_at ?? 0 }));
  }
}

function fieldMap(values: KommoCustomFieldValue[] | null): Map<number, string[]> {
  const map = new Map<number, string[]>();
  for (const f of values ?? []) {
    map.set(
      f.field_id,
      f.values.map((v) => (v.value === null || v.value === undefined ? '' : String(v.value))),
    );
  }
  return map;
}

function fieldWrites(values: Array<{ fieldId: number; value: FieldValue }>): KommoFieldWrite[] {
  return values.map((v) => ({ field_id: v.fieldId, values: [typeof v.value === 'object' ? { enum_id: v.value.enumId } : { value: v.value }] }));
}
