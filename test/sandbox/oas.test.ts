// The validator against the Zoho Books contract the repository carries (contract/zoho-books, derived from
// Zoho's published OpenAPI documents), no mocks: requests as Zoho reads them, the fake's answers strictly.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultContractDir, loadZohoOas, type OasValidator } from '../../sandbox/oas/validator.js';

const ORG = { organization_id: '10234695' };
const CUSTOMER_ID = '9834000000123456789';
const INVOICE_ID = '9834000000123450001';

const invoice = () => ({
  customer_id: CUSTOMER_ID,
  reference_number: 'kommo-deal-31337',
  currency_id: '9834000000000000097',
  payment_terms: 15,
  line_items: [
    {
      name: 'Website redesign',
      description: 'Kommo deal #31337',
      rate: 1250.5,
      quantity: 2,
      tax_id: '9834000000000000321',
    },
  ] as Record<string, unknown>[],
  custom_fields: [{ api_name: 'cf_kommo_deal_id', value: '31337' }] as Record<string, unknown>[],
});

const contact = () => ({
  contact_name: 'ACME GmbH',
  company_name: 'ACME GmbH',
  contact_type: 'customer',
  customer_sub_type: 'business',
  currency_id: '9834000000000000097',
  billing_address: { address: 'Hauptstr. 1', city: 'Berlin', zip: '10115', country: 'Germany' },
  contact_persons: [{ first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com', is_primary_contact: true }],
});

let oas: OasValidator;
beforeAll(async () => {
  oas = await loadZohoOas();
});

const createInvoice = (body: unknown, query: Record<string, unknown> = ORG) =>
  oas.validate({ method: 'POST', path: '/invoices', query, body });

describe('POST /invoices', () => {
  it('accepts a realistic create-invoice body', () => {
    expect(createInvoice(invoice(), { ...ORG, send: 'false' })).toEqual([]);
  });

  it('names the operation and the JSON path of a wrong type', () => {
    const body = invoice();
    body.line_items[0]!.rate = 'abc';
    expect(createInvoice(body)).toEqual(['POST /invoices (create_invoice): body/line_items/0/rate must be number']);
  });

  it('requires customer_id', () => {
    const { customer_id: _, ...body } = invoice();
    expect(createInvoice(body)).toEqual(['POST /invoices (create_invoice): body/customer_id is required']);
  });

  it('requires organization_id in the query', () => {
    expect(createInvoice(invoice(), {})).toEqual([
      'POST /invoices (create_invoice): query/organization_id is required',
    ]);
  });

  it('reads boolean query parameters from their string form and rejects other strings', () => {
    expect(createInvoice(invoice(), { ...ORG, send: 'true', ignore_auto_number_generation: 'false' })).toEqual([]);
    expect(createInvoice(invoice(), { ...ORG, send: 'yes' })).toEqual([
      'POST /invoices (create_invoice): query/send must be boolean',
    ]);
  });

  it('accepts custom fields by customfield_id, api_name or label', () => {
    const body = invoice();
    body.custom_fields = [
      { customfield_id: '46000000012845', value: 'A' },
      { api_name: 'cf_kommo_deal_id', value: '31337' },
      { label: 'Kommo deal', value: '31337' },
    ];
    expect(createInvoice(body)).toEqual([]);
  });

  it('accepts a line item with item_id only', () => {
    const body = invoice();
    body.line_items = [{ item_id: '9834000000000000555' }];
    expect(createInvoice(body)).toEqual([]);
  });

  it('rejects a line item with neither item_id nor name', () => {
    const body = invoice();
    body.line_items = [{ description: 'no item, no name', rate: 10, quantity: 1 }];
    expect(createInvoice(body)).toEqual([
      'POST /invoices (create_invoice): body/line_items/0 must satisfy one of: item_id is required | name is required',
    ]);
  });

  it('relaxes item_id on update too, and keeps line_items required', () => {
    const path = `/invoices/${INVOICE_ID}`;
    const update = (body: unknown) => oas.validate({ method: 'PUT', path, query: ORG, body });
    expect(update(invoice())).toEqual([]);
    const { line_items: _, ...withoutLines } = invoice();
    expect(update(withoutLines)).toEqual([
      'PUT /invoices/{invoice_id} (update_invoice): body/line_items is required',
    ]);
  });
});

describe('POST /contacts', () => {
  const createContact = (body: unknown) => oas.validate({ method: 'POST', path: '/contacts', query: ORG, body });

  it('accepts a realistic contact', () => {
    expect(createContact(contact())).toEqual([]);
  });

  it('requires contact_name', () => {
    const { contact_name: _, ...body } = contact();
    expect(createContact(body)).toEqual(['POST /contacts (create_contact): body/contact_name is required']);
  });
});

describe('other operations', () => {
  it('validates POST /invoices/{invoice_id}/email', () => {
    const email = (body: unknown) =>
      oas.validate({ method: 'POST', path: `/invoices/${INVOICE_ID}/email`, query: ORG, body });
    const message = { to_mail_ids: ['ada@example.com'], subject: 'Invoice INV-001', body: 'Please find attached.' };
    expect(email(message)).toEqual([]);
    expect(email({ subject: 'Invoice INV-001' })).toEqual([
      'POST /invoices/{invoice_id}/email (email_invoice): body/to_mail_ids is required',
    ]);
  });

  it('accepts a valid POST /recurringinvoices body', () => {
    const body = {
      recurrence_name: 'kommo-deal-31337',
      customer_id: CUSTOMER_ID,
      recurrence_frequency: 'weeks',
      repeat_every: 1,
      start_date: '2025-01-01',
      payment_terms: 15,
      line_items: [{ name: 'Support plan', rate: 99, quantity: 1 }],
      custom_fields: [{ api_name: 'cf_kommo_deal_id', value: '31337' }],
    };
    expect(oas.validate({ method: 'POST', path: '/recurringinvoices', query: ORG, body })).toEqual([]);
  });

  it('coerces numeric query parameters', () => {
    const list = (query: Record<string, unknown>) =>
      oas.validate({ method: 'GET', path: '/contacts', query, body: undefined });
    expect(list({ ...ORG, page: '2', per_page: '200' })).toEqual([]);
    expect(list({ ...ORG, per_page: 'many' })).toEqual([
      'GET /contacts (list_contacts): query/per_page must be integer',
    ]);
  });

  it('reports an unknown method and path', () => {
    expect(oas.validate({ method: 'POST', path: '/foo', query: ORG, body: {} })).toEqual([
      'no operation POST /foo in the Zoho Books OAS',
    ]);
    expect(oas.validate({ method: 'PATCH', path: '/invoices', query: ORG, body: {} })).toEqual([
      'no operation PATCH /invoices in the Zoho Books OAS',
    ]);
  });

  it('matches literal segments before templates', () => {
    expect(oas.operation('POST', '/invoices/email')).toEqual({
      operationId: 'email_invoices',
      pathTemplate: '/invoices/email',
    });
    expect(oas.operation('GET', `/invoices/${INVOICE_ID}`)).toEqual({
      operationId: 'get_invoice',
      pathTemplate: '/invoices/{invoice_id}',
    });
    expect(oas.operation('POST', '/contacts/contactpersons')?.operationId).toBe('create_contact_person');
    // The literal path wins even where it lacks the method: GET /invoices/email is not get_invoice.
    expect(oas.operation('GET', '/invoices/email')).toBeUndefined();
  });
});

// Each relaxation is listed in src/accounting/zoho/contract/overrides.ts with its source; nothing else is relaxed.
describe('the overrides of src/accounting/zoho/contract/overrides.ts', () => {
  it('takes customfield_id as the numeric string every Zoho ID is (the document types it int64)', () => {
    const body = invoice();
    body.custom_fields = [{ customfield_id: '46000000012845', value: 'A' }];
    expect(createInvoice(body)).toEqual([]);
  });

  it('relaxes recurrence_frequency to the units Zoho offers (the OAS lists only "weeks"), nothing else', () => {
    const body = (f: string) => ({ recurrence_name: 'r', customer_id: CUSTOMER_ID, recurrence_frequency: f });
    for (const f of ['days', 'weeks', 'months', 'years']) expect(oas.validate({ method: 'POST', path: '/recurringinvoices', query: ORG, body: body(f) })).toEqual([]);
    expect(oas.validate({ method: 'POST', path: '/recurringinvoices', query: ORG, body: body('fortnights') })).toEqual([
      'POST /recurringinvoices (create_recurring_invoice): body/recurrence_frequency must be one of days, weeks, months, years',
    ]);
  });
});

describe('responses, strictly', () => {
  const RECURRING_ID = '9834000000123470001';
  const recurring = (extra: Record<string, unknown> = {}) => ({
    code: 0,
    message: 'The recurring invoice has been created.',
    recurring_invoice: {
      recurring_invoice_id: RECURRING_ID,
      recurrence_name: 'Kommo deal 31337',
      customer_id: CUSTOMER_ID,
      currency_code: 'EUR',
      start_date: '2026-12-01',
      line_items: [{ line_item_id: '9834000000123470002', name: 'SEO', quantity: 1, item_total: 900 }],
      custom_fields: [{ api_name: 'cf_kommo_deal_id', label: 'Kommo deal', value: '31337' }],
      ...extra,
    },
  });
  const created = (body: unknown, status = 201) =>
    oas.validateResponse({ method: 'POST', path: '/recurringinvoices', status, body });

  it('accepts a recurring-invoice answer carrying only documented properties', () => {
    expect(created(recurring())).toEqual([]);
  });

  it('names an undocumented property: recurrence_id is not the profile ID in Zoho\'s contract', () => {
    expect(created(recurring({ recurrence_id: RECURRING_ID }))).toEqual([
      'POST /recurringinvoices (create_recurring_invoice): response 201 body/recurring_invoice/recurrence_id is not in the contract',
    ]);
  });

  it('finds undocumented properties at any depth, and wrong types', () => {
    const body = recurring({ line_items: [{ line_item_id: '1', name: 'SEO', quantity: 1, rate: 900 }], recurrence_name: 7 });
    expect(created(body)).toEqual([
      'POST /recurringinvoices (create_recurring_invoice): response 201 body/recurring_invoice/line_items/0/rate is not in the contract',
      'POST /recurringinvoices (create_recurring_invoice): response 201 body/recurring_invoice/recurrence_name must be string',
    ]);
  });

  it('reports a 2xx status the contract does not document; error answers are not checked', () => {
    expect(created(recurring(), 200)).toEqual([
      'POST /recurringinvoices (create_recurring_invoice): response status 200 is not in the contract (it documents 201)',
    ]);
    expect(created({ code: 1001, message: 'nope', anything: true }, 400)).toEqual([]);
  });

  it('applies the overrides to answers: numeric totals, api_name on custom fields, page_context as an object', () => {
    const invoice = { invoice_id: INVOICE_ID, status: 'sent', total: 100.5, balance: 0, custom_fields: [{ customfield_id: '46000000012845', api_name: 'cf_kommo_deal_id', value: '31337' }] };
    expect(oas.validateResponse({ method: 'GET', path: `/invoices/${INVOICE_ID}`, status: 200, body: { code: 0, message: 'success', invoice } })).toEqual([]);
    const list = { code: 0, message: 'success', invoices: [{ invoice_id: INVOICE_ID, balance: 0 }], page_context: { page: 1, per_page: 200, has_more_page: false } };
    expect(oas.validateResponse({ method: 'GET', path: '/invoices', status: 200, body: list })).toEqual([]);
  });

  it('leaves requests open: Zoho ignores a property it does not know in what it is sent', () => {
    expect(createInvoice({ ...invoice(), kommo_pipeline: 'sales' })).toEqual([]);
  });
});

describe('the documents', () => {
  it('route every operation and compile every query, JSON request body and response schema of the committed contract', () => {
    const dir = defaultContractDir();
    expect(dir).toBe(path.resolve(import.meta.dirname, '..', '..', 'contract', 'zoho-books'));
    const ops: { method: string; template: string; operationId: string; hasBody: boolean; statuses: string[] }[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const doc = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as {
        paths: Record<string, Record<string, { operationId?: string; requestBody?: { content?: object }; responses?: Record<string, unknown> }>>;
      };
      for (const [template, item] of Object.entries(doc.paths)) {
        for (const [method, op] of Object.entries(item)) {
          if (method === 'parameters') continue;
          const hasBody = 'application/json' in (op.requestBody?.content ?? {});
          ops.push({ method: method.toUpperCase(), template, operationId: op.operationId ?? '', hasBody, statuses: Object.keys(op.responses ?? {}) });
        }
      }
    }
    expect(ops.filter((op) => op.hasBody).length).toBeGreaterThan(40); // the enumeration did find the documents
    for (const { method, template, operationId, hasBody, statuses } of ops) {
      const concrete = template.replace(/\{[^}]+\}/g, '9834000000123456789');
      expect(oas.operation(method, concrete)).toEqual({ operationId, pathTemplate: template });
      // Compiles the operation's schemas on first use; throws if Ajv cannot compile them.
      const body = hasBody ? {} : undefined;
      expect(oas.validate({ method, path: concrete, query: ORG, body })).toBeInstanceOf(Array);
      for (const status of statuses) {
        expect(oas.validateResponse({ method, path: concrete, status: Number(status), body: {} })).toEqual([]);
      }
    }
  });
});
