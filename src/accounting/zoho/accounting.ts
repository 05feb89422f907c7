// Zoho Books as the relay's accounting port: Zoho's statuses, stamps, cursor and errors turned into the
// use cases' words (src/sync/ports.ts).
import { permanent, recoded, RelayError, retryable } from '../../errors.js';
import type { Logger } from '../../log.js';
import type {
  AccountingInvoice,
  AccountingInvoiceDetail,
  AccountingPayment,
  AccountingPort,
  AccountingReference,
  ChangeCursor,
  Customer,
  CustomerInput,
  DealStamp,
  InvoiceChange,
  InvoiceDraft,
  InvoiceStatus,
  PayOnlineOffer,
  RecurringDraft,
  RecurringProfile,
} from '../../sync/ports.js';
import type { ZohoBooksClient } from './client.js';
import { ZOHO_NAMES } from './names.js';
import type { ZohoStamps } from './stamp.js';
import type { ZohoContact, ZohoCreatedInvoice, ZohoInvoice, ZohoListedContact, ZohoPaymentGateway } from './types.js';

/** Zoho Books: "The contact name already exists" (display names are unique per organization). */
const DUPLICATE_CONTACT_NAME = 3062;
/** Zoho: "Invoice number already exists" (documented for Zoho Invoice; Books answers the same in our tests). */
const DUPLICATE_INVOICE_NUMBER = 1001;

/** gateway_name's documented values (invoices.yml): what a mapping may name when the organization shows none. */
export const ZOHO_DOCUMENTED_GATEWAYS = ['paypal', 'authorize_net', 'payflow_pro', 'stripe', '2checkout', 'braintree'] as const;
/** Where online payment gateways are set up in Zoho Books. */
const GATEWAYS_SET_UP = 'Zoho Books › Settings › Online Payments';
/** Bounds on what an answer's payment_gateways may make the relay look at. */
const MOST_GATEWAYS = 20;
const GATEWAY_NAME_MAX = 50;

export class ZohoAccounting implements AccountingPort {
  readonly names = ZOHO_NAMES;

  constructor(
    private readonly client: ZohoBooksClient,
    private readonly stamps: ZohoStamps,
    private readonly log?: Logger,
  ) {}

  stamp(dealId: number, generation: number): DealStamp {
    return this.stamps.stamp(dealId, generation);
  }

  retainerStamp(dealId: number): DealStamp {
    return this.stamps.retainerStamp(dealId);
  }

  async findCustomerByEmail(email: string): Promise<Customer | undefined> {
    const wanted = email.trim().toLowerCase();
    const contacts = await this.client.findContactsByEmail(wanted);
    // Zoho's filter is a search; keep only an exact (case-insensitive) match on a contact person.
    const match = contacts.find((c) => contactEmails(c).includes(wanted));
    return match ? toCustomer(match) : undefined;
  }

  async createCustomer(input: CustomerInput): Promise<Customer> {
    const body = (name: string) => ({
      contact_name: name,
      company_name: input.companyName,
      contact_type: 'customer',
      customer_sub_type: input.companyName ? 'business' : 'individual',
      currency_id: input.currencyId,
      billing_address: input.country ? { country: countryName(input.country) } : undefined,
      ...(input.taxFields ?? {}),
      contact_persons: [
        {
          first_name: input.firstName,
          last_name: input.lastName,
          email: input.email,
          phone: input.phone,
          is_primary_contact: true,
        },
      ],
    });
    try {
      return toCustomer(await this.client.createContact(stripUndefined(body(input.name))));
    } catch (err) {
      // Two different clients may share a name; Zoho wants display names unique, so add the email.
      if (zohoCode(err) !== DUPLICATE_CONTACT_NAME) throw err;
      return toCustomer(await this.client.createContact(stripUndefined(body(`${input.name} (${input.email})`))));
    }
  }

