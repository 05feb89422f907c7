// Xero as the relay's accounting port: contacts, sales invoices (ACCREC), their emails and online links,
// payments, repeating invoices and the change cursor, in the use cases' words (src/sync/ports.ts). Every
// write carries an Idempotency-Key derived from the use case's intent record; after an answer that may have
// been acted on, the use case looks the record up by its Reference (the deal stamp).
import { createHash } from 'node:crypto';
import { ConfigError } from '../../config/config-error.js';
import { permanent, recoded, RelayError, retryable } from '../../errors.js';
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
  InvoiceLine,
  InvoiceStatus,
  PayOnlineOffer,
  RecurringDraft,
  RecurringProfile,
  WriteOptions,
} from '../../sync/ports.js';
import type { XeroClient } from './client.js';
import { parseXeroDate, xeroDay } from './dates.js';
import { xeroIdempotencyKey } from './idempotency.js';
import { xeroSchedule, type XeroMappingSection } from './mapping.js';
import { XERO_NAMES } from './names.js';
import { xeroNotConnected } from './oauth.js';
import type { XeroStamps } from './stamp.js';
import type * as T from './types.js';

/** Xero's answer to a second active contact with the same Name (the OAS's own 400 example). */
const DUPLICATE_NAME = /is already assigned to another contact/i;
const DUPLICATE_NUMBER = /Invoice # must be unique/i;
/** Xero keeps ContactNumber to 50 characters. */
const MAX_CONTACT_NUMBER = 50;
/** Xero keeps amounts to two decimals in every currency. */
const XERO_PRECISION = 2;
/** Branding themes whose payment services are read (one call each, at start-up and refresh): organisations have a few. */
export const MAX_PAY_ONLINE_THEMES = 25;
/** Where a person lets clients pay online in Xero: a payment service chosen for a branding theme. */
export const XERO_PAY_ONLINE_SET_UP = "Xero's Settings › Invoice settings (a branding theme's Payment services; connect Stripe, PayPal or another service first)";

/** What the mapping's `xero` section names, resolved against the organisation. */
interface Resolved {
  accountCode: string;
  brandingThemeId?: string;
}

export class XeroAccounting implements AccountingPort {
  readonly names = XERO_NAMES;
  private resolved: { tenantId: string | undefined; settings: Promise<Resolved> } | undefined;

  constructor(
    private readonly client: XeroClient,
    private readonly stamps: XeroStamps,
    private readonly section: XeroMappingSection,
    /** The organisation calls go to, and whether Xero is connected at all (which error a job waits on). */
    private readonly connection: { tenantId: () => string | undefined; readonly connected: boolean },
    private readonly today: () => string = () => xeroDay(Date.now()),
  ) {}

  /** A refusal in the use cases' words; no organisation because Xero is not connected at all is `xero_not_connected`. */
  private readonly neutral = (err: unknown): unknown => (err instanceof RelayError && err.code === 'xero_no_tenant' && !this.connection.connected ? xeroNotConnected() : neutral(err));
  private readonly fail = (err: unknown): never => {
    throw this.neutral(err);
  };

  stamp(dealId: number, generation: number): DealStamp {
    return this.stamps.stamp(dealId, generation);
  }

  retainerStamp(dealId: number): DealStamp {
    return this.stamps.retainerStamp(dealId);
  }

  // ---- Customers ----

  async findCustomerByEmail(email: string): Promise<Customer | undefined> {
    const contacts = await this.client.findContactsByEmail(email).catch(this.fail);
    // Emails are not unique in Xero: prefer a customer, then the first.
    const match = contacts.find((c) => c.IsCustomer) ?? contacts[0];
    return match ? toCustomer(match) : undefined;
  }

