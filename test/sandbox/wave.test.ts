// The fake Wave over real HTTP: it serves exactly contract/wave/schema.graphql; businesses, accounts, sales
// taxes; customers and products with Wave's refusals; invoices (create, numbers, totals and taxes, approve,
// send, payments, statuses, delete); list filters and offset pages; errors of each kind as the reference
// describes them (UNAUTHENTICATED, NOT_FOUND, BAD_USER_INPUT, GRAPHQL_VALIDATION_FAILED, didSucceed false);
// and the documents off contract recorded in `violations`.
import { readFileSync } from 'node:fs';
import { buildClientSchema, buildSchema, getIntrospectionQuery, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { WAVE_SCHEMA_FILE } from '../../sandbox/wave/schema.js';
import {
  CUSTOMER_CREATE,
  INVOICE,
  INVOICE_APPROVE,
  INVOICE_CREATE,
  INVOICE_SEND,
  INVOICES,
  PAYMENT_CREATE,
  PRODUCT_CREATE,
  closeWaveAfterEach,
  codes,
  newInvoice,
  seed,
  startWave,
} from './wave-helpers.js';

closeWaveAfterEach();

const CUSTOMERS = `
query Customers($businessId: ID!, $email: String, $page: Int!, $pageSize: Int!, $modifiedAtAfter: DateTime, $sort: [CustomerSort!]!) {
  business(id: $businessId) {
    customers(email: $email, page: $page, pageSize: $pageSize, modifiedAtAfter: $modifiedAtAfter, sort: $sort) {
      pageInfo { currentPage totalPages totalCount }
      edges { node { id name email modifiedAt } }
    }
  }
}`;

describe('the schema', () => {
  it('is exactly contract/wave/schema.graphql, and answers introspection without a token', async () => {
    const { gql } = await startWave();
    const a = await gql(getIntrospectionQuery({ inputValueDeprecation: true }), {}, null);
    expect(a.status).toBe(200);
    expect(a.json.errors).toBeUndefined();
    const served = printSchema(buildClientSchema(a.json.data));
    expect(served).toBe(printSchema(buildSchema(readFileSync(WAVE_SCHEMA_FILE(), 'utf8'))));
    expect(served).toContain('didSucceed: Boolean!');
  });
});

describe('businesses, accounts and sales taxes', () => {
  it('lists the businesses (offset pages) and reads one by id or by default', async () => {
    const { fake, gql } = await startWave({ businesses: [{}, { name: 'Second Co', currency: 'CAD', emailSendEnabled: false, isClassicInvoicing: true }] });
    const list = await gql(`query { businesses(page: 1, pageSize: 1) { pageInfo { currentPage totalPages totalCount } edges { node { id name currency { code } emailSendEnabled isClassicInvoicing } } } }`);
    expect(list.json.data.businesses.pageInfo).toEqual({ currentPage: 1, totalPages: 2, totalCount: 2 });
    expect(list.json.data.businesses.edges[0].node).toEqual({ id: fake.businessId, name: 'Demo Agency', currency: { code: 'USD' }, emailSendEnabled: true, isClassicInvoicing: false });
    const second = await gql(`query B($id: ID!) { business(id: $id) { name currency { code exponent } emailSendEnabled isClassicInvoicing } }`, { id: fake.businessIds[1] });
    expect(second.json.data.business).toEqual({ name: 'Second Co', currency: { code: 'CAD', exponent: 2 }, emailSendEnabled: false, isClassicInvoicing: true });
    const byDefault = await gql(`query { business { id } }`);
    expect(byDefault.json.data.business.id).toBe(fake.businessId);
    // Opaque base64 IDs, as Wave's: Business:<uuid>.
    expect(Buffer.from(fake.businessId, 'base64').toString()).toMatch(/^Business:[0-9a-f-]{36}$/);
  });

  it('filters the chart of accounts by type and subtype, and lists sales taxes with their rates', async () => {
    const { fake, gql } = await startWave();
    const a = await gql(
      `query A($b: ID!) { business(id: $b) {
        income: accounts(types: [INCOME], page: 1, pageSize: 50) { pageInfo { totalCount } edges { node { name type { value } subtype { value } } } }
        bank: accounts(subtypes: [CASH_AND_BANK], page: 1, pageSize: 50) { edges { node { id name } } }
        salesTaxes(page: 1, pageSize: 20, isArchived: false) { edges { node { id name abbreviation rate rates { effective rate } isCompound } } }
      } }`,
      { b: fake.businessId },
    );
    const biz = a.json.data.business;
    expect(biz.income.edges.map((e: any) => e.node.name)).toEqual(['Sales', 'Discounts', 'Uncategorized Income']);
    expect(biz.income.edges[0].node).toEqual({ name: 'Sales', type: { value: 'INCOME' }, subtype: { value: 'INCOME' } });
    expect(biz.bank.edges).toEqual([{ node: { id: fake.accountId('Cash on Hand'), name: 'Cash on Hand' } }]);
    expect(biz.salesTaxes.edges.map((e: any) => [e.node.name, e.node.abbreviation, e.node.rate])).toEqual([
      ['VAT 20%', 'VAT', '0.2'],
      ['GST 5%', 'GST', '0.05'],
    ]);
    expect(biz.salesTaxes.edges[0].node.rates).toEqual([{ effective: '2020-01-01', rate: '0.2' }]);
  });
});

describe('customers and products', () => {
  it('creates customers and finds them by email — a case-insensitive substring, so the client must compare', async () => {
    const { fake, gql } = await startWave();
    const made = await gql(CUSTOMER_CREATE, { input: { businessId: fake.businessId, name: 'Ann', email: 'ann@example.com', address: { countryCode: 'CA', provinceCode: 'CA-QC', city: 'Montréal' } } });
    expect(made.json.data.customerCreate).toMatchObject({ didSucceed: true, inputErrors: [], customer: { name: 'Ann', email: 'ann@example.com', currency: { code: 'USD' } } });
    expect(Buffer.from(made.json.data.customerCreate.customer.id, 'base64').toString()).toMatch(/^Business:[0-9a-f-]{36};Customer:\d+$/);
    await gql(CUSTOMER_CREATE, { input: { businessId: fake.businessId, name: 'Joanne', email: 'joANN@example.com' } });
    await gql(CUSTOMER_CREATE, { input: { businessId: fake.businessId, name: 'Bob', email: 'bob@example.com' } });
    const found = await gql(CUSTOMERS, { businessId: fake.businessId, email: 'ann@example.com', page: 1, pageSize: 10, sort: ['CREATED_AT_ASC'] });
    expect(found.json.data.business.customers.edges.map((e: any) => e.node.name)).toEqual(['Ann', 'Joanne']);
  });

  it('pages customers (pageSize at most 200) and filters them by modifiedAtAfter', async () => {
    const { fake, gql } = await startWave();
    for (let i = 1; i <= 5; i++) await gql(CUSTOMER_CREATE, { input: { businessId: fake.businessId, name: `C${i}` } });
    const p3 = await gql(CUSTOMERS, { businessId: fake.businessId, page: 3, pageSize: 2, sort: ['NAME_ASC'] });
    expect(p3.json.data.business.customers).toMatchObject({ pageInfo: { currentPage: 3, totalPages: 3, totalCount: 5 }, edges: [{ node: { name: 'C5' } }] });
    const desc = await gql(CUSTOMERS, { businessId: fake.businessId, page: 1, pageSize: 2, sort: ['CREATED_AT_DESC'] });
    expect(desc.json.data.business.customers.edges.map((e: any) => e.node.name)).toEqual(['C5', 'C4']);
    const tooBig = await gql(CUSTOMERS, { businessId: fake.businessId, page: 1, pageSize: 201, sort: ['NAME_ASC'] });
    expect(tooBig.status).toBe(200);
    expect(codes(tooBig)).toEqual(['BAD_USER_INPUT']);
    expect(tooBig.json.data.business.customers).toBeNull();

    const cut = new Date(fake.clock.now()).toISOString();
    fake.advanceTime(1000);
    await gql(CUSTOMER_CREATE, { input: { businessId: fake.businessId, name: 'Late' } });
    const since = await gql(CUSTOMERS, { businessId: fake.businessId, page: 1, pageSize: 10, modifiedAtAfter: cut, sort: ['NAME_ASC'] });
    expect(since.json.data.business.customers.edges.map((e: any) => e.node.name)).toEqual(['Late']);
  });

  it('refuses a customer without a name, with an all-empty address or a province not in ISO 3166-2', async () => {
    const { fake, gql } = await startWave();
    const a = await gql(CUSTOMER_CREATE, { input: { businessId: fake.businessId, name: ' ', address: { addressLine1: null, city: null } } });
    expect(a.status).toBe(200);
    expect(a.json.errors).toBeUndefined();
    expect(a.json.data.customerCreate.didSucceed).toBe(false);
    expect(a.json.data.customerCreate.customer).toBeNull();
    expect(a.json.data.customerCreate.inputErrors.map((e: any) => e.path.join('.'))).toEqual(['input.name', 'input.address']);
    const b = await gql(CUSTOMER_CREATE, { input: { businessId: fake.businessId, name: 'X', address: { countryCode: 'CA', provinceCode: 'QC' } } });
    expect(b.json.data.customerCreate.inputErrors).toEqual([{ path: ['input', 'address', 'provinceCode'], message: expect.stringContaining('ISO 3166-2'), code: 'INVALID' }]);
    expect(fake.state.customers.size).toBe(0);
  });

  it('creates a product on an income account; another subtype is refused, another business’s account has no inputErrors', async () => {
    const { fake, gql } = await startWave({ businesses: [{}, { name: 'Other' }] });
    const ok = await gql(PRODUCT_CREATE, { input: { businessId: fake.businessId, name: 'Design', unitPrice: '99.5', incomeAccountId: fake.accountId('Sales') } });
    expect(ok.json.data.productCreate.product).toMatchObject({ name: 'Design', unitPrice: '99.50', isSold: true, incomeAccount: { name: 'Sales' }, defaultSalesTaxes: [] });
    const bank = await gql(PRODUCT_CREATE, { input: { businessId: fake.businessId, name: 'X', unitPrice: '1', incomeAccountId: fake.accountId('Cash on Hand') } });
    expect(bank.json.data.productCreate).toMatchObject({ didSucceed: false, inputErrors: [{ path: ['input', 'incomeAccountId'] }] });
    const foreign = await gql(PRODUCT_CREATE, { input: { businessId: fake.businessId, name: 'X', unitPrice: '1', incomeAccountId: fake.accountId('Sales', fake.businessIds[1]) } });
    expect(foreign.json.data.productCreate).toEqual({ didSucceed: false, inputErrors: [], product: null });
  });
});

describe('single records and the user', () => {
  it('reads the user, and one customer, product, account, sales tax and invoice payment of the business by ID', async () => {
    const { fake, gql } = await startWave();
    const { invoice, customerId, productId } = await newInvoice(fake, gql, { status: 'SAVED' });
    const paymentId = fake.payInvoice(invoice.id, { amount: '60.00', date: '2026-12-05' });
    const a = await gql(
      `query One($b: ID!, $c: ID!, $p: ID!, $a: ID!, $t: ID!, $pay: ID!) {
        user { id defaultEmail }
        business(id: $b) {
          customer(id: $c) { name outstandingAmount { value } }
          product(id: $p) { name unitPrice defaultSalesTaxes { name } }
          products(page: 1, pageSize: 10, isSold: true, isArchived: false, sort: [NAME_ASC]) { pageInfo { totalCount } edges { node { id } } }
          account(id: $a) { name type { value } normalBalanceType }
          salesTax(id: $t) { name rate(for: "2026-12-06") }
          invoicePayment(id: $pay) { amount paymentDate paymentMethod account { name } invoice { id status } }
        }
      }`,
      { b: fake.businessId, c: customerId, p: productId, a: fake.accountId('Sales'), t: fake.salesTaxId('GST 5%'), pay: paymentId },
    );
    expect(a.json.errors).toBeUndefined();
    expect(a.json.data.user).toEqual({ id: expect.any(String), defaultEmail: 'owner@demo-agency.example' });
    expect(a.json.data.business).toEqual({
      customer: { name: 'Acme Ltd', outstandingAmount: { value: '300.00' } },
      product: { name: 'Consulting', unitPrice: '150.00', defaultSalesTaxes: [{ name: 'VAT 20%' }] },
      products: { pageInfo: { totalCount: 1 }, edges: [{ node: { id: productId } }] },
      account: { name: 'Sales', type: { value: 'INCOME' }, normalBalanceType: 'CREDIT' },
      salesTax: { name: 'GST 5%', rate: '0.05' },
      invoicePayment: { amount: '60.00', paymentDate: '2026-12-05', paymentMethod: 'BANK_TRANSFER', account: { name: 'Cash on Hand' }, invoice: { id: invoice.id, status: 'PARTIAL' } },
    });
  });
});

describe('invoices', () => {
  it('creates a DRAFT by default with the next number, totals from the product’s default tax, a customer view URL', async () => {
    const { fake, gql } = await startWave();
    const { invoice } = await newInvoice(fake, gql, { memo: 'Deal 42', invoiceDate: '2026-12-01' });
    expect(invoice).toMatchObject({
      invoiceNumber: '1',
      status: 'DRAFT',
      invoiceDate: '2026-12-01',
      dueDate: '2026-12-31',
      memo: 'Deal 42',
      subtotal: { value: '300.00', minorUnitValue: '30000', currency: { code: 'USD' } },
      taxTotal: { value: '60.00' },
      total: { value: '360.00', minorUnitValue: '36000', currency: { code: 'USD' } },
      amountDue: { value: '360.00' },
      amountPaid: { value: '0.00' },
      exchangeRate: '1',
      lastSentAt: null,
      payments: [],
      source: null,
      items: [{ quantity: '2', unitPrice: '150.00', subtotal: { value: '300.00' }, total: { value: '360.00' }, taxes: [{ amount: { value: '60.00' }, salesTax: { name: 'VAT 20%' } }] }],
    });
    expect(invoice.viewUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/invoice\/\w+$/);
    const next = await newInvoice(fake, gql);
    expect(next.invoice.invoiceNumber).toBe('2');
  });

  it('takes line taxes as given ([] = none), one discount, a foreign currency only with an exchange rate', async () => {
    const { fake, gql } = await startWave();
    const ids = await seed(fake, gql);
    const gst = fake.salesTaxId('GST 5%');
    const a = await gql(INVOICE_CREATE, {
      input: {
        businessId: fake.businessId,
        customerId: ids.customerId,
        invoiceNumber: 'K-100',
        items: [
          { productId: ids.productId, quantity: '1', unitPrice: '100.00', taxes: [{ salesTaxId: gst }] },
          { productId: ids.productId, quantity: '3', unitPrice: '10.00', taxes: [] },
        ],
        discounts: [{ discountType: 'FIXED', name: 'Loyalty', amount: '13.00' }],
      },
    });
    const inv = a.json.data.invoiceCreate.invoice;
    // Discount 13.00 spread 10.00 / 3.00; GST 5% on 90.00 = 4.50.
    expect([inv.invoiceNumber, inv.subtotal.value, inv.taxTotal.value, inv.total.value]).toEqual(['K-100', '130.00', '4.50', '121.50']);
    expect(inv.items[1].taxes).toEqual([]);

    const eur = await gql(INVOICE_CREATE, { input: { businessId: fake.businessId, customerId: ids.customerId, currency: 'EUR', items: [{ productId: ids.productId }] } });
    expect(eur.json.data.invoiceCreate).toMatchObject({ didSucceed: false, inputErrors: [{ path: ['input', 'exchangeRate'], code: 'REQUIRED' }], invoice: null });
    const eur2 = await gql(INVOICE_CREATE, { input: { businessId: fake.businessId, customerId: ids.customerId, currency: 'EUR', exchangeRate: '1.1', items: [{ productId: ids.productId }] } });
    expect(eur2.json.data.invoiceCreate.invoice).toMatchObject({ currency: { code: 'EUR' }, exchangeRate: '1.1', total: { value: '180.00', currency: { code: 'EUR' } }, invoiceNumber: '1' });
  });

  it('accepts a duplicate invoice number by default (unconfirmed), refuses it when configured', async () => {
    const lax = await startWave();
    const ids = await seed(lax.fake, lax.gql);
    await newInvoice(lax.fake, lax.gql, { invoiceNumber: 'D-1' }, ids);
    await newInvoice(lax.fake, lax.gql, { invoiceNumber: 'D-1' }, ids);
    expect([...lax.fake.state.invoices.values()].filter((i) => i.invoiceNumber === 'D-1')).toHaveLength(2);

    const strict = await startWave({ rejectDuplicateInvoiceNumbers: true });
    const ids2 = await seed(strict.fake, strict.gql);
    await newInvoice(strict.fake, strict.gql, { invoiceNumber: 'D-1' }, ids2);
    const again = await strict.gql(INVOICE_CREATE, { input: { businessId: strict.fake.businessId, customerId: ids2.customerId, invoiceNumber: 'D-1', items: [{ productId: ids2.productId }] } });
    expect(again.json.data.invoiceCreate).toMatchObject({ didSucceed: false, inputErrors: [{ path: ['input', 'invoiceNumber'], code: 'DUPLICATE' }] });
  });

  it('approves a draft (SAVED) once, sends an approved invoice by email (SENT), moving modifiedAt each time', async () => {
    const { fake, gql } = await startWave();
    const { invoice } = await newInvoice(fake, gql);
    const early = await gql(INVOICE_SEND, { input: { invoiceId: invoice.id, to: ['billing@acme.example'], attachPDF: true } });
    expect(early.json.data.invoiceSend).toMatchObject({ didSucceed: false, inputErrors: [{ path: ['input', 'invoiceId'], code: 'NOT_ALLOWED' }] });
    expect(fake.emails).toEqual([]);

    fake.advanceTime(1000);
    const approved = await gql(INVOICE_APPROVE, { input: { invoiceId: invoice.id } });
    expect(approved.json.data.invoiceApprove).toMatchObject({ didSucceed: true, invoice: { status: 'SAVED' } });
    expect(Date.parse(approved.json.data.invoiceApprove.invoice.modifiedAt)).toBeGreaterThan(Date.parse(invoice.modifiedAt));
    const twice = await gql(INVOICE_APPROVE, { input: { invoiceId: invoice.id } });
    expect(twice.json.data.invoiceApprove).toMatchObject({ didSucceed: false, inputErrors: [{ path: ['input', 'invoiceId'] }], invoice: null });

    const sent = await gql(INVOICE_SEND, { input: { invoiceId: invoice.id, to: ['billing@acme.example'], subject: 'Invoice 1', message: 'Thanks', attachPDF: true } });
    expect(sent.json.data.invoiceSend).toEqual({ didSucceed: true, inputErrors: [] });
    expect(fake.emails).toEqual([expect.objectContaining({ invoiceId: invoice.id, invoiceNumber: '1', to: ['billing@acme.example'], subject: 'Invoice 1', attachPDF: true })]);
    const read = await gql(INVOICE, { businessId: fake.businessId, id: invoice.id });
    expect(read.json.data.business.invoice).toMatchObject({ status: 'SENT', lastSentVia: 'WAVE', lastSentAt: expect.any(String) });
  });

  it('refuses to send when the business cannot send email', async () => {
    const { fake, gql } = await startWave({ businesses: [{ emailSendEnabled: false }] });
    const { invoice } = await newInvoice(fake, gql, { status: 'SAVED' });
    expect(invoice.status).toBe('SAVED');
    const a = await gql(INVOICE_SEND, { input: { invoiceId: invoice.id, to: ['a@b.example'], attachPDF: false } });
    expect(a.json.data.invoiceSend.didSucceed).toBe(false);
    expect(a.json.data.invoiceSend.inputErrors[0].message).toMatch(/email/);
    expect(fake.emails).toEqual([]);
  });

  it('records manual payments: PARTIAL, then PAID, then OVERPAID; amountPaid and amountDue follow', async () => {
    const { fake, gql } = await startWave();
    const { invoice } = await newInvoice(fake, gql);
    const pay = (amount: string) =>
      gql(PAYMENT_CREATE, { input: { invoiceId: invoice.id, paymentAccountId: fake.accountId('Cash on Hand'), amount, paymentDate: '2026-12-06', paymentMethod: 'BANK_TRANSFER', exchangeRate: '1' } });
    const onDraft = await pay('10.00');
    expect(onDraft.json.data.invoicePaymentCreateManual).toMatchObject({ didSucceed: false, invoicePayment: null });
    await gql(INVOICE_APPROVE, { input: { invoiceId: invoice.id } });
    const part = await pay('100.00');
    expect(part.json.data.invoicePaymentCreateManual.invoicePayment).toMatchObject({ amount: '100.00', paymentDate: '2026-12-06', paymentMethod: 'BANK_TRANSFER', invoice: { status: 'PARTIAL', amountPaid: { value: '100.00' }, amountDue: { value: '260.00' } } });
    const rest = await pay('260.00');
    expect(rest.json.data.invoicePaymentCreateManual.invoicePayment.invoice).toMatchObject({ status: 'PAID', amountDue: { value: '0.00' } });
    const over = await pay('1.00');
    expect(over.json.data.invoicePaymentCreateManual.invoicePayment.invoice.status).toBe('OVERPAID');
    const read = await gql(INVOICE, { businessId: fake.businessId, id: invoice.id });
    expect(read.json.data.business.invoice.payments.map((p: any) => p.amount)).toEqual(['100.00', '260.00', '1.00']);
    const wrongAccount = await gql(PAYMENT_CREATE, { input: { invoiceId: invoice.id, paymentAccountId: fake.accountId('Sales'), amount: '1.00', paymentDate: '2026-12-06', paymentMethod: 'CASH', exchangeRate: '1' } });
    expect(wrongAccount.json.data.invoicePaymentCreateManual.inputErrors).toEqual([expect.objectContaining({ path: ['input', 'paymentAccountId'] })]);
  });

  it('lists invoices by number (a substring: the client compares), by status and by modifiedAtAfter, in offset pages', async () => {
    const { fake, gql } = await startWave();
    const ids = await seed(fake, gql);
    const a = (await newInvoice(fake, gql, { invoiceNumber: 'K-1', status: 'SAVED' }, ids)).invoice;
    await newInvoice(fake, gql, { invoiceNumber: 'K-10' }, ids);
    await newInvoice(fake, gql, { invoiceNumber: 'K-2' }, ids);
    const vars = { businessId: fake.businessId, page: 1, pageSize: 10, sort: ['CREATED_AT_ASC'] };
    const byNumber = await gql(INVOICES, { ...vars, invoiceNumber: 'k-1' });
    expect(byNumber.json.data.business.invoices.edges.map((e: any) => e.node.invoiceNumber)).toEqual(['K-1', 'K-10']);
    const drafts = await gql(INVOICES, { ...vars, status: 'DRAFT' });
    expect(drafts.json.data.business.invoices.pageInfo.totalCount).toBe(2);
    const unpaid = await gql(INVOICES, { ...vars, status: 'UNPAID' });
    expect(unpaid.json.data.business.invoices.edges.map((e: any) => e.node.invoiceNumber)).toEqual(['K-1']);

    const cut = new Date(fake.clock.now()).toISOString();
    fake.advanceTime(5000);
    fake.payInvoice(a.id, { amount: '50.00' });
    const changed = await gql(INVOICES, { ...vars, modifiedAtAfter: cut });
    expect(changed.json.data.business.invoices.edges).toEqual([{ node: expect.objectContaining({ id: a.id, status: 'PARTIAL', amountDue: { value: '310.00' } }) }]);
    const page2 = await gql(INVOICES, { ...vars, page: 2, pageSize: 2, sort: ['INVOICE_NUMBER_DESC'] });
    expect(page2.json.data.business.invoices).toMatchObject({ pageInfo: { currentPage: 2, totalPages: 2, totalCount: 3 }, edges: [{ node: { invoiceNumber: 'K-1' } }] });
  });

  it('deletes an invoice without payments; one with payments is refused', async () => {
    const { fake, gql } = await startWave();
    const ids = await seed(fake, gql);
    const del = `mutation D($input: InvoiceDeleteInput!) { invoiceDelete(input: $input) { didSucceed inputErrors { path message code } } }`;
    const a = (await newInvoice(fake, gql, {}, ids)).invoice;
    expect((await gql(del, { input: { invoiceId: a.id } })).json.data.invoiceDelete).toEqual({ didSucceed: true, inputErrors: [] });
    expect(fake.state.invoices.has(a.id)).toBe(false);
    const b = (await newInvoice(fake, gql, { status: 'SAVED' }, ids)).invoice;
    fake.payInvoice(b.id, { amount: '1.00' });
    expect((await gql(del, { input: { invoiceId: b.id } })).json.data.invoiceDelete.didSucceed).toBe(false);
  });

  it('marks sent and patches an invoice (items replace every line)', async () => {
    const { fake, gql } = await startWave();
    const { invoice, productId } = await newInvoice(fake, gql, { status: 'SAVED' });
    const mark = await gql(`mutation M($input: InvoiceMarkSentInput!) { invoiceMarkSent(input: $input) { didSucceed invoice { status lastSentVia } } }`, { input: { invoiceId: invoice.id, sendMethod: 'MARKED_SENT' } });
    expect(mark.json.data.invoiceMarkSent).toEqual({ didSucceed: true, invoice: { status: 'SENT', lastSentVia: 'MARKED_SENT' } });
    const patch = await gql(`mutation P($input: InvoicePatchInput!) { invoicePatch(input: $input) { didSucceed inputErrors { message } invoice { memo total { value } items { quantity } } } }`, {
      input: { id: invoice.id, memo: 'changed', items: [{ productId, quantity: '1', taxes: [] }] },
    });
    expect(patch.json.data.invoicePatch).toEqual({ didSucceed: true, inputErrors: [], invoice: { memo: 'changed', total: { value: '150.00' }, items: [{ quantity: '1' }] } });
  });

  it('shows a recurring invoice (made by Wave’s schedule) by its source', async () => {
    const { fake, gql } = await startWave();
    const ids = await seed(fake, gql);
    const id = fake.addInvoice({ customerId: ids.customerId, items: [{ productId: ids.productId }] }, { recurringId: 'UmVjdXJyaW5nSW52b2ljZTox' });
    const read = await gql(INVOICE, { businessId: fake.businessId, id });
    expect(read.json.data.business.invoice.source).toEqual({ id: 'UmVjdXJyaW5nSW52b2ljZTox' });
  });

  it('refuses invoices for a business on classic invoicing', async () => {
    const { fake, gql } = await startWave({ businesses: [{ isClassicInvoicing: true }] });
    const ids = await seed(fake, gql);
    const a = await gql(INVOICE_CREATE, { input: { businessId: fake.businessId, customerId: ids.customerId, items: [{ productId: ids.productId }] } });
    expect(a.json.data.invoiceCreate).toMatchObject({ didSucceed: false, inputErrors: [{ path: ['input', 'businessId'], code: 'NOT_ALLOWED' }] });
    const list = await gql(INVOICES, { businessId: fake.businessId, page: 1, pageSize: 10, sort: ['CREATED_AT_ASC'] });
    expect(codes(list)).toEqual(['FORBIDDEN']);
  });
});

describe('errors', () => {
  it('UNAUTHENTICATED for a valid document without a token or with an unknown one (HTTP 200, field null)', async () => {
    const { gql } = await startWave();
    for (const token of [null, 'not-a-token']) {
      const a = await gql(`query { business { id } }`, {}, token);
      expect(a.status).toBe(200);
      expect(a.json.data).toEqual({ business: null });
      expect(a.json.errors[0]).toMatchObject({ path: ['business'], extensions: { code: 'UNAUTHENTICATED', id: expect.any(String) } });
    }
  });

  it('NOT_FOUND for an ID of another business or of nothing; didSucceed false with no inputErrors for a foreign ID inside an input', async () => {
    const { fake, gql } = await startWave({ businesses: [{}, { name: 'Other' }] });
    const ids = await seed(fake, gql);
    const other = await seed(fake, gql, fake.businessIds[1]);
    const { invoice } = await newInvoice(fake, gql, {}, ids);
    const foreign = await gql(INVOICE, { businessId: fake.businessIds[1], id: invoice.id });
    expect(codes(foreign)).toEqual(['NOT_FOUND']);
    expect(foreign.json.data.business.invoice).toBeNull();
    const nothing = await gql(INVOICE_APPROVE, { input: { invoiceId: 'SW52b2ljZTo5OTk=' } });
    expect(codes(nothing)).toEqual(['NOT_FOUND']);
    expect(nothing.json.data.invoiceApprove).toBeNull();
    const mixed = await gql(INVOICE_CREATE, { input: { businessId: fake.businessId, customerId: other.customerId, items: [{ productId: ids.productId }] } });
    expect(mixed.json.errors).toBeUndefined();
    expect(mixed.json.data.invoiceCreate).toEqual({ didSucceed: false, inputErrors: [], invoice: null });
  });

  it('GRAPHQL_VALIDATION_FAILED (HTTP 400) for a document off the schema, recorded as a violation — even without a token', async () => {
    const { fake, gql } = await startWave();
    const a = await gql(`query { business { id nickname } }`, {}, null);
    expect(a.status).toBe(400);
    expect(codes(a)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(a.json.errors[0].message).toContain('nickname');
    // invoiceSend's output has no invoice (reference): selecting it is off contract.
    const b = await gql(`mutation S($input: InvoiceSendInput!) { invoiceSend(input: $input) { didSucceed invoice { id } } }`, { input: { invoiceId: 'x', to: [], attachPDF: false } });
    expect(codes(b)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    const c = await gql(`query { business { id `);
    expect([c.status, codes(c)]).toEqual([400, ['GRAPHQL_PARSE_FAILED']]);
    expect(fake.violations.map((v) => v.kind)).toEqual(['validation', 'validation', 'parse']);
    fake.violations.length = 0;
  });

  it('BAD_USER_INPUT (HTTP 400) for a variable of the wrong type — a Decimal sent as a number — before auth', async () => {
    const { fake, gql } = await startWave();
    const ids = await seed(fake, gql);
    const a = await gql(INVOICE_CREATE, { input: { businessId: fake.businessId, customerId: ids.customerId, items: [{ productId: ids.productId, quantity: 2 }] } }, null);
    expect(a.status).toBe(400);
    expect(codes(a)).toEqual(['BAD_USER_INPUT']);
    expect(a.json.errors[0].message).toMatch(/Decimal/);
    const b = await gql(INVOICES, { businessId: fake.businessId, page: 1, pageSize: 10, sort: ['CREATED_AT_ASC'], modifiedAtAfter: '2026-12-06' });
    expect(codes(b)).toEqual(['BAD_USER_INPUT']);
    expect(fake.state.invoices.size).toBe(0);
    expect(fake.violations.map((v) => v.kind)).toEqual(['variables', 'variables']);
    fake.violations.length = 0;
  });

  it('answers a deprecated field but records it as a violation (literal, selection and variable input field)', async () => {
    const { fake, gql } = await startWave();
    const { invoice } = await newInvoice(fake, gql);
    const a = await gql(`query I($b: ID!, $id: ID!) { business(id: $b) { invoice(id: $id) { total { raw value } items { price } } } }`, { b: fake.businessId, id: invoice.id });
    expect(a.status).toBe(200);
    expect(a.json.data.business.invoice).toEqual({ total: { raw: 36000, value: '360.00' }, items: [{ price: '150.00' }] });
    const b = await gql(INVOICE_CREATE, { input: { businessId: fake.businessId, customerId: invoice.customer.id, items: [{ productId: invoice.items[0].product.id, taxes: [{ salesTaxId: fake.salesTaxId('GST 5%'), amount: '7.50' }] }] } });
    expect(b.json.data.invoiceCreate.didSucceed).toBe(true);
    expect(fake.violations).toEqual([
      expect.objectContaining({ kind: 'deprecated', operationName: 'I', messages: [expect.stringContaining('Money.raw'), expect.stringContaining('InvoiceItem.price')] }),
      expect.objectContaining({ kind: 'deprecated', operationName: 'InvoiceCreate', messages: [expect.stringContaining('InvoiceCreateItemTaxInput.amount')] }),
    ]);
    fake.violations.length = 0;
  });

  it('FORBIDDEN for a root field the token has no scope for (code unconfirmed)', async () => {
    const { fake, gql } = await startWave();
    const tokens = fake.issueTokens({ scope: 'business:read invoice:read' });
    const a = await gql(CUSTOMER_CREATE, { input: { businessId: fake.businessId, name: 'X' } }, tokens.access_token);
    expect(codes(a)).toEqual(['FORBIDDEN']);
    expect(fake.state.customers.size).toBe(0);
  });
});