  async findDealInvoice(stamp: DealStamp, customerId: string): Promise<AccountingInvoice | undefined> {
    const reference = stamp.key;
    const { invoices } = await this.client.listInvoices({ reference_number: reference, customer_id: customerId });
    const match = invoices.find((i) => i.reference_number === reference && i.status !== 'void');
    // The list omits invoice_url: read the invoice itself (a recovery path only, so the call is rare).
    return match ? toInvoice(await this.client.getInvoice(String(match.invoice_id))) : undefined;
  }

  async createInvoice(draft: InvoiceDraft, opts: { send: boolean }): Promise<AccountingInvoice & { emailed: boolean }> {
    const body = stripUndefined({
      ...billingBody(draft, this.stamps.customFields(draft.stamp)),
      date: draft.date,
      invoice_number: draft.invoiceNumber,
      due_date: draft.dueDate,
    });
    const { invoice } = await this.client.createInvoice(body, { send: opts.send, ignoreAutoNumber: draft.invoiceNumber !== undefined }).catch((err: unknown) => {
      if (zohoCode(err) === DUPLICATE_INVOICE_NUMBER) {
        throw permanent('invoice_number_taken', `Invoice not created: the invoice number ${draft.invoiceNumber} is already used in Zoho Books. Remove or renumber that invoice, or change invoice.number.template, then move the deal into the invoicing stage again.`);
      }
      throw neutral(err);
    });
    this.warnGateways(draft, invoice);
    // With send=true Zoho marks the invoice sent once the email went out; a draft means it did not.
    return { ...toInvoice(invoice), emailed: opts.send && invoice.status !== 'draft' };
  }

  async emailInvoice(invoiceId: string, to: string[]): Promise<void> {
    await this.client.emailInvoice(invoiceId, to).catch(rethrowNeutral);
  }

  async getInvoice(invoiceId: string): Promise<AccountingInvoiceDetail> {
    const i = await this.client.getInvoice(invoiceId).catch(rethrowNeutral);
    const customFields = Object.fromEntries((i.custom_fields ?? []).filter((f) => f.api_name).map((f) => [f.api_name!, String(f.value ?? '')]));
    const stamped = this.stamps.read({ reference: i.reference_number, customFields });
    const balance = Number(i.balance ?? 0);
    return {
      ...toInvoice(i),
      invoiceId: String(i.invoice_id),
      customerId: need(i.customer_id, 'customer_id'),
      total: Number(i.total ?? 0),
      balance,
      currencyCode: i.currency_code ?? '',
      version: zohoVersion(i.last_modified_time ?? '', balance),
      ...(i.recurring_invoice_id ? { recurringId: String(i.recurring_invoice_id) } : {}),
      ...(stamped ? { stamped } : {}),
    };
  }

  async reference(opts: { exemptions: boolean; payOnline?: boolean }): Promise<AccountingReference> {
    const currencies = await this.client.listCurrencies();
    const taxes = await this.client.listTaxes();
    const exemptions = opts.exemptions ? await this.client.listTaxExemptions() : [];
    const items = await this.client.listItems();
    const base = currencies.find((c) => c.is_base_currency);
    return {
      baseCurrency: base?.currency_code ?? currencies[0]?.currency_code ?? 'USD',
      currencies: currencies.map((c) => ({
        id: String(c.currency_id),
        code: c.currency_code,
        precision: c.price_precision ?? 2,
        exchangeRate: Number(c.exchange_rate ?? 1),
        isBase: c.is_base_currency === true,
      })),
      taxes: taxes.map((t) => ({ id: String(t.tax_id), name: t.tax_name, percentage: Number(t.tax_percentage) })),
      exemptions: exemptions.map((e) => ({ id: String(e.tax_exemption_id), name: e.tax_exemption_code ?? e.description ?? '' })),
      items: items.map((i) => ({ id: String(i.item_id), name: i.name, ...(i.sku ? { sku: i.sku } : {}), rate: Number(i.rate ?? 0) })),
      ...(opts.payOnline ? { payOnline: await this.payOnlineOffer() } : {}),
    };
  }

