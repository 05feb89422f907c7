// Pure rules: deal + customer -> invoice draft, and Kommo person -> customer. No I/O here.
import type { ResolvedMapping } from '../config/resolve-mapping.js';
import type { CustomerInput, Deal, InvoiceDraft, Person } from './ports.js';

export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
export function isEmail(value: string): boolean {
  return EMAIL.test(value);
}

export function referenceFor(template: string, dealId: number, generation: number): string {
  const base = template.replaceAll('{deal_id}', String(dealId));
  return generation > 1 ? `${base}-${generation}` : base;
}

/** The main contact, else the first one. */
export function billingContact(deal: Deal): number | undefined {
  return (deal.contacts.find((c) => c.isMain) ?? deal.contacts[0])?.id;
}

export function customerFromPerson(person: Person, email: string): CustomerInput {
  const name = person.companyName?.trim() || person.name.trim() || email;
  return {
    name,
    companyName: person.companyName?.trim() || undefined,
    email,
    firstName: person.firstName?.trim() || undefined,
    lastName: person.lastName?.trim() || (person.firstName ? undefined : person.name.trim() || undefined),
    phone: person.phones[0],
  };
}

export function buildInvoiceDraft(deal: Deal, customerId: string, reference: string, mapping: Pick<ResolvedMapping, 'zoho'>): InvoiceDraft {
  const lines = [{ name: deal.name.trim() || `Deal ${deal.id}`, rate: deal.price ?? 0, quantity: 1 }];
  return {
    customerId,
    reference,
    lines,
    customFields: mapping.zoho.dealIdField ? [{ apiName: mapping.zoho.dealIdField, value: String(deal.id) }] : [],
  };
}