  async createCustomer(input: CustomerInput, opts: WriteOptions = {}): Promise<Customer> {
    const contact = (name: string): T.XeroContactInput =>
      stripUndefined({
        Name: name,
        EmailAddress: input.email,
        ContactNumber: input.externalId && input.externalId.length <= MAX_CONTACT_NUMBER ? input.externalId : undefined,
        FirstName: input.firstName,
        LastName: input.lastName,
        // The currency new invoices default to in Xero's screens; Xero invoices a contact in any enabled currency.
        DefaultCurrency: input.currencyId as T.XeroContactInput['DefaultCurrency'],
        Addresses: input.country ? [{ AddressType: 'STREET', Country: countryName(input.country) }] : undefined,
        Phones: input.phone ? [{ PhoneType: 'DEFAULT', PhoneNumber: input.phone }] : undefined,
      });
    const key = writeKey(opts, 'contact', input.externalId ?? input.email, contact(input.name));
    try {
      return toCustomer(await this.client.createContact(contact(input.name), key));
    } catch (err) {
      // Two clients may share a name; Xero wants active contacts' names unique, so add the email (a new
      // body, so a key of its own: Xero refuses a key sent again with another body).
      if (!(err instanceof RelayError && err.code === 'xero_rejected' && DUPLICATE_NAME.test(err.message))) throw this.neutral(err);
      const named = contact(`${input.name} (${input.email})`);
      return toCustomer(await this.client.createContact(named, writeKey(opts, 'contact', input.externalId ?? input.email, named)).catch(this.fail));
    }
  }

  // ---- Invoices ----

  async findDealInvoice(stamp: DealStamp, customerId: string): Promise<AccountingInvoice | undefined> {
    const found = await this.client.findInvoicesByReference(stamp.key).catch(this.fail);
    const match = found.find((i) => i.Status !== 'VOIDED' && i.Status !== 'DELETED' && (!i.Contact?.ContactID || sameId(i.Contact.ContactID, customerId)));
    return match ? this.toInvoice(match) : undefined;
  }

  /**
   * Xero emails an invoice in a call of its own (capabilities.emailOnCreate is false): `send` creates it
   * AUTHORISED (approved, with an online link) for the use case to email next; otherwise it stays a DRAFT.
   */
  async createInvoice(draft: InvoiceDraft, opts: { send: boolean } & WriteOptions): Promise<AccountingInvoice & { emailed: boolean }> {
    const { accountCode, brandingThemeId } = await this.settings().catch(this.fail);
    const date = draft.date ?? this.today();
    const invoice: T.XeroInvoiceInput = stripUndefined({
      Type: 'ACCREC' as const,
      Contact: { ContactID: draft.customerId },
      LineItems: lineItems(draft, accountCode),
      Date: date,
      DueDate: draft.dueDate ?? addDays(date, draft.paymentTerms ?? 0),
      LineAmountTypes: this.section.lineAmountTypes,
      CurrencyCode: draft.currencyId as T.XeroInvoiceInput['CurrencyCode'],
      InvoiceNumber: draft.invoiceNumber,
      Reference: draft.stamp.key,
      // invoice.payOnline: the branding theme whose payment services the online invoice offers.
      BrandingThemeID: payOnlineTheme(draft) ?? brandingThemeId,
      Status: opts.send ? ('AUTHORISED' as const) : ('DRAFT' as const),
    });
    const created = await this.client.createInvoice(invoice, writeKey(opts, 'invoice', draft.stamp.key, invoice)).catch((err: unknown) => {
      if (err instanceof RelayError && err.code === 'xero_rejected' && DUPLICATE_NUMBER.test(err.message)) {
        throw permanent(
          'invoice_number_taken',
          `Invoice not created: the invoice number ${draft.invoiceNumber} is already used in Xero. Remove or renumber that invoice, or change invoice.number.template, then move the deal into the invoicing stage again.`,
        );
      }
      throw this.neutral(err);
    });
    // The invoice exists now: a failure to read its link must not let the next attempt create it again.
    const made = await this.toInvoice(created).catch((err: unknown) => {
      const e = this.neutral(err);
      throw e instanceof RelayError ? new RelayError('retryable', e.code, `Invoice ${created.InvoiceNumber ?? created.InvoiceID} was created in Xero, but its link could not be read: ${e.message}`, { cause: e, uncertain: true, service: 'xero' }) : e;
    });
    return { ...made, emailed: false };
  }