  /**
   * The organization's payment gateways. Zoho Books' API lists them nowhere (no settings endpoint in its
   * published contract); an invoice answer's payment_options.payment_gateways says per gateway whether it is
   * `configured`. So the latest invoice is read (GET /invoices?per_page=1, newest first, then the invoice):
   * the gateways it shows configured are what the organization has (and what `true` enables). With no invoice
   * yet, or none shown configured, the names are checked against the documented gateway names only, `true`
   * has nothing to enable, and the first invoice's answer tells (createInvoice warns of a gateway it shows
   * not configured). A gateway set up but not on the latest invoice is not seen: name it once the latest
   * invoice carries it, or create one that does in Zoho Books.
   */
  private async payOnlineOffer(): Promise<PayOnlineOffer> {
    const { invoices } = await this.client.listInvoices({ sort_column: 'created_time', sort_order: 'D', per_page: 1 });
    const latest = invoices[0] ? await this.client.getInvoice(String(invoices[0].invoice_id)) : undefined;
    const configured = gatewayNames(latest?.payment_options?.payment_gateways, (g) => g.configured === true);
    if (latest && configured.length) {
      const seen = `configured, as invoice ${latest.invoice_number ?? latest.invoice_id} shows`;
      return { available: configured.map((name) => ({ id: name, name, detail: seen })), byDefault: configured, setUp: GATEWAYS_SET_UP };
    }
    return {
      available: ZOHO_DOCUMENTED_GATEWAYS.map((name) => ({ id: name, name })),
      byDefault: [],
      setUp: GATEWAYS_SET_UP,
      unconfirmed: `Zoho Books' API does not list the organization's payment gateways, and ${latest ? 'its latest invoice shows none configured' : 'it has no invoice yet'}: the names are checked against the gateways Zoho documents (${ZOHO_DOCUMENTED_GATEWAYS.join(', ')}); the first invoice's answer shows whether they are configured (the relay logs a warning for one that is not).`,
    };
  }

  /** A gateway asked for that Zoho's answer shows missing or not configured: the invoice goes out without it. */
  private warnGateways(draft: InvoiceDraft, answer: Pick<ZohoInvoice, 'payment_options'> & { invoice_id: string }): void {
    if (!draft.payOnline?.length || !answer.payment_options) return;
    const on = gatewayNames(answer.payment_options.payment_gateways, (g) => g.configured === true);
    const off = draft.payOnline.filter((g) => !on.includes(g)).slice(0, MOST_GATEWAYS);
    if (off.length === 0) return;
    this.log?.warn(
      { invoice_id: String(answer.invoice_id), gateways: off },
      `Zoho Books did not enable ${off.join(', ')} on the invoice (not configured in the organization): the client cannot pay through ${off.length === 1 ? 'it' : 'them'}. Set ${off.length === 1 ? 'it' : 'them'} up in ${GATEWAYS_SET_UP}, or change invoice.payOnline.`,
    );
  }

  async createRecurring(draft: RecurringDraft): Promise<RecurringProfile> {
    const body = stripUndefined({
      ...billingBody(draft, this.stamps.customFields(draft.stamp)),
      recurrence_name: draft.name,
      recurrence_frequency: draft.frequency,
      repeat_every: draft.repeatEvery,
      start_date: draft.startDate,
      end_date: draft.endDate,
    });
    const r = await this.client.createRecurringInvoice(body).catch(rethrowNeutral);
    return { id: r.recurring_invoice_id, name: r.recurrence_name ?? draft.name };
  }

  async findRecurringByName(name: string): Promise<RecurringProfile | undefined> {
    const found = (await this.client.findRecurringInvoices(name)).find((r) => r.recurrence_name === name);
    return found ? { id: found.recurring_invoice_id, name } : undefined;
  }

  /** Zoho pauses and resumes the same profile: its ID stays. */
  async setRecurringActive(id: string, active: boolean): Promise<{ id: string }> {
    await this.client.setRecurringInvoiceStatus(id, active ? 'resume' : 'stop').catch(rethrowNeutral);
    return { id };
  }

