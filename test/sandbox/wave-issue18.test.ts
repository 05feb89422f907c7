// The fake Wave over real HTTP, for issue 18: an invoice's ways of being paid online (disableCreditCardPayments,
// disableBankPayments, disableAmexPayments) taken on invoiceCreate and invoicePatch and read back; invoiceDelete
// of an invoice already gone; and what a person or a customer does in Wave, through the helpers the e2e suites
// drive (payOnline, onlinePayment, approveInvoice, sendInvoice, editInvoice) and their /__control routes.
import { describe, expect, it } from 'vitest';
import { INVOICE, INVOICE_APPROVE, closeWaveAfterEach, codes, newInvoice, startWave } from './wave-helpers.js';

closeWaveAfterEach();

const FLAGS = 'disableCreditCardPayments disableBankPayments disableAmexPayments';

const READ_FLAGS = `
query Flags($businessId: ID!, $id: ID!) {
  business(id: $businessId) { invoice(id: $id) { id status modifiedAt amountPaid { value } amountDue { value } ${FLAGS} payments { id amount paymentMethod } } }
}`;

const PATCH = `
mutation InvoicePatch($input: InvoicePatchInput!) {
  invoicePatch(input: $input) { didSucceed inputErrors { path message code } invoice { id total { value } modifiedAt ${FLAGS} } }
}`;

const DELETE = `
mutation InvoiceDelete($input: InvoiceDeleteInput!) {
  invoiceDelete(input: $input) { didSucceed inputErrors { path message code } }
}`;

describe('paying online: the invoice flags', () => {
  it('not given: false (the business default); given on create: kept and read back; on patch: only those given change', async () => {
    const { fake, gql } = await startWave();
    const { invoice: plain, customerId, productId } = await newInvoice(fake, gql);
    const read = async (id: string) => (await gql(READ_FLAGS, { businessId: fake.businessId, id })).json.data.business.invoice;
    expect(await read(plain.id)).toMatchObject({ disableCreditCardPayments: false, disableBankPayments: false, disableAmexPayments: false });

    const { invoice } = await newInvoice(fake, gql, { disableCreditCardPayments: false, disableBankPayments: true, disableAmexPayments: true }, { customerId, productId });
    expect(await read(invoice.id)).toMatchObject({ disableCreditCardPayments: false, disableBankPayments: true, disableAmexPayments: true });

    const patched = await gql(PATCH, { input: { id: invoice.id, disableCreditCardPayments: true } });
    expect(patched.json.data.invoicePatch).toMatchObject({ didSucceed: true, invoice: { disableCreditCardPayments: true, disableBankPayments: true, disableAmexPayments: true } });
    const lines = await gql(PATCH, { input: { id: invoice.id, items: [{ productId, quantity: '1', unitPrice: '10.00', taxes: [] }], discounts: [], disableBankPayments: false } });
    expect(lines.json.data.invoicePatch).toMatchObject({ didSucceed: true, invoice: { total: { value: '10.00' }, disableCreditCardPayments: true, disableBankPayments: false } });
    expect(Date.parse(lines.json.data.invoicePatch.invoice.modifiedAt)).toBeGreaterThan(Date.parse(patched.json.data.invoicePatch.invoice.modifiedAt));
  });

  it('a flag that is not a Boolean is BAD_USER_INPUT, recorded as a violation', async () => {
    const { fake, gql } = await startWave();
    const { invoice } = await newInvoice(fake, gql);
    const bad = await gql(PATCH, { input: { id: invoice.id, disableBankPayments: 'yes' } });
    expect(bad.status).toBe(400);
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(fake.violations).toHaveLength(1);
    fake.violations.length = 0;
  });
});

describe('invoiceDelete', () => {
  it('deletes an invoice without payments; a second delete is NOT_FOUND (its ID is unknown now)', async () => {
    const { fake, gql } = await startWave();
    const { invoice } = await newInvoice(fake, gql);
    expect((await gql(DELETE, { input: { invoiceId: invoice.id } })).json.data.invoiceDelete).toEqual({ didSucceed: true, inputErrors: [] });
    const again = await gql(DELETE, { input: { invoiceId: invoice.id } });
    expect(codes(again)).toEqual(['NOT_FOUND']);
    expect(again.json.data.invoiceDelete).toBeNull();
  });
});