  /**
   * Xero emails the invoice to the contact's email address (and its contact persons marked for emails) with
   * the organisation's template: it takes no recipients, so `to` is not used. The idempotency key makes a
   * resend within Xero's window (minutes) the same send.
   */
  async emailInvoice(invoiceId: string, _to: string[], opts: WriteOptions = {}): Promise<void> {
    await this.client.emailInvoice(invoiceId, writeKey(opts, 'email', invoiceId, {})).catch(this.fail);
  }

  async getInvoice(invoiceId: string): Promise<AccountingInvoiceDetail> {
    const i = await this.client.getInvoice(invoiceId).catch(this.fail);
    const stamped = this.stamps.read({ reference: i.Reference });
    const payments = embeddedPayments(i.Payments);
    return {
      id: i.InvoiceID,
      invoiceId: i.InvoiceID,
      number: i.InvoiceNumber ?? i.InvoiceID,
      // The online link costs a call of its own; the deal got it when the invoice was created.
      url: '',
      status: xeroStatus(i),
      sent: i.SentToContact === true,
      customerId: need(i.Contact?.ContactID, 'Contact.ContactID'),
      total: Number(i.Total ?? 0),
      balance: Number(i.AmountDue ?? 0),
      currencyCode: i.CurrencyCode ?? '',
      version: xeroVersion(i),
      ...(i.RepeatingInvoiceID && !isZeroGuid(i.RepeatingInvoiceID) ? { recurringId: i.RepeatingInvoiceID } : {}),
      ...(stamped ? { stamped } : {}),
      ...(payments ? { payments } : {}),
    };
  }

  async invoicePayments(invoiceId: string): Promise<AccountingPayment[]> {
    const payments = await this.client.invoicePayments(invoiceId).catch(this.fail);
    // A deleted payment no longer counts (and reopened the invoice).
    return payments.filter((p) => p.Status !== 'DELETED').map((p) => ({ paymentId: p.PaymentID, amount: Number(p.Amount), date: day(p.Date) }));
  }

  // ---- Reference data ----

  /**
   * The organisation's base currency, its enabled currencies, and the tax rates that apply to sales (each
   * by its TaxType, which a tax rule may name as well as its Name; NONE for a "none" rule). Xero has no tax exemptions, and the
   * lines are free text on the mapping's account, so no items. The mapping's account and branding theme
   * are checked here too, so a wrong one stops start-up. `payOnline`: also the branding themes that have a
   * payment service (payOnlineOffer).
   */
  async reference(opts: { exemptions: boolean; payOnline?: boolean }): Promise<AccountingReference> {
    const org = await this.client.organisation().catch(this.fail);
    const currencies = await this.client.currencies().catch(this.fail);
    const rates = await this.client.taxRates().catch(this.fail);
    this.resolved = undefined;
    await this.settings();
    const base = org.BaseCurrency ?? currencies[0]?.Code ?? 'USD';
    const codes = [...new Set([base, ...currencies.map((c) => c.Code as string)])];
    const taxes = rates
      .filter((r) => (r.Status === undefined || r.Status === 'ACTIVE') && r.CanApplyToRevenue !== false)
      .map((r) => ({ id: r.TaxType, name: r.Name, percentage: Number(r.EffectiveRate ?? 0), code: r.TaxType }));
    const payOnline = opts.payOnline ? await this.payOnlineOffer() : undefined;
    return {
      baseCurrency: base,
      currencies: codes.map((code) => ({ id: code, code, precision: XERO_PRECISION, exchangeRate: 1, isBase: code === base })),
      taxes,
      exemptions: [],
      items: [],
      // A line without a TaxType gets its account's default rate: a "none" rule names Xero's NONE instead.
      ...(taxes.some((t) => t.id === 'NONE') ? { noTaxId: 'NONE' } : {}),
      ...(payOnline ? { payOnline } : {}),
    };
  }

