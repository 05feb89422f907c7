// Contacts (customers): create, update, search and their JSON. The `email` search matches only the
// PRIMARY contact person, as Zoho does, which is why a relay must not assume "no hit = no customer".
import { longId } from '../common.js';
import { assertUniqueValues, customFieldsJson, resolveCustomFields } from './custom-fields.js';
import { ZohoCode, ZohoError, invalidValue, notFound } from './errors.js';
import { bodyObject, optInt, optObject, optString, reqString, type Body } from './fields.js';
import { matchesText, paginate, sortRows } from './listing.js';
import { baseCurrency, currencyById } from './settings.js';
import { inOrg, newId, type Contact, type ContactPerson, type Organization, type ZohoState } from './state.js';
import { zohoTimestamp } from './time.js';

export interface OrgContext {
  state: ZohoState;
  org: Organization;
}

/** Edition-only fields (UK VAT, IN GST, GCC tax, US/CA/AU/IN taxability) stored and echoed as sent. */
const EDITION_FIELDS = [
  'vat_treatment', 'vat_reg_no', 'country_code', 'gst_treatment', 'gst_no', 'place_of_contact',
  'tax_treatment', 'tax_reg_no', 'is_taxable', 'tax_exemption_id', 'website', 'language_code',
] as const;

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export function termsLabel(days: number): string {
  return days === 0 ? 'Due on Receipt' : `Net ${days}`;
}

export function getContact({ state, org }: OrgContext, contactId: string): Contact {
  const c = state.contacts.get(contactId);
  if (!c || c.organizationId !== org.organizationId) throw notFound('Contact');
  return c;
}

export function primaryPerson(c: Contact): ContactPerson | undefined {
  return c.persons.find((p) => p.isPrimary);
}

export function hasTransactions(state: ZohoState, c: Contact): boolean {
  return [...state.invoices.values(), ...state.recurring.values()].some((r) => r.customerId === c.contactId);
}

function assertNameFree({ state, org }: OrgContext, name: string, selfId?: string) {
  const key = name.trim().toLowerCase();
  const clash = inOrg(state.contacts, org.organizationId).find((c) => c.contactId !== selfId && c.name.trim().toLowerCase() === key);
  if (clash) throw new ZohoError(400, ZohoCode.contactNameExists, 'The contact name already exists');
}

export function createContact(ctx: OrgContext, rawBody: unknown, now = Date.now()): Contact {
  const b = bodyObject(rawBody);
  const name = reqString(b, 'contact_name', 200);
  assertNameFree(ctx, name);
  const currency = b.currency_id !== undefined ? currencyById(ctx.state, ctx.org.organizationId, b.currency_id) : baseCurrency(ctx.state, ctx.org);
  const paymentTerms = optInt(b, 'payment_terms', 0, 1000) ?? 0;
  const customFields = resolveCustomFields(ctx.state, ctx.org.organizationId, 'contact', b.custom_fields);
  assertUniqueValues(ctx.state, customFields, contactsAsRecords(ctx));
  const contact: Contact = {
    organizationId: ctx.org.organizationId,
    contactId: newId(ctx.state),
    name,
    companyName: optString(b, 'company_name') ?? '',
    contactType: contactType(b),
    customerSubType: customerSubType(b),
    currencyId: currency.currencyId,
    paymentTerms,
    paymentTermsLabel: optString(b, 'payment_terms_label') ?? termsLabel(paymentTerms),
    billingAddress: optObject(b, 'billing_address') ?? {},
    shippingAddress: optObject(b, 'shipping_address') ?? {},
    persons: parsePersons(b.contact_persons, []),
    customFields,
    notes: optString(b, 'notes') ?? '',
    extra: editionFields(b, {}),
    createdMs: now,
    lastModifiedMs: now,
  };
  ctx.state.contacts.set(contact.contactId, contact);
  return contact;
}