  async invoicePayments(invoiceId: string): Promise<AccountingPayment[]> {
    const payments = await this.client.invoicePayments(invoiceId);
    return payments.map((p) => ({ paymentId: String(p.payment_id), amount: Number(p.amount), date: p.date }));
  }

  /** PUT /invoices/{id}: the draft's lines, terms and currency from the deal as it is now (its stamp unchanged). */
  async updateDraftInvoice(invoiceId: string, draft: InvoiceDraft): Promise<{ version: string }> {
    const body = stripUndefined({ ...billingBody(draft, this.stamps.customFields(draft.stamp)), due_date: draft.dueDate });
    const i = await this.client.updateInvoice(invoiceId, body).catch(rethrowNeutral);
    this.warnGateways(draft, i);
    return { version: zohoVersion(i.last_modified_time ?? '', Number(i.balance ?? 0)) };
  }

  /** Zoho emails a draft and marks it sent in one step: with `thenEmail` nothing to do; else "Mark as Sent". */
  async approveInvoice(invoiceId: string, opts: { thenEmail: boolean }): Promise<AccountingInvoice> {
    if (!opts.thenEmail) {
      const current = await this.client.getInvoice(invoiceId).catch(rethrowNeutral);
      if (zohoStatus(need(current.status, 'status')) === 'draft') await this.client.markInvoiceSent(invoiceId).catch(rethrowNeutral);
    }
    return toInvoice(await this.client.getInvoice(invoiceId).catch(rethrowNeutral));
  }

  async voidInvoice(invoiceId: string): Promise<void> {
    await this.client.voidInvoice(invoiceId).catch(rethrowNeutral);
  }

  /** A draft only (the use case reads the status first); one already gone is what was wanted. */
  async deleteDraftInvoice(invoiceId: string): Promise<void> {
    await this.client.deleteInvoice(invoiceId).catch((err: unknown) => {
      if (err instanceof RelayError && err.code === 'zoho_not_found') return;
      rethrowNeutral(err);
    });
  }

  /**
   * The cursor is Zoho's last_modified_time (2026-11-20T10:15:00+0000), filtered "at or after": the newest
   * time seen is the next cursor, and its invoices come again, skipped by version. Zoho writes times in the
   * organization's offset (…-0800): instants are compared, UTC is stored.
   */
  async changedInvoices(cursor: ChangeCursor | undefined, page: number, firstLookbackMs: number): Promise<{ invoices: InvoiceChange[]; hasMore: boolean; next: ChangeCursor }> {
    const since = cursor ?? zohoTime(Date.now() - firstLookbackMs);
    const { invoices, hasMore } = await this.client.listInvoices({ last_modified_time: since, sort_column: 'last_modified_time', sort_order: 'A', page, per_page: 200 });
    let next = since;
    const changes = invoices.map((i): InvoiceChange => {
      const modified = Date.parse(i.last_modified_time ?? '');
      if (Number.isFinite(modified) && modified > Date.parse(next)) next = zohoTime(modified);
      const stamped = this.stamps.read({ reference: i.reference_number, customFields: {} });
      // The list does not carry recurring_invoice_id (contract): a retainer's invoice is known by its reference.
      return { invoiceId: String(i.invoice_id), status: zohoStatus(i.status), version: zohoVersion(i.last_modified_time ?? '', Number(i.balance ?? 0)), ...(stamped ? { stamped } : {}) };
    });
    return { invoices: changes, hasMore, next };
  }
}