  /**
   * A Xero invoice is payable online through the payment services (Stripe, PayPal, a custom one…) of its
   * branding theme, and has one theme: the offer is the themes with at least one service, in Xero's order
   * (SortOrder); `true` takes the mapping's xero.brandingTheme when it has one, else the first. Reading a
   * theme's services needs the `paymentservices` scope (a restricted one, not in the default XERO_SCOPES):
   * refused, the themes are all offered by name, unchecked (`unconfirmed`), and `true` cannot be met.
   */
  private async payOnlineOffer(): Promise<PayOnlineOffer> {
    const themes = [...(await this.client.brandingThemes().catch(this.fail))].sort((a, b) => (a.SortOrder ?? 0) - (b.SortOrder ?? 0));
    const read = themes.slice(0, MAX_PAY_ONLINE_THEMES);
    const notes = themes.length > read.length ? [`only the first ${read.length} of the organisation's ${themes.length} branding themes (in Xero's order) were read`] : [];
    const available: PayOnlineOffer['available'] = [];
    for (const theme of read) {
      let services: T.XeroPaymentService[];
      try {
        services = await this.client.brandingThemePaymentServices(theme.BrandingThemeID);
      } catch (err) {
        if (!scopeRefused(err)) throw this.neutral(err);
        return {
          available: read.map((t) => ({ id: t.BrandingThemeID, name: t.Name, detail: 'payment services not read' })),
          byDefault: [],
          most: 1,
          setUp: `${XERO_PAY_ONLINE_SET_UP}; the relay could not read which themes have one: ${PAYMENT_SERVICES_SCOPE_HINT}`,
          unconfirmed: [
            `Xero refused to list the branding themes' payment services (${err instanceof RelayError && err.status ? err.status : 'refused'}: the connection lacks the paymentservices scope), so which theme has one is not known: a theme named in invoice.payOnline goes on invoices unchecked, and true cannot be met. To have them read, ${PAYMENT_SERVICES_SCOPE_HINT}`,
            ...notes,
          ].join('; '),
        };
      }
      const names = [...new Set(services.map((p) => (p.PaymentServiceName ?? p.PaymentServiceType ?? '').trim()).filter(Boolean))];
      if (services.length > 0) available.push({ id: theme.BrandingThemeID, name: theme.Name, detail: names.join(', ') || `${services.length} payment service${services.length === 1 ? '' : 's'}` });
    }
    const wanted = this.section.brandingTheme?.toLowerCase();
    const mapped = wanted === undefined ? undefined : available.find((a) => a.id.toLowerCase() === wanted || a.name.trim().toLowerCase() === wanted);
    const first = mapped ?? available[0];
    return { available, byDefault: first ? [first.id] : [], most: 1, setUp: XERO_PAY_ONLINE_SET_UP, ...(notes.length ? { unconfirmed: notes.join('; ') } : {}) };
  }

  /** The mapping's account and branding theme, resolved once per organisation. */
  private settings(): Promise<Resolved> {
    const tenantId = this.connection.tenantId();
    if (!this.resolved || this.resolved.tenantId !== tenantId) {
      const settings = this.resolve();
      this.resolved = { tenantId, settings };
      settings.catch(() => {
        if (this.resolved?.settings === settings) this.resolved = undefined;
      });
    }
    return this.resolved.settings;
  }

