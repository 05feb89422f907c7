// /Contacts: look-ups by where (EmailAddress, Name, ContactNumber…), searchTerm (case-insensitive substring
// over names, number and email), ID or ContactNumber; PUT creates, POST creates or updates. A Name must
// be unique among active contacts (the OAS's own 400 example gives the message).
import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { tenantOf, type XeroContext } from './context.js';
import { ElementInvalid, notFound } from './errors.js';
import { csv, modifiedSince, orderBy, paginate, runBatch, summarizeErrors, validationErrors } from './listing.js';
import { contactJson, envelope } from './render.js';
import type { Contact, Tenant } from './state.js';
import { GUID, ZERO_GUID } from './state.js';
import { matchesWhere, parseWhere } from './where.js';

type Json = Record<string, unknown>;
const ADDRESS_KEYS = ['AddressType', 'AddressLine1', 'AddressLine2', 'AddressLine3', 'AddressLine4', 'City', 'Region', 'PostalCode', 'Country', 'AttentionTo'];
const PHONE_KEYS = ['PhoneType', 'PhoneNumber', 'PhoneAreaCode', 'PhoneCountryCode'];
const pick = (o: unknown, keys: string[]): Json =>
  Object.fromEntries(keys.filter((k) => typeof (o as Json)?.[k] === 'string').map((k) => [k, (o as Json)[k]]));
const list = (v: unknown, keys: string[]) => (Array.isArray(v) ? v.slice(0, 10).map((x) => pick(x, keys)) : undefined);
const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

function contactsOf(ctx: XeroContext, tenant: Tenant): Contact[] {
  return [...ctx.state.contacts.values()].filter((c) => c.tenantId === tenant.tenantId);
}

function nameTaken(ctx: XeroContext, tenant: Tenant, name: string, except?: string): boolean {
  const folded = name.trim().toLowerCase();
  return contactsOf(ctx, tenant).some((c) => c.status === 'ACTIVE' && c.contactId !== except && c.name.trim().toLowerCase() === folded);
}

function check(ctx: XeroContext, tenant: Tenant, input: Json, existing?: Contact): string[] {
  const messages: string[] = [];
  const name = text(input.Name) ?? existing?.name;
  if (!name || name.trim() === '') messages.push('The contact name must be specified.');
  else if (input.Name !== undefined && nameTaken(ctx, tenant, name, existing?.contactId)) {
    messages.push(`The contact name ${name} is already assigned to another contact. The contact name must be unique across all active contacts.`);
  }
  const email = text(input.EmailAddress);
  if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) messages.push('Email address must be valid.');
  if ((text(input.ContactNumber)?.length ?? 0) > 50) messages.push('Contact Number must not be more than 50 characters long.');
  return messages;
}

function apply(c: Contact, input: Json, now: number): Contact {
  for (const [key, field] of [['Name', 'name'], ['EmailAddress', 'email'], ['FirstName', 'firstName'], ['LastName', 'lastName'], ['ContactNumber', 'contactNumber'], ['TaxNumber', 'taxNumber'], ['DefaultCurrency', 'defaultCurrency']] as const) {
    const v = text(input[key]);
    if (v !== undefined) c[field] = v;
  }
  c.addresses = list(input.Addresses, ADDRESS_KEYS) ?? c.addresses;
  c.phones = list(input.Phones, PHONE_KEYS) ?? c.phones;
  if (input.ContactStatus === 'ARCHIVED' || input.ContactStatus === 'ACTIVE') c.status = input.ContactStatus;
  c.updatedMs = now;
  return c;
}

export function planCreateContact(ctx: XeroContext, tenant: Tenant, input: Json): () => Contact {
  const messages = check(ctx, tenant, input);
  if (messages.length) throw new ElementInvalid(messages);
  return () => {
    const contact = apply({ tenantId: tenant.tenantId, contactId: randomUUID(), name: '', addresses: [], phones: [], status: 'ACTIVE', updatedMs: 0 }, input, ctx.clock.now());
    ctx.state.contacts.set(contact.contactId, contact);
    return contact;
  };
}

