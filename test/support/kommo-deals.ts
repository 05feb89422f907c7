// A client's deal on the fake Kommo as the loop suites of one backend (xero-loop, wave-loop) make and read
// them: a contact per client (optionally with a country), a deal in the pipeline's first stage, stage moves,
// and the deal's fields and notes as the relay wrote them.
import type { FakeKommo } from '../../sandbox/kommo/server.js';

export interface KommoDeals {
  addDeal(o?: { price?: number; email?: string; country?: string; name?: string }): { dealId: number; contactId: number };
  move(dealId: number, statusId: number): void;
  field(dealId: number, fieldId: number): unknown;
  notes(dealId: number): string[];
}

export function kommoDeals(kommo: FakeKommo, pipeline: { id: number; incomingStatusId: number }, fields: { country: number }): KommoDeals {
  let clients = 0;
  const lead = (id: number) => kommo.state.leads.get(id)!;
  return {
    addDeal(d = {}) {
      clients++;
      const contactId = kommo.addContact({
        name: `Client ${clients}`,
        firstName: 'Client',
        lastName: String(clients),
        email: d.email ?? `client${clients}@example.com`,
        ...(d.country ? { customFields: { [fields.country]: d.country } } : {}),
      });
      const dealId = kommo.addLead({ name: d.name ?? `Website redesign #${clients}`, price: d.price ?? 4800, pipelineId: pipeline.id, statusId: pipeline.incomingStatusId, contacts: [{ id: contactId, isMain: true }] });
      return { dealId, contactId };
    },
    move: (dealId, statusId) => kommo.moveLeads([dealId], statusId, pipeline.id),
    field: (dealId, fieldId) => lead(dealId).customFields.find((f) => f.fieldId === fieldId)?.values[0]?.value,
    notes: (dealId) => [...kommo.state.notes.values()].filter((n) => n.entityId === dealId).map((n) => String(n.params.text)),
  };
}