  private async resolve(): Promise<Resolved> {
    const accounts = await this.client.accounts().catch(this.fail);
    const problems: string[] = [];
    const revenue = accounts.filter((a) => a.Code && (a.Status === undefined || a.Status === 'ACTIVE') && (a.Class === 'REVENUE' || a.Type === 'REVENUE' || a.Type === 'SALES'));
    const list = revenue.map((a) => `${a.Code} (${a.Name ?? ''})`).join(', ') || 'none';
    let accountCode: string | undefined;
    if (this.section.salesAccountCode) {
      accountCode = revenue.find((a) => a.Code === this.section.salesAccountCode)?.Code;
      if (!accountCode) problems.push(`MAPPING_FILE xero.salesAccountCode: '${this.section.salesAccountCode}' is not an active revenue account of the Xero organisation. Revenue accounts: ${list}`);
    } else {
      const sales = revenue.filter((a) => a.Name?.trim().toLowerCase() === 'sales');
      if (sales.length === 1) accountCode = sales[0]!.Code;
      else problems.push(`MAPPING_FILE xero.salesAccountCode: is required because the Xero organisation has ${sales.length === 0 ? 'no' : 'several'} revenue account named "Sales". Set it to the code of the account invoices go to; revenue accounts: ${list}`);
    }
    let brandingThemeId: string | undefined;
    const wanted = this.section.brandingTheme;
    if (wanted) {
      const themes = await this.client.brandingThemes().catch(this.fail);
      const theme = themes.find((t) => sameId(t.BrandingThemeID, wanted)) ?? themes.find((t) => t.Name.trim().toLowerCase() === wanted.toLowerCase());
      if (theme) brandingThemeId = theme.BrandingThemeID;
      else problems.push(`MAPPING_FILE xero.brandingTheme: no branding theme named or with the ID '${wanted}' in the Xero organisation. Themes: ${themes.map((t) => `'${t.Name}' (${t.BrandingThemeID})`).join(', ') || 'none'}`);
    }
    if (problems.length) throw new ConfigError(problems);
    return { accountCode: accountCode!, ...(brandingThemeId ? { brandingThemeId } : {}) };
  }

  // ---- Repeating invoices ----

  async createRecurring(draft: RecurringDraft, opts: WriteOptions = {}): Promise<RecurringProfile> {
    const { accountCode, brandingThemeId } = await this.settings().catch(this.fail);
    const schedule = xeroSchedule(draft.frequency, draft.repeatEvery);
    if (typeof schedule === 'string') {
      throw permanent('recurrence_unsupported', `Recurring invoice not created: ${schedule} Change the deal's billing schedule, then move it into the retainer stage again.`);
    }
    const template: T.XeroRepeatingInvoiceInput = stripUndefined({
      Type: 'ACCREC' as const,
      Contact: { ContactID: draft.customerId },
      LineItems: lineItems(draft, accountCode),
      Reference: draft.stamp.key,
      CurrencyCode: draft.currencyId as T.XeroRepeatingInvoiceInput['CurrencyCode'],
      LineAmountTypes: this.section.lineAmountTypes,
      BrandingThemeID: payOnlineTheme(draft) ?? brandingThemeId,
      // Approved and emailed as each one is generated, as a Zoho recurring profile does.
      Status: 'AUTHORISED' as const,
      ApprovedForSending: true,
      MarkAsSent: true,
      IncludePDF: true,
      Schedule: stripUndefined({
        Unit: schedule.unit,
        Period: schedule.period,
        DueDate: draft.paymentTerms ?? 0,
        DueDateType: 'DAYSAFTERBILLDATE' as const,
        StartDate: draft.startDate,
        EndDate: draft.endDate,
      }),
    });
    const r = await this.client.createRepeatingInvoice(template, writeKey(opts, 'repeating', draft.stamp.key, template)).catch(this.fail);
    return { id: r.RepeatingInvoiceID, name: r.Reference ?? draft.name };
  }

  /** The retainer's live template: its Reference is the retainer's name (deleted templates stay listed). */
  async findRecurringByName(name: string): Promise<RecurringProfile | undefined> {
    const found = (await this.client.findRepeatingInvoicesByReference(name).catch(this.fail)).find((r) => r.Status !== 'DELETED');
    return found ? { id: found.RepeatingInvoiceID, name } : undefined;
  }