export function updateContact(ctx: OrgContext, contact: Contact, rawBody: unknown, now = Date.now()): Contact {
  const b = bodyObject(rawBody);
  if (b.contact_name !== undefined) {
    const name = reqString(b, 'contact_name', 200);
    assertNameFree(ctx, name, contact.contactId);
    contact.name = name;
  }
  if (b.currency_id !== undefined) {
    const currency = currencyById(ctx.state, ctx.org.organizationId, b.currency_id);
    if (currency.currencyId !== contact.currencyId && hasTransactions(ctx.state, contact))
      throw new ZohoError(400, ZohoCode.contactCurrencyLocked, 'The currency of a contact with transactions cannot be changed.');
    contact.currencyId = currency.currencyId;
  }
  const customFields = resolveCustomFields(ctx.state, ctx.org.organizationId, 'contact', b.custom_fields, contact.customFields);
  assertUniqueValues(ctx.state, customFields, contactsAsRecords(ctx), contact.contactId);
  contact.customFields = customFields;
  if (b.company_name !== undefined) contact.companyName = optString(b, 'company_name') ?? '';
  if (b.contact_type !== undefined) contact.contactType = contactType(b);
  if (b.customer_sub_type !== undefined) contact.customerSubType = customerSubType(b);
  if (b.payment_terms !== undefined) {
    contact.paymentTerms = optInt(b, 'payment_terms', 0, 1000) ?? 0;
    contact.paymentTermsLabel = termsLabel(contact.paymentTerms);
  }
  if (b.payment_terms_label !== undefined) contact.paymentTermsLabel = optString(b, 'payment_terms_label') ?? '';
  if (b.billing_address !== undefined) contact.billingAddress = optObject(b, 'billing_address') ?? {};
  if (b.shipping_address !== undefined) contact.shippingAddress = optObject(b, 'shipping_address') ?? {};
  if (b.contact_persons !== undefined) contact.persons = parsePersons(b.contact_persons, contact.persons);
  if (b.notes !== undefined) contact.notes = optString(b, 'notes') ?? '';
  contact.extra = editionFields(b, contact.extra);
  contact.lastModifiedMs = now;
  return contact;
}

function contactsAsRecords({ state, org }: OrgContext) {
  return inOrg(state.contacts, org.organizationId).map((c) => ({ id: c.contactId, customFields: c.customFields }));
}

function contactType(b: Body): 'customer' | 'vendor' {
  const v = optString(b, 'contact_type') ?? 'customer';
  if (v !== 'customer' && v !== 'vendor') throw invalidValue('Invalid value passed for contact_type');
  return v;
}

function customerSubType(b: Body): 'business' | 'individual' {
  const v = optString(b, 'customer_sub_type') ?? 'business';
  if (v !== 'business' && v !== 'individual') throw invalidValue('Invalid value passed for customer_sub_type');
  return v;
}

function editionFields(b: Body, current: Record<string, unknown>): Record<string, unknown> {
  const extra = { ...current };
  for (const f of EDITION_FIELDS) if (b[f] !== undefined) extra[f] = b[f];
  return extra;
}

/** The first person flagged primary is primary; with none flagged, the first one (as Zoho does). */
function parsePersons(input: unknown, previous: ContactPerson[]): ContactPerson[] {
  if (input === undefined || input === null) return [];
  if (!Array.isArray(input)) throw invalidValue('Invalid value passed for contact_persons');
  const persons = input.map((raw, i): ContactPerson & { wantsPrimary: boolean } => {
    if (typeof raw !== 'object' || raw === null) throw invalidValue(`Invalid value passed for contact_persons[${i}]`);
    const p = raw as Body;
    const email = optString(p, 'email', 100) ?? '';
    if (email && !EMAIL.test(email)) throw invalidValue(`Invalid value passed for contact_persons[${i}].email`);
    const id = optString(p, 'contact_person_id');
    return {
      contactPersonId: id && previous.some((q) => q.contactPersonId === id) ? id : longId(),
      firstName: optString(p, 'first_name', 100) ?? '',
      lastName: optString(p, 'last_name', 100) ?? '',
      email,
      phone: optString(p, 'phone', 50) ?? '',
      isPrimary: false,
      wantsPrimary: p.is_primary_contact === true || p.is_primary_contact === 'true',
    };
  });
  const primaryIndex = Math.max(0, persons.findIndex((p) => p.wantsPrimary));
  return persons.map(({ wantsPrimary: _, ...p }, i) => ({ ...p, isPrimary: i === primaryIndex }));
}

