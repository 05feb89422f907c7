// The root fields of Query and Mutation (graphql-js rootValue). A mutation's business failure is HTTP 200
// with `didSucceed: false` and `inputErrors` (Errors page); its subject (the business of a create, the
// invoice of approve/send/…) unknown to the token is NOT_FOUND; an ID inside the input that belongs to another
// business is `didSucceed: false` with no inputErrors (reference "Auth": both answers are Wave's).
import type { Access } from './access.js';
import { waveError } from './access.js';
import {
  Refusal,
  approveInvoice,
  createCustomer,
  createInvoice,
  createProduct,
  deleteInvoice,
  markInvoiceSent,
  patchInvoice,
  recordPayment,
  sendInvoice,
  type RecordsContext,
} from './records.js';
import type { Invoice } from './state.js';
import { businessView, customerView, invoiceView, page, paymentView, productView, type ViewContext } from './views.js';

export interface RootContext extends ViewContext {
  records: RecordsContext;
  /** Called after a mutation changed an invoice (webhook-free: tests and the control routes read state). */
  changed?: (invoice: Invoice) => void;
}

type Args = { input?: Record<string, unknown> } & Record<string, unknown>;

function outcome<T>(key: string, run: () => T) {
  try {
    const value = run();
    return { didSucceed: true, inputErrors: [], [key]: value };
  } catch (e) {
    if (e instanceof Refusal) return { didSucceed: false, inputErrors: e.inputErrors, [key]: null };
    throw e;
  }
}

function invoiceOf(ctx: RootContext, access: Access, id: unknown): { invoice: Invoice; business: ReturnType<Access['business']> } {
  const inv = typeof id === 'string' ? ctx.state.invoices.get(id) : undefined;
  const notFound = () => waveError('Invoice not found.', 'NOT_FOUND');
  if (!inv) throw notFound();
  try {
    return { invoice: inv, business: access.business(inv.businessId) };
  } catch {
    throw notFound();
  }
}

export function rootValue(ctx: RootContext) {
  const { access } = ctx;
  const input = (args: Args) => args.input ?? {};
  const touched = (inv: Invoice) => {
    ctx.changed?.(inv);
    return invoiceView(ctx, inv);
  };
  return {
    // ---- Query
    user: () => {
      access.require('user', 'read');
      const u = ctx.state.user;
      return { id: u.id, defaultEmail: u.defaultEmail, firstName: u.firstName, lastName: u.lastName, createdAt: new Date(u.createdMs).toISOString(), modifiedAt: new Date(u.createdMs).toISOString() };
    },
    businesses: (args: Args) => {
      access.require('business', 'read');
      return page(access.businesses(), args, (b) => businessView(ctx, b));
    },
    business: (args: Args) => {
      access.require('business', 'read');
      return businessView(ctx, args.id === undefined || args.id === null ? access.defaultBusiness() : access.business(args.id));
    },

    // ---- Mutation
    customerCreate: (args: Args) => {
      access.require('customer', 'write');
      const b = access.business(input(args).businessId);
      return outcome('customer', () => customerView(ctx, createCustomer(ctx.records, b, input(args))));
    },
    productCreate: (args: Args) => {
      access.require('product', 'write');
      const b = access.business(input(args).businessId);
      return outcome('product', () => productView(ctx, createProduct(ctx.records, b, input(args))));
    },
    invoiceCreate: (args: Args) => {
      access.require('invoice', 'write');
      const b = access.business(input(args).businessId);
      return outcome('invoice', () => touched(createInvoice(ctx.records, b, input(args))));
    },
    invoicePatch: (args: Args) => {
      access.require('invoice', 'write');
      const { invoice, business } = invoiceOf(ctx, access, input(args).id);
      return outcome('invoice', () => touched(patchInvoice(ctx.records, business, invoice, input(args))));
    },
    invoiceApprove: (args: Args) => {
      access.require('invoice', 'write');
      const { invoice } = invoiceOf(ctx, access, input(args).invoiceId);
      return outcome('invoice', () => touched(approveInvoice(ctx.records, invoice)));
    },
    invoiceSend: (args: Args) => {
      access.require('invoice', 'send');
      const { invoice, business } = invoiceOf(ctx, access, input(args).invoiceId);
      const result = outcome('invoice', () => {
        sendInvoice(ctx.records, business, invoice, input(args));
        ctx.changed?.(invoice);
        return null;
      });
      return { didSucceed: result.didSucceed, inputErrors: result.inputErrors };
    },
    invoiceMarkSent: (args: Args) => {
      access.require('invoice', 'write');
      const { invoice } = invoiceOf(ctx, access, input(args).invoiceId);
      return outcome('invoice', () => touched(markInvoiceSent(ctx.records, invoice, input(args))));
    },
    invoiceDelete: (args: Args) => {
      access.require('invoice', 'write');
      const { invoice } = invoiceOf(ctx, access, input(args).invoiceId);
      const result = outcome('invoice', () => {
        deleteInvoice(ctx.records, invoice);
        return null;
      });
      return { didSucceed: result.didSucceed, inputErrors: result.inputErrors };
    },
    invoicePaymentCreateManual: (args: Args) => {
      access.require('invoice', 'write');
      const { invoice, business } = invoiceOf(ctx, access, input(args).invoiceId);
      return outcome('invoicePayment', () => {
        const p = recordPayment(ctx.records, business, invoice, input(args));
        ctx.changed?.(invoice);
        return paymentView(ctx, p);
      });
    },
  };
}