  /**
   * Xero cannot pause a template: stopping deletes it, resuming creates a new one from the deal as it is now
   * (`draft`), whose ID the use case writes on the deal. A resume whose answer was lost finds that template
   * by its Reference instead of creating a second.
   */
  async setRecurringActive(id: string, active: boolean, opts: WriteOptions & { draft?: () => Promise<RecurringDraft> } = {}): Promise<{ id: string }> {
    if (!active) {
      await this.client.deleteRepeatingInvoice(id, writeKey(opts, 'repeating-stop', id, {})).catch((err: unknown) => {
        // Deleted by hand meanwhile: stopped all the same.
        if (!(err instanceof RelayError && err.code === 'xero_not_found')) throw this.neutral(err);
      });
      return { id };
    }
    if (!opts.draft) throw new Error('Xero cannot resume a repeating invoice without the draft of a new one');
    const draft = await opts.draft();
    const live = (await this.client.findRepeatingInvoicesByReference(draft.stamp.key).catch(this.fail)).filter((r) => r.Status !== 'DELETED');
    const kept = live.find((r) => sameId(r.RepeatingInvoiceID, id)) ?? live[0];
    if (kept) return { id: kept.RepeatingInvoiceID };
    return { id: (await this.createRecurring(draft, { idempotencyKey: opts.idempotencyKey ?? `relay:repeating-resume:${id}` })).id };
  }

  // ---- Changes ----

  /**
   * The cursor is the newest UpdatedDateUTC seen (ISO 8601, UTC). Xero answers If-Modified-Since with what
   * changed after it, to the second: the cursor is sent a second early, so what changed at the cursor's own
   * time comes again ("at or after") and the reconciler skips it by its version.
   */
  async changedInvoices(cursor: ChangeCursor | undefined, page: number, firstLookbackMs: number): Promise<{ invoices: InvoiceChange[]; hasMore: boolean; next: ChangeCursor }> {
    const parsed = cursor !== undefined ? Date.parse(cursor) : Number.NaN;
    const sinceMs = Number.isFinite(parsed) ? parsed : Date.now() - firstLookbackMs;
    const { invoices, hasMore } = await this.client.listInvoicesModifiedSince(sinceMs - 1000, { page, pageSize: 100 }).catch(this.fail);
    let nextMs = sinceMs;
    const changes = invoices.map((i): InvoiceChange => {
      const updated = parseXeroDate(i.UpdatedDateUTC);
      if (updated !== undefined && updated > nextMs) nextMs = updated;
      const stamped = this.stamps.read({ reference: i.Reference });
      return {
        invoiceId: i.InvoiceID,
        status: xeroStatus(i),
        version: xeroVersion(i),
        ...(i.RepeatingInvoiceID && !isZeroGuid(i.RepeatingInvoiceID) ? { recurringId: i.RepeatingInvoiceID } : {}),
        ...(stamped ? { stamped } : {}),
      };
    });
    return { invoices: changes, hasMore, next: new Date(nextMs).toISOString() };
  }

  /** An invoice in the use cases' words; the online link of an approved one (a draft has none: its link in Xero's app). */
  /** Status VOIDED: an approved invoice without payments (Xero refuses one with payments). */
  async voidInvoice(invoiceId: string, opts: WriteOptions = {}): Promise<void> {
    const current = await this.client.getInvoice(invoiceId).catch(this.fail);
    if (current.Status === 'VOIDED') return;
    await this.client.voidInvoice(invoiceId, writeKey(opts, 'void', invoiceId, {})).catch(this.fail);
  }

  /** Status DELETED: a draft (DRAFT or SUBMITTED). One deleted already is what was wanted. */
  async deleteDraftInvoice(invoiceId: string, opts: WriteOptions = {}): Promise<void> {
    const current = await this.client.getInvoice(invoiceId).catch(this.fail);
    if (current.Status === 'DELETED') return;
    await this.client.deleteInvoice(invoiceId, writeKey(opts, 'delete', invoiceId, {})).catch(this.fail);
  }