export function listContacts(ctx: OrgContext, query: Record<string, unknown>) {
  const matching = inOrg(ctx.state.contacts, ctx.org.organizationId).filter((c) => {
    const primary = primaryPerson(c);
    if (!matchesText(c.name, query, 'contact_name')) return false;
    if (!matchesText(c.companyName, query, 'company_name')) return false;
    if (!matchesText(primary?.email, query, 'email')) return false;
    if (!matchesText(primary?.firstName, query, 'first_name')) return false;
    if (!matchesText(primary?.lastName, query, 'last_name')) return false;
    if (query.contact_type !== undefined && c.contactType !== query.contact_type) return false;
    const text = typeof query.search_text === 'string' ? query.search_text.toLowerCase() : undefined;
    if (text && ![c.name, c.companyName, c.notes].some((v) => v.toLowerCase().includes(text))) return false;
    return true;
  });
  const sorted = sortRows(
    matching,
    query,
    {
      contact_name: (c) => c.name.toLowerCase(),
      created_time: (c) => c.createdMs,
      last_modified_time: (c) => c.lastModifiedMs,
      email: (c) => primaryPerson(c)?.email.toLowerCase() ?? '',
    },
    { column: 'contact_name', order: 'A' },
  );
  const { rows, page_context } = paginate(sorted.rows, query);
  return {
    contacts: rows.map((c) => contactListJson(ctx.state, c)),
    page_context: { ...page_context, sort_column: sorted.sort_column, sort_order: sorted.sort_order },
  };
}

function personJson(p: ContactPerson) {
  return {
    contact_person_id: p.contactPersonId,
    first_name: p.firstName,
    last_name: p.lastName,
    email: p.email,
    phone: p.phone,
    is_primary_contact: p.isPrimary,
  };
}

function contactCore(state: ZohoState, c: Contact) {
  const currency = state.currencies.get(c.currencyId);
  return {
    contact_id: c.contactId,
    contact_name: c.name,
    company_name: c.companyName,
    contact_type: c.contactType,
    status: 'active',
    payment_terms: c.paymentTerms,
    payment_terms_label: c.paymentTermsLabel,
    currency_id: c.currencyId,
    currency_code: currency?.code ?? '',
  };
}

export function contactListJson(state: ZohoState, c: Contact) {
  const primary = primaryPerson(c);
  return {
    ...contactCore(state, c),
    first_name: primary?.firstName ?? '',
    last_name: primary?.lastName ?? '',
    email: primary?.email ?? '',
    phone: primary?.phone ?? '',
    created_time: zohoTimestamp(c.createdMs),
    last_modified_time: zohoTimestamp(c.lastModifiedMs),
  };
}

export function contactJson(state: ZohoState, c: Contact) {
  const primary = primaryPerson(c);
  return {
    ...contactCore(state, c),
    customer_sub_type: c.customerSubType,
    ...c.extra,
    has_transaction: hasTransactions(state, c),
    primary_contact_id: primary?.contactPersonId ?? '',
    billing_address: c.billingAddress,
    shipping_address: c.shippingAddress,
    contact_persons: c.persons.map(personJson),
    custom_fields: customFieldsJson(state, c.customFields),
    notes: c.notes,
    created_time: zohoTimestamp(c.createdMs),
    last_modified_time: zohoTimestamp(c.lastModifiedMs),
  };
}