/** Zoho's last_modified_time format: 2026-11-20T10:15:00+0000 */
export function zohoTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}+0000`;
}

/** Two payments within one second share last_modified_time; the balance tells them apart. The format is
 *  what invoice_links.version has always held, so an upgrade does not handle a version twice. */
export function zohoVersion(lastModified: string, balance: number): string {
  return `${lastModified}|${balance}`;
}

/** Zoho's statuses (draft, pending_approval, approved, sent, viewed, overdue, unpaid, partially_paid, paid, void) in the use cases' words. */
export function zohoStatus(status: string): InvoiceStatus {
  switch (status) {
    case 'draft':
    case 'pending_approval':
    case 'approved':
      return 'draft';
    case 'paid':
    case 'partially_paid':
    case 'void':
      return status;
    default:
      return 'open';
  }
}

/** The refusals a use case reads, by neutral code; the message stays Zoho's. */
const NEUTRAL_CODES: Record<string, string> = { zoho_rejected: 'accounting_rejected', zoho_not_found: 'accounting_not_found' };

function neutral(err: unknown): unknown {
  return recoded(err, NEUTRAL_CODES);
}

function rethrowNeutral(err: unknown): never {
  throw neutral(err);
}

/** What a one-off and a recurring invoice share: customer, currency, terms, discount, tax, lines. */
function billingBody(draft: Omit<InvoiceDraft, 'invoiceNumber' | 'dueDate' | 'date'>, customFields: Array<{ api_name: string; value: string }> | undefined): Record<string, unknown> {
  const discounted = draft.discount !== undefined;
  return {
    customer_id: draft.customerId,
    reference_number: draft.stamp.key,
    currency_id: draft.currencyId,
    exchange_rate: draft.exchangeRate,
    payment_terms: draft.paymentTerms,
    payment_terms_label: draft.paymentTermsLabel,
    discount: draft.discount,
    discount_type: discounted ? 'entity_level' : undefined,
    is_discount_before_tax: discounted ? true : undefined,
    tax_exemption_id: draft.taxExemptionId,
    line_items: draft.lines.map((l) => stripUndefined({ item_id: l.itemId, name: l.name, description: l.description, rate: l.rate, quantity: l.quantity, tax_id: l.taxId })),
    custom_fields: customFields,
    // Only when asked (invoice.payOnline): other invoices are made as Zoho makes them, the body as before.
    payment_options: draft.payOnline?.length ? { payment_gateways: draft.payOnline.map((gateway_name) => ({ gateway_name })) } : undefined,
  };
}

/** The gateway names of an answer's payment_gateways that pass `keep`, once each, bounded. */
function gatewayNames(gateways: ZohoPaymentGateway[] | undefined, keep: (g: ZohoPaymentGateway) => boolean): string[] {
  const names: string[] = [];
  for (const g of (Array.isArray(gateways) ? gateways : []).slice(0, MOST_GATEWAYS * 2)) {
    const name = typeof g?.gateway_name === 'string' ? g.gateway_name.trim() : '';
    if (name && name.length <= GATEWAY_NAME_MAX && keep(g) && !names.includes(name) && names.length < MOST_GATEWAYS) names.push(name);
  }
  return names;
}

/** A row of GET /contacts carries the primary contact person's email only (the list has no contact_persons). */
function contactEmails(c: ZohoListedContact): string[] {
  return c.email ? [c.email.trim().toLowerCase()] : [];
}

function toCustomer(c: ZohoContact | ZohoListedContact): Customer {
  return { id: String(c.contact_id), name: c.contact_name, currencyCode: c.currency_code };
}

function toInvoice(i: ZohoInvoice | ZohoCreatedInvoice): AccountingInvoice {
  const status = need(i.status, 'status');
  // "approved": a person approved the draft in Zoho's approval step; it is still a draft until sent.
  return { id: String(i.invoice_id), number: need(i.invoice_number, 'invoice_number'), url: i.invoice_url ?? '', status: zohoStatus(status), ...(status === 'approved' ? { approved: true } : {}) };
}

/** A property of an invoice answer the relay cannot do without (the contract marks all of them optional). */
function need(value: string | undefined, property: string): string {
  if (value === undefined || value === null || value === '') throw retryable('zoho_bad_response', `Zoho Books answered an invoice without ${property}.`, { service: 'zoho' });
  return String(value);
}

function zohoCode(err: unknown): number | undefined {
  if (!(err instanceof RelayError)) return undefined;
  const cause = err.cause as { code?: unknown } | undefined;
  return typeof cause?.code === 'number' ? cause.code : undefined;
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
}

/** Zoho's billing address wants a country name; the relay works in ISO codes. */
function countryName(code: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}