  /** Lines, currency and due date from the deal as it is now (a draft: DRAFT or SUBMITTED). */
  async updateDraftInvoice(invoiceId: string, draft: InvoiceDraft, opts: WriteOptions = {}): Promise<{ version: string }> {
    const { accountCode } = await this.settings().catch(this.fail);
    const current = await this.client.getInvoice(invoiceId).catch(this.fail);
    const date = current.Date ? day(current.Date) : this.today();
    const changes = stripUndefined({
      LineItems: lineItems(draft, accountCode),
      LineAmountTypes: this.section.lineAmountTypes,
      CurrencyCode: draft.currencyId as T.XeroInvoiceInput['CurrencyCode'],
      DueDate: draft.dueDate ?? addDays(date, draft.paymentTerms ?? 0),
      // Only when invoice.payOnline asks: otherwise the theme the draft has (perhaps a person's choice) stays.
      BrandingThemeID: payOnlineTheme(draft),
    });
    const updated = await this.client.updateDraftInvoice(invoiceId, changes, writeKey(opts, 'update', invoiceId, changes)).catch(this.fail);
    return { version: xeroVersion(updated) };
  }

  /** Status AUTHORISED (Xero emails only approved invoices, so always, `thenEmail` or not); its online link. */
  async approveInvoice(invoiceId: string, opts: { thenEmail: boolean } & WriteOptions): Promise<AccountingInvoice> {
    const current = await this.client.getInvoice(invoiceId).catch(this.fail);
    const approved = current.Status === 'DRAFT' || current.Status === 'SUBMITTED' ? await this.client.setInvoiceStatus(invoiceId, 'AUTHORISED', writeKey(opts, 'approve', invoiceId, {})).catch(this.fail) : current;
    return this.toInvoice(approved);
  }

  private async toInvoice(i: T.XeroInvoice): Promise<AccountingInvoice> {
    const status = xeroStatus(i);
    const url = status === 'draft' || status === 'void' ? xeroAppLink(i.InvoiceID) : ((await this.client.onlineInvoiceUrl(i.InvoiceID).catch(this.fail)) ?? xeroAppLink(i.InvoiceID));
    return { id: i.InvoiceID, number: need(i.InvoiceNumber, 'InvoiceNumber'), url, status, sent: i.SentToContact === true };
  }
}

/** Xero's statuses in the use cases' words; an approved invoice with money paid is partially paid. */
export function xeroStatus(i: Pick<T.XeroInvoice, 'Status' | 'AmountPaid'>): InvoiceStatus {
  switch (i.Status) {
    case 'DRAFT':
    case 'SUBMITTED':
      return 'draft';
    case 'PAID':
      return 'paid';
    case 'VOIDED':
    case 'DELETED':
      return 'void';
    default:
      return Number(i.AmountPaid ?? 0) > 0 ? 'partially_paid' : 'open';
  }
}

/** Changes with the invoice: its UpdatedDateUTC (a payment moves it too) and, to tell apart two in one moment, AmountPaid. */
export function xeroVersion(i: Pick<T.XeroInvoice, 'UpdatedDateUTC' | 'AmountPaid'>): string {
  const at = parseXeroDate(i.UpdatedDateUTC);
  return `${at !== undefined ? new Date(at).toISOString() : (i.UpdatedDateUTC ?? '')}|${Number(i.AmountPaid ?? 0)}`;
}

/** What a person does when Xero will not show the themes' payment services to the relay. */
const PAYMENT_SERVICES_SCOPE_HINT =
  'add paymentservices to XERO_SCOPES and reconnect Xero on /connect/xero (Xero grants this scope only to apps it has allowed to use it)';

/** The branding theme invoice.payOnline chose (Xero: one per invoice); undefined: the invoice gets the usual one. */
const payOnlineTheme = (draft: Pick<InvoiceDraft, 'payOnline'>): string | undefined => draft.payOnline?.[0];

/** Xero's answer to a token without the scope an operation needs: 401 (AuthorizationUnsuccessful), or a 403. */
const scopeRefused = (err: unknown): boolean => err instanceof RelayError && (err.code === 'xero_unauthorized' || err.code === 'xero_forbidden');

/** The invoice in Xero's own app (people of the organisation; the customer's link is the online invoice). */
const xeroAppLink = (invoiceId: string) => `https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID=${invoiceId}`;

