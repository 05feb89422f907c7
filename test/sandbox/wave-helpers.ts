// Shared by the fake-Wave tests: a listening fake, and a small GraphQL-over-HTTP client that sends what a
// Wave client sends (POST JSON {query, variables} to /graphql/public with a Bearer token).
import { afterEach, expect } from 'vitest';
import { createFakeWave, type FakeWave, type FakeWaveOptions } from '../../sandbox/wave/server.js';

export interface Answer {
  status: number;
  headers: Headers;
  json: any;
}

const fakes: FakeWave[] = [];

/**
 * Registers the after-each check: every document the tests sent was on contract (parsed, validated, no
 * deprecated field). A test that breaks it on purpose asserts its violations and clears them.
 */
export function closeWaveAfterEach(): void {
  afterEach(async () => {
    const open = fakes.splice(0);
    await Promise.all(open.map((f) => f.close()));
    for (const f of open) expect(f.violations).toEqual([]);
  });
}

export async function startWave(opts: FakeWaveOptions = {}) {
  const fake = createFakeWave(opts);
  fakes.push(fake);
  const origin = await fake.listen();
  return { fake, origin, gql: client(origin, fake.fullAccessToken) };
}

/** `gql(query, variables, token?)`: the token defaults to the fake's Full Access Token; `null` sends none. */
export function client(origin: string, defaultToken: string) {
  return async (query: string, variables: Record<string, unknown> = {}, token: string | null = defaultToken): Promise<Answer> => {
    const res = await fetch(`${origin}/graphql/public`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };
}

export type Gql = ReturnType<typeof client>;

export const codes = (a: Answer): string[] => ((a.json?.errors ?? []) as Array<{ extensions?: { code?: string } }>).map((e) => e.extensions?.code ?? '');

export const CUSTOMER_CREATE = `
mutation CustomerCreate($input: CustomerCreateInput!) {
  customerCreate(input: $input) { didSucceed inputErrors { path message code } customer { id name email currency { code } } }
}`;

export const PRODUCT_CREATE = `
mutation ProductCreate($input: ProductCreateInput!) {
  productCreate(input: $input) { didSucceed inputErrors { path message code } product { id name unitPrice isSold incomeAccount { id name } defaultSalesTaxes { id name } } }
}`;

export const INVOICE_FIELDS = `id invoiceNumber status viewUrl pdfUrl invoiceDate dueDate modifiedAt createdAt lastSentAt lastSentVia memo title poNumber
  subtotal { value minorUnitValue currency { code } } taxTotal { value } total { value minorUnitValue currency { code } }
  amountDue { value } amountPaid { value } currency { code } exchangeRate customer { id name }
  items { description quantity unitPrice product { id } subtotal { value } total { value } taxes { amount { value } salesTax { id name } } }
  payments { id amount paymentDate paymentMethod } source { ... on RecurringInvoice { id } }`;

export const INVOICE_CREATE = `
mutation InvoiceCreate($input: InvoiceCreateInput!) {
  invoiceCreate(input: $input) { didSucceed inputErrors { path message code } invoice { ${INVOICE_FIELDS} } }
}`;

export const INVOICE_APPROVE = `
mutation InvoiceApprove($input: InvoiceApproveInput!) {
  invoiceApprove(input: $input) { didSucceed inputErrors { path message code } invoice { id status modifiedAt } }
}`;

export const INVOICE_SEND = `
mutation InvoiceSend($input: InvoiceSendInput!) {
  invoiceSend(input: $input) { didSucceed inputErrors { path message code } }
}`;

export const PAYMENT_CREATE = `
mutation Pay($input: InvoicePaymentCreateManualInput!) {
  invoicePaymentCreateManual(input: $input) { didSucceed inputErrors { path message code } invoicePayment { id amount paymentDate paymentMethod invoice { id status amountDue { value } amountPaid { value } } } }
}`;

export const INVOICE = `
query Invoice($businessId: ID!, $id: ID!) {
  business(id: $businessId) { invoice(id: $id) { ${INVOICE_FIELDS} } }
}`;

export const INVOICES = `
query Invoices($businessId: ID!, $page: Int!, $pageSize: Int!, $invoiceNumber: String, $status: InvoiceStatus, $modifiedAtAfter: DateTime, $sort: [InvoiceSort!]!) {
  business(id: $businessId) {
    invoices(page: $page, pageSize: $pageSize, invoiceNumber: $invoiceNumber, status: $status, modifiedAtAfter: $modifiedAtAfter, sort: $sort) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { id invoiceNumber status modifiedAt amountDue { value } } }
    }
  }
}`;

/** A customer, a product on "Sales" with VAT 20% by default, in the fake's first business. */
export async function seed(fake: FakeWave, gql: Gql, businessId = fake.businessId) {
  const customer = await gql(CUSTOMER_CREATE, { input: { businessId, name: 'Acme Ltd', email: 'Billing@Acme.example' } });
  expect(customer.json.data.customerCreate.didSucceed).toBe(true);
  const product = await gql(PRODUCT_CREATE, {
    input: { businessId, name: 'Consulting', unitPrice: '150.00', incomeAccountId: fake.accountId('Sales', businessId), defaultSalesTaxIds: [fake.salesTaxId('VAT 20%', businessId)] },
  });
  expect(product.json.data.productCreate.didSucceed).toBe(true);
  return { customerId: customer.json.data.customerCreate.customer.id as string, productId: product.json.data.productCreate.product.id as string };
}

export async function newInvoice(fake: FakeWave, gql: Gql, extra: Record<string, unknown> = {}, ids?: { customerId: string; productId: string }) {
  const { customerId, productId } = ids ?? (await seed(fake, gql));
  const a = await gql(INVOICE_CREATE, { input: { businessId: fake.businessId, customerId, items: [{ productId, quantity: '2', unitPrice: '150.00' }], ...extra } });
  expect(a.json.data.invoiceCreate.inputErrors).toEqual([]);
  return { invoice: a.json.data.invoiceCreate.invoice, customerId, productId };
}
