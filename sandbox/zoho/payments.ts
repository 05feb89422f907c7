// Customer payments, recorded through the control API (the relay only reads them): the invoice's
// balance and status follow, and the payment is listed under the invoice and under /customerpayments.
import type { OrgContext } from './contacts.js';
import { invalidValue, notFound } from './errors.js';
import { matchesDate, matchesId, modifiedSince, paginate, sortRows } from './listing.js';
import { balanceMinor } from './invoice-json.js';
import { touch } from './invoices.js';
import { fromMinor, isNumeric, toMinor } from './money.js';
import { counters, inOrg, newId, type CustomerPayment, type Invoice } from './state.js';
import { isIsoDate, today } from './time.js';
import { longId } from '../common.js';

export interface PaymentInput {
  amount: number;
  date?: string;
  paymentMode?: string;
  referenceNumber?: string;
  /** Paid online through this gateway (payment_mode autotransaction; autotransaction.payment_gateway). */
  gateway?: string;
}

export function recordPayment(ctx: OrgContext, inv: Invoice, p: PaymentInput): CustomerPayment {
  if (inv.status === 'void') throw invalidValue('Payments cannot be recorded for a void invoice.');
  if (!isNumeric(p.amount) || Number(p.amount) <= 0) throw invalidValue('Invalid value passed for amount');
  const date = p.date ?? today();
  if (!isIsoDate(date)) throw invalidValue('Invalid value passed for date: use yyyy-mm-dd');
  const amountMinor = toMinor(p.amount, inv.precision);
  const appliedMinor = amountMinor < balanceMinor(inv) ? amountMinor : balanceMinor(inv);
  const c = counters(ctx.state, ctx.org.organizationId);
  c.payment += 1;
  const now = Date.now();
  const payment: CustomerPayment = {
    organizationId: ctx.org.organizationId,
    paymentId: newId(ctx.state),
    paymentNumber: String(c.payment),
    customerId: inv.customerId,
    customerName: inv.customerName,
    amountMinor,
    unusedMinor: amountMinor - appliedMinor,
    precision: inv.precision,
    currencyCode: inv.currencyCode,
    date,
    paymentMode: p.paymentMode ?? 'banktransfer',
    referenceNumber: p.referenceNumber ?? '',
    ...(p.gateway ? { gateway: p.gateway } : {}),
    applications: appliedMinor > 0n ? [{ invoiceId: inv.invoiceId, invoicePaymentId: longId(), amountMinor: appliedMinor }] : [],
    createdMs: now,
    lastModifiedMs: now,
  };
  ctx.state.payments.set(payment.paymentId, payment);
  inv.paidMinor += appliedMinor;
  inv.status = balanceMinor(inv) === 0n ? 'paid' : 'partially_paid';
  inv.lastPaymentDate = date;
  touch(inv);
  return payment;
}

export function getPayment({ state, org }: OrgContext, paymentId: string): CustomerPayment {
  const p = state.payments.get(paymentId);
  if (!p || p.organizationId !== org.organizationId) throw notFound('Payment');
  return p;
}

/** `GET /invoices/{id}/payments`: one row per application of a payment to this invoice. */
export function invoicePaymentsJson(ctx: OrgContext, inv: Invoice) {
  return inOrg(ctx.state.payments, ctx.org.organizationId).flatMap((p) =>
    p.applications
      .filter((a) => a.invoiceId === inv.invoiceId)
      .map((a) => ({
        payment_id: p.paymentId,
        // Documented as an integer here (the customer payment's own answer has it as text).
        payment_number: Number(p.paymentNumber),
        invoice_id: inv.invoiceId,
        invoice_payment_id: a.invoicePaymentId,
        payment_mode: p.paymentMode,
        date: p.date,
        reference_number: p.referenceNumber,
        exchange_rate: inv.exchangeRate,
        amount: fromMinor(a.amountMinor, p.precision),
        tax_amount_withheld: 0,
        is_single_invoice_payment: p.applications.length === 1,
      })),
  );
}

/** GET /customerpayments/{id} as the contract documents it (no payment_number, unused amount or times). */
export function paymentJson(ctx: OrgContext, p: CustomerPayment) {
  return {
    payment_id: p.paymentId,
    payment_mode: p.paymentMode,
    amount: fromMinor(p.amountMinor, p.precision),
    date: p.date,
    reference_number: p.referenceNumber,
    customer_id: p.customerId,
    customer_name: p.customerName,
    currency_code: p.currencyCode,
    invoices: p.applications.map((a) => {
      const inv = ctx.state.invoices.get(a.invoiceId);
      return {
        invoice_id: a.invoiceId,
        invoice_number: inv?.invoiceNumber ?? '',
        date: inv?.date ?? '',
        invoice_amount: inv ? fromMinor(inv.totalMinor, inv.precision) : 0,
        amount_applied: fromMinor(a.amountMinor, p.precision),
        balance_amount: inv ? fromMinor(balanceMinor(inv), inv.precision) : 0,
      };
    }),
  };
}

export function listCustomerPayments(ctx: OrgContext, query: Record<string, unknown>) {
  const since = modifiedSince(query);
  const matching = inOrg(ctx.state.payments, ctx.org.organizationId).filter(
    (p) =>
      matchesId(p.customerId, query, 'customer_id') &&
      matchesId(p.referenceNumber, query, 'reference_number') &&
      matchesId(p.paymentMode, query, 'payment_mode') &&
      matchesDate(p.date, query, 'date') &&
      (!since || since(p.lastModifiedMs)),
  );
  const sorted = sortRows(
    matching,
    query,
    { created_time: (p) => p.createdMs, last_modified_time: (p) => p.lastModifiedMs, date: (p) => p.date },
    { column: 'created_time', order: 'D' },
  );
  const { rows, page_context } = paginate(sorted.rows, query);
  return {
    // A row as the contract documents it: one invoice_number, no customer or reference.
    customer_payments: rows.map((p) => ({
      payment_id: p.paymentId,
      payment_number: p.paymentNumber,
      payment_mode: p.paymentMode,
      amount: fromMinor(p.amountMinor, p.precision),
      date: p.date,
      invoice_number: p.applications.map((a) => ctx.state.invoices.get(a.invoiceId)?.invoiceNumber ?? '').join(','),
    })),
    page_context: { ...page_context, sort_column: sorted.sort_column, sort_order: sorted.sort_order },
  };
}