/** The lines as Xero takes them: free text on the mapping's revenue account; a discount is a line of its own. */
function lineItems(draft: Pick<InvoiceDraft, 'lines' | 'discount'>, accountCode: string): T.XeroLineItemInput[] {
  const lines = draft.lines.map((l) => lineItem(l, accountCode));
  if (draft.discount) {
    // Xero has no discount on the whole invoice: a negative line before tax, taxed as the lines are.
    const taxType = draft.lines.find((l) => l.taxId)?.taxId;
    lines.push(stripUndefined({ Description: 'Discount', Quantity: 1, UnitAmount: -draft.discount, AccountCode: accountCode, TaxType: taxType }));
  }
  return lines;
}

function lineItem(l: InvoiceLine, accountCode: string): T.XeroLineItemInput {
  return stripUndefined({
    Description: l.description ? `${l.name}\n${l.description}` : l.name,
    Quantity: l.quantity,
    UnitAmount: l.rate,
    AccountCode: accountCode,
    TaxType: l.taxId,
  });
}

/**
 * The Idempotency-Key of a write: the use case's (derived from its intent record, so a retry after a crash or
 * a lost answer sends the same key) joined with a digest of the body. Xero answers a key sent again with
 * another body with a 400, and replays a refusal for minutes: a write refused, then corrected (the deal
 * fixed) and sent again is a new write with a key of its own, while a resend of the same write is the same
 * one. Without a key from the use case, one from the write itself. Long keys become a hash (128 at most).
 */
function writeKey(opts: WriteOptions, what: string, subject: string, body: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 16);
  return opts.idempotencyKey ? xeroIdempotencyKey(opts.idempotencyKey, digest) : xeroIdempotencyKey('relay', what, subject, digest);
}

function toCustomer(c: T.XeroContact): Customer {
  // Xero invoices a contact in any currency the organisation has enabled (DefaultCurrency is only a default).
  return { id: c.ContactID, name: c.Name ?? c.ContactID, anyCurrency: true };
}

const sameId = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const isZeroGuid = (id: string) => /^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(id);

/**
 * The payments GET /Invoices/{InvoiceID} carries (Invoice.Payments in the contract), when every one has what a
 * note needs (PaymentID, Amount, Date); otherwise undefined and the payments are asked with GET /Payments. A
 * deleted payment (Xero lists only applied ones there; a Status DELETED, if present, is dropped) no longer counts.
 */
export function embeddedPayments(list: T.XeroInvoice['Payments']): AccountingPayment[] | undefined {
  if (!Array.isArray(list)) return undefined;
  const payments: AccountingPayment[] = [];
  for (const p of list) {
    const date = day(p.Date);
    if (!p.PaymentID || typeof p.Amount !== 'number' || !Number.isFinite(p.Amount) || !date) return undefined;
    if (p.Status === 'DELETED') continue;
    payments.push({ paymentId: p.PaymentID, amount: p.Amount, date });
  }
  return payments;
}

/** YYYY-MM-DD of a Xero date. */
function day(value: string | undefined): string {
  const ms = parseXeroDate(value);
  return ms !== undefined ? xeroDay(ms) : '';
}

function addDays(date: string, days: number): string {
  return xeroDay(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000);
}

/** A property of an answer the relay cannot do without (the contract marks all of them optional). */
function need(value: string | undefined, property: string): string {
  if (value === undefined || value === null || value === '') throw retryable('xero_bad_response', `Xero answered an invoice without ${property}.`, { service: 'xero' });
  return String(value);
}

/** The refusals a use case reads, by neutral code; the message stays Xero's. */
const NEUTRAL_CODES: Record<string, string> = { xero_rejected: 'accounting_rejected', xero_not_found: 'accounting_not_found' };

function neutral(err: unknown): unknown {
  if (err instanceof ConfigError) return permanent('accounting_mapping', `${err.problems.join(' ')} Fix the mapping file and restart the relay.`);
  return recoded(err, NEUTRAL_CODES);
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
}

/** Xero's address Country is free text: the country's English name reads best on the invoice. */
function countryName(code: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}