function planUpdateContact(ctx: XeroContext, tenant: Tenant, contact: Contact, input: Json): () => Contact {
  const messages = check(ctx, tenant, input, contact);
  if (messages.length) throw new ElementInvalid(messages);
  return () => apply(contact, input, ctx.clock.now());
}

function findContact(ctx: XeroContext, tenant: Tenant, idOrNumber: string): Contact | undefined {
  const all = contactsOf(ctx, tenant);
  return GUID.test(idOrNumber) ? all.find((c) => c.contactId === idOrNumber.toLowerCase()) : all.find((c) => c.contactNumber === idOrNumber);
}

export function contactRoutes(ctx: XeroContext): express.Router {
  const r = express.Router();
  const q = (req: Request) => req.query as Record<string, unknown>;

  r.get('/Contacts', (req, res) => {
    const tenant = tenantOf(res.locals);
    const query = q(req);
    const where = parseWhere(text(query.where));
    const ids = csv(query.IDs)?.map((s) => s.toLowerCase());
    const term = text(query.searchTerm)?.toLowerCase();
    const since = modifiedSince(req);
    const found = contactsOf(ctx, tenant).filter((c) => {
      if (c.status === 'ARCHIVED' && query.includeArchived !== 'true') return false;
      if (ids && !ids.includes(c.contactId)) return false;
      if (since !== undefined && c.updatedMs <= since) return false;
      if (term && ![c.name, c.firstName, c.lastName, c.contactNumber, c.email].some((v) => v?.toLowerCase().includes(term))) return false;
      return matchesWhere(where, contactJson(c), ctx.caseSensitiveWhere);
    });
    const page = paginate(orderBy(found.map(contactJson), query.order), query);
    res.json(envelope('Contacts', page.items, page.pagination ? { pagination: page.pagination } : {}));
  });

  r.get('/Contacts/:id', (req, res) => {
    const contact = findContact(ctx, tenantOf(res.locals), String(req.params.id));
    if (!contact) throw notFound();
    res.json(envelope('Contacts', [contactJson(contact)]));
  });

  const batch = (req: Request, res: Response, plan: (tenant: Tenant, input: Json) => () => Contact) => {
    const tenant = tenantOf(res.locals);
    const items = runBatch<Contact>({
      elements: (req.body as Json | undefined)?.Contacts,
      what: 'contact',
      summarize: summarizeErrors(q(req)),
      plan: (input) => plan(tenant, input),
      render: contactJson,
      errorElement: (input) => ({ ContactID: typeof input.ContactID === 'string' && GUID.test(input.ContactID) ? input.ContactID : ZERO_GUID }),
      failedElement: (input, messages) => ({
        ContactID: ZERO_GUID,
        ...(text(input.Name) !== undefined ? { Name: input.Name } : {}),
        HasValidationErrors: true,
        StatusAttributeString: 'ERROR',
        ValidationErrors: validationErrors(messages),
      }),
    });
    res.json(envelope('Contacts', items));
  };

  r.put('/Contacts', (req, res) => batch(req, res, (tenant, input) => planCreateContact(ctx, tenant, input)));
  r.post('/Contacts', (req, res) =>
    batch(req, res, (tenant, input) => {
      const existing = typeof input.ContactID === 'string' ? findContact(ctx, tenant, input.ContactID) : undefined;
      if (input.ContactID !== undefined && !existing) throw new ElementInvalid(['The contact could not be found.']);
      return existing ? planUpdateContact(ctx, tenant, existing, input) : planCreateContact(ctx, tenant, input);
    }),
  );
  r.post('/Contacts/:id', (req, res) =>
    batch(req, res, (tenant, input) => {
      const existing = findContact(ctx, tenant, String(req.params.id));
      if (!existing) throw notFound();
      return planUpdateContact(ctx, tenant, existing, input);
    }),
  );
  return r;
}