describe('a customer paying online (payOnline, onlinePayment)', () => {
  it('a draft cannot be paid; approved: card first, recorded as a CREDIT_CARD payment, PARTIAL then PAID, modifiedAt moving; more than is due is refused', async () => {
    const { fake, gql } = await startWave();
    const { invoice } = await newInvoice(fake, gql);
    expect(fake.onlinePayment(invoice.id)).toEqual([]);
    expect(() => fake.payOnline(invoice.id, 10)).toThrow(/draft/);
    await gql(INVOICE_APPROVE, { input: { invoiceId: invoice.id } });
    expect(fake.onlinePayment(invoice.id)).toEqual(['card', 'bank']);
    const read = async () => (await gql(READ_FLAGS, { businessId: fake.businessId, id: invoice.id })).json.data.business.invoice;
    const before = await read();
    // 2 × 150.00 + VAT 20% = 360.00
    const first = fake.payOnline(invoice.id, 100);
    const partial = await read();
    expect(partial).toMatchObject({ status: 'PARTIAL', amountPaid: { value: '100.00' }, amountDue: { value: '260.00' }, payments: [{ id: first, amount: '100.00', paymentMethod: 'CREDIT_CARD' }] });
    expect(Date.parse(partial.modifiedAt)).toBeGreaterThan(Date.parse(before.modifiedAt));
    expect(() => fake.payOnline(invoice.id, 260.01)).toThrow(/at most the amount due/);
    fake.payOnline(invoice.id, 260);
    expect(await read()).toMatchObject({ status: 'PAID', amountDue: { value: '0.00' } });
    expect(fake.state.payments.get(first)).toMatchObject({ online: 'card', accountId: fake.accountId('Cash on Hand') });
  });

  it('card disabled on the invoice: paid by bank payment; both disabled, or not set up in the business: refused', async () => {
    const { fake, gql } = await startWave();
    const { invoice, customerId, productId } = await newInvoice(fake, gql, { status: 'SAVED', disableCreditCardPayments: true });
    expect(fake.onlinePayment(invoice.id)).toEqual(['bank']);
    const id = fake.payOnline(invoice.id, 50);
    expect(fake.state.payments.get(id)).toMatchObject({ paymentMethod: 'BANK_TRANSFER', online: 'bank' });
    fake.setBusiness(fake.businessId, { payments: { bank: false } });
    expect(fake.onlinePayment(invoice.id)).toEqual([]);
    expect(() => fake.payOnline(invoice.id, 10)).toThrow(/cannot be paid online/);
    fake.setBusiness(fake.businessId, { payments: { bank: true } });
    const { invoice: none } = await newInvoice(fake, gql, { status: 'SAVED', disableCreditCardPayments: true, disableBankPayments: true }, { customerId, productId });
    expect(() => fake.payOnline(none.id, 10)).toThrow(/cannot be paid online/);
  });

  it('a business made without card payments set up offers only bank payment', async () => {
    const { fake, gql } = await startWave({ businesses: [{ payments: { card: false } }] });
    const { invoice } = await newInvoice(fake, gql, { status: 'SAVED' });
    expect(fake.onlinePayment(invoice.id)).toEqual(['bank']);
  });
});

describe('a person in Wave (approveInvoice, sendInvoice, editInvoice) and the /__control routes', () => {
  it('approves a draft (SAVED; a second approval throws), edits its lines (totals and modifiedAt move), sends it (approving a draft first)', async () => {
    const { fake, gql } = await startWave();
    const { invoice, customerId, productId } = await newInvoice(fake, gql);
    const read = async (id: string) => (await gql(INVOICE, { businessId: fake.businessId, id })).json.data.business.invoice;

    fake.editInvoice(invoice.id, [
      { description: 'Discovery', unitPrice: 100, quantity: 1 },
      { description: 'Workshop', unitPrice: 50, quantity: 2 },
    ]);
    const edited = await read(invoice.id);
    expect(edited.items.map((i: { description: string; product: { id: string } }) => [i.description, i.product.id])).toEqual([
      ['Discovery', productId],
      ['Workshop', productId],
    ]);
    // The lines keep the replaced line's VAT 20%: 200.00 + 40.00.
    expect(edited.total.value).toBe('240.00');
    expect(Date.parse(edited.modifiedAt)).toBeGreaterThan(Date.parse(invoice.modifiedAt));

    fake.approveInvoice(invoice.id);
    expect((await read(invoice.id)).status).toBe('SAVED');
    expect(() => fake.approveInvoice(invoice.id)).toThrow(/already approved/);

    const { invoice: draft } = await newInvoice(fake, gql, {}, { customerId, productId });
    fake.sendInvoice(draft.id, ['accounts@acme.example']);
    expect(await read(draft.id)).toMatchObject({ status: 'SENT', lastSentVia: 'WAVE' });
    expect(fake.emails).toEqual([expect.objectContaining({ invoiceId: draft.id, to: ['accounts@acme.example'] })]);
  });

  it('the same over /__control, for a demo in another process', async () => {
    const { fake, gql, origin } = await startWave();
    const { invoice } = await newInvoice(fake, gql);
    const post = async (path: string, body: unknown = {}) => {
      const res = await fetch(`${origin}/__control${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, json: (await res.json()) as any };
    };
    expect((await post(`/invoices/${encodeURIComponent(invoice.id)}/edit`, { items: [{ description: 'Audit', unitPrice: 10, quantity: 1 }] })).status).toBe(200);
    expect((await post(`/invoices/${encodeURIComponent(invoice.id)}/approve`)).status).toBe(200);
    const ways = await fetch(`${origin}/__control/invoices/${encodeURIComponent(invoice.id)}/online-payment`);
    expect(await ways.json()).toEqual({ ways: ['card', 'bank'] });
    const paid = await post(`/invoices/${encodeURIComponent(invoice.id)}/pay-online`, { amount: 12 });
    expect(paid.status).toBe(201);
    expect(fake.state.payments.get(paid.json.id)).toMatchObject({ online: 'card' });
    expect((await post(`/invoices/${encodeURIComponent(invoice.id)}/pay-online`, { amount: 1 })).status).toBe(400);
    expect((await post(`/invoices/${encodeURIComponent(invoice.id)}/send`, { to: ['a@acme.example'] })).status).toBe(200);
    expect(fake.snapshot().invoices).toEqual([expect.objectContaining({ id: invoice.id, status: 'PAID', total: '12.00', disableCreditCardPayments: false, lastSentVia: 'WAVE' })]);
  });
});
