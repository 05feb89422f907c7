// In-memory doubles of the two ports, for use-case tests. Each write can be made to fail once, before
// or after it takes effect, to simulate a crash or a lost answer at that exact step.
import { permanent, retryable } from '../../src/errors.js';
import { dealIdFromTemplate, fillDealTemplate } from '../../src/sync/deal-template.js';
import type {
  AccountingInvoice,
  AccountingInvoiceDetail,
  AccountingNames,
  AccountingPayment,
  AccountingPort,
  AccountingReference,
  CrmPort,
  Customer,
  CustomerInput,
  Deal,
  DealProduct,
  DealStamp,
  FieldValue,
  InvoiceChange,
  InvoiceDraft,
  InvoiceStatus,
  Person,
  RecurringDraft,
  RecurringProfile,
} from '../../src/sync/ports.js';

type Step = 'findCustomer' | 'createCustomer' | 'findInvoice' | 'createInvoice' | 'emailInvoice' | 'getInvoice' | 'writeDealFields' | 'addDealNote' | 'createRecurring';
type Failure = { step: Step; when: 'before' | 'after'; error?: Error };

export class Faults {
  private planned: Failure[] = [];
  failOnce(step: Step, when: 'before' | 'after', error?: Error): void {
    this.planned.push({ step, when, error });
  }
  /** Runs `effect` with the planned failure for this step, if any. */
  async around<T>(step: Step, effect: () => T): Promise<T> {
    const i = this.planned.findIndex((f) => f.step === step);
    const f = i >= 0 ? this.planned.splice(i, 1)[0] : undefined;
    if (f?.when === 'before') throw f.error ?? retryable('test_unavailable', `${step} failed before taking effect`);
    const result = effect();
    if (f?.when === 'after') throw f.error ?? retryable('test_lost_answer', `${step} took effect but the answer was lost`, { uncertain: true });
    return result;
  }
}

export class MemoryCrm implements CrmPort {
  deals = new Map<number, Deal>();
  people = new Map<number, Person>();
  fieldWrites: Array<{ dealId: number; values: Array<{ fieldId: number; value: FieldValue }> }> = [];
  moves: Array<{ dealId: number; pipelineId: number; statusId: number }> = [];
  notes: Array<{ dealId: number; text: string }> = [];
  calls = 0;
  /** Fields Kommo refuses to take (a 400 naming the field, as a stale select option gets). */
  refusedFields = new Set<number>();
  constructor(readonly faults = new Faults()) {}

  private refuse(values: Array<{ fieldId: number; value: FieldValue }>): void {
    const i = values.findIndex((v) => this.refusedFields.has(v.fieldId));
    if (i >= 0) throw permanent('kommo_rejected', `Kommo rejected PATCH /leads (400 Bad Request; custom_fields_values.${i}.values.0.enum_id: The value you selected is not a valid choice.).`, { status: 400, service: 'kommo' });
  }

  async getDeal(id: number) {
    this.calls++;
    return this.deals.get(id);
  }
  async getPerson(id: number) {
    this.calls++;
    return this.people.get(id);
  }
  async writeDealFields(dealId: number, values: Array<{ fieldId: number; value: FieldValue }>) {
    this.calls++;
    this.refuse(values);
    await this.faults.around('writeDealFields', () => {
      this.fieldWrites.push({ dealId, values });
      const deal = this.deals.get(dealId);
      for (const v of values) deal?.fields.set(v.fieldId, [String(v.value)]);
    });
  }
  async moveDeal(dealId: number, to: { pipelineId: number; statusId: number }, values: Array<{ fieldId: number; value: FieldValue }>) {
    this.calls++;
    this.refuse(values);
    this.moves.push({ dealId, pipelineId: to.pipelineId, statusId: to.statusId });
    const deal = this.deals.get(dealId);
    if (deal) Object.assign(deal, { pipelineId: to.pipelineId, statusId: to.statusId });
    if (values.length) await this.writeDealFields(dealId, values);
  }
  async addDealNote(dealId: number, text: string) {
    this.calls++;
    await this.faults.around('addDealNote', () => this.notes.push({ dealId, text }));
  }
  async dealNoteTexts(dealId: number) {
    this.calls++;
    return this.notes.filter((n) => n.dealId === dealId).map((n) => n.text);
  }
  products = new Map<number, DealProduct>();
  async dealProducts(deal: Deal) {
    this.calls++;
    return deal.products.flatMap((l) => {
      const p = this.products.get(l.id);
      return p ? [{ ...p, quantity: l.quantity }] : [];
    });
  }
  async dealsInStages(stages: Array<{ pipelineId: number; statusId: number }>) {
    this.calls++;
    return [...this.deals.values()]
      .filter((d) => stages.some((s) => s.pipelineId === d.pipelineId && s.statusId === d.statusId))
      .map((d) => ({ id: d.id, pipelineId: d.pipelineId, statusId: d.statusId, updatedAt: 1764000000 }));
  }
}

/** A backend in memory: stamps the deal into the reference as KOMMO-{deal_id}, as the Zoho mapping's default does. */
export class MemoryAccounting implements AccountingPort {
  readonly names: AccountingNames = { id: 'zoho', system: 'Zoho Books', short: 'Zoho', organization: 'Books organization' };
  customers: Array<Customer & { email: string; input: CustomerInput }> = [];
  invoices: Array<AccountingInvoice & { draft: InvoiceDraft; customerId: string }> = [];
  emails: Array<{ invoiceId: string; to: string[] }> = [];
  calls: Record<string, number> = {};
  private seq = 9_834_000_000_000_000_000n;
  constructor(readonly faults = new Faults()) {}

  private count(name: string) {
    this.calls[name] = (this.calls[name] ?? 0) + 1;
  }
  private nextId() {
    this.seq += 1n;
    return this.seq.toString();
  }
  get totalCalls() {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  async findCustomerByEmail(email: string) {
    this.count('findCustomerByEmail');
    return this.faults.around('findCustomer', () => this.customers.find((c) => c.email === email.trim().toLowerCase()));
  }
  async createCustomer(input: CustomerInput) {
    this.count('createCustomer');
    return this.faults.around('createCustomer', () => {
      const c = { id: this.nextId(), name: input.name, email: input.email.toLowerCase(), input };
      this.customers.push(c);
      return c;
    });
  }
  stamp(dealId: number, generation: number): DealStamp {
    return { key: fillDealTemplate('KOMMO-{deal_id}', dealId, generation), dealId };
  }
  retainerStamp(dealId: number): DealStamp {
    return { key: fillDealTemplate('Kommo deal {deal_id}', dealId), dealId };
  }
  async findDealInvoice(stamp: DealStamp, customerId: string) {
    this.count('findDealInvoice');
    return this.faults.around('findInvoice', () => this.invoices.find((i) => i.draft.stamp.key === stamp.key && i.customerId === customerId));
  }
  async createInvoice(draft: InvoiceDraft, opts: { send: boolean }) {
    this.count('createInvoice');
    if (draft.lines.some((l) => !Number.isFinite(l.rate))) throw permanent('accounting_rejected', 'rate must be a number');
    return this.faults.around('createInvoice', () => {
      const id = this.nextId();
      const inv = { id, number: `INV-${String(this.invoices.length + 1).padStart(6, '0')}`, url: `https://books.example/secure?CInvoiceID=${id}&x=a%2Bb`, status: (opts.send ? 'open' : 'draft') as InvoiceStatus, draft, customerId: draft.customerId };
      this.invoices.push(inv);
      if (opts.send) this.emails.push({ invoiceId: id, to: [this.customers.find((c) => c.id === draft.customerId)?.email ?? '?'] });
      return { id: inv.id, number: inv.number, url: inv.url, status: inv.status, emailed: opts.send };
    });
  }
  async emailInvoice(invoiceId: string, to: string[]) {
    this.count('emailInvoice');
    await this.faults.around('emailInvoice', () => {
      this.emails.push({ invoiceId, to });
      const inv = this.invoices.find((i) => i.id === invoiceId);
      if (inv) inv.status = 'open';
    });
  }
  payments = new Map<string, AccountingPayment[]>();
  referenceData: AccountingReference = sampleReference();

  async reference() {
    this.count('reference');
    return this.referenceData;
  }

  async getInvoice(invoiceId: string): Promise<AccountingInvoiceDetail> {
    this.count('getInvoice');
    const inv = this.invoices.find((i) => i.id === invoiceId);
    if (!inv) throw permanent('accounting_not_found', 'no invoice');
    const total = inv.draft.lines.reduce((sum, l) => sum + l.rate * l.quantity, 0);
    const paid = (this.payments.get(invoiceId) ?? []).reduce((sum, p) => sum + p.amount, 0);
    return {
      id: inv.id,
      invoiceId: inv.id,
      number: inv.number,
      url: inv.url,
      status: inv.status,
      customerId: inv.customerId,
      total,
      balance: total - paid,
      currencyCode: 'EUR',
      version: `2026-11-20T10:00:00+0000|${total - paid}`,
      ...this.stampedOf(inv.draft.stamp.key),
    };
  }
  /** Records a payment the way Zoho does: the invoice becomes partially_paid or paid. */
  pay(invoiceId: string, amount: number, date = '2026-11-20') {
    const list = this.payments.get(invoiceId) ?? [];
    list.push({ paymentId: `98340000000000${String(list.length + 1).padStart(5, '0')}`, amount, date });
    this.payments.set(invoiceId, list);
    const inv = this.invoices.find((i) => i.id === invoiceId)!;
    const total = inv.draft.lines.reduce((sum, l) => sum + l.rate * l.quantity, 0);
    inv.status = list.reduce((s, p) => s + p.amount, 0) >= total ? 'paid' : 'partially_paid';
  }
  recurring: Array<RecurringProfile & { draft: RecurringDraft; active: boolean }> = [];
  async createRecurring(draft: RecurringDraft) {
    this.count('createRecurring');
    return this.faults.around('createRecurring', () => {
      if (this.recurring.some((r) => r.name === draft.name)) throw permanent('accounting_rejected', 'recurrence_name already exists');
      const r = { id: this.nextId(), name: draft.name, draft, active: true };
      this.recurring.push(r);
      return { id: r.id, name: r.name };
    });
  }
  async findRecurringByName(name: string) {
    this.count('findRecurringByName');
    const r = this.recurring.find((x) => x.name === name);
    return r ? { id: r.id, name: r.name } : undefined;
  }
  async setRecurringActive(id: string, active: boolean) {
    this.count(active ? 'resumeRecurring' : 'stopRecurring');
    const r = this.recurring.find((x) => x.id === id)!;
    r.active = active;
    return { id };
  }

  async invoicePayments(invoiceId: string) {
    this.count('invoicePayments');
    return this.payments.get(invoiceId) ?? [];
  }
  async changedInvoices(_cursor: string | undefined, _page: number, _lookbackMs: number): Promise<{ invoices: InvoiceChange[]; hasMore: boolean; next: string }> {
    this.count('changedInvoices');
    return { invoices: this.invoices.map((i) => ({ invoiceId: i.id, status: i.status, version: '2026-11-20T10:00:00+0000|0', ...this.stampedOf(i.draft.stamp.key) })), hasMore: false, next: '2026-11-20T10:00:00+0000' };
  }

  /** What the stamp in a reference says: KOMMO-{deal_id} (an invoice) or Kommo deal {deal_id} (a retainer's). */
  protected stampedOf(reference: string): Pick<InvoiceChange, 'stamped'> {
    const invoiceDeal = dealIdFromTemplate(reference, 'KOMMO-{deal_id}');
    if (invoiceDeal !== undefined) return { stamped: { dealId: String(invoiceDeal), retainer: false } };
    const retainerDeal = dealIdFromTemplate(reference, 'Kommo deal {deal_id}');
    return retainerDeal !== undefined ? { stamped: { dealId: String(retainerDeal), retainer: true } } : {};
  }
}

export function sampleDeal(overrides: Partial<Deal> = {}): Deal {
  return {
    id: 31700125,
    name: 'Аудит сайта + SEO',
    price: 4800,
    pipelineId: 7710021,
    statusId: 61234570,
    fields: new Map(),
    contacts: [{ id: 501, isMain: true }],
    products: [],
    ...overrides,
  };
}

export function samplePerson(overrides: Partial<Person> = {}): Person {
  return { id: 501, name: 'Anna Schmidt', firstName: 'Anna', lastName: 'Schmidt', emails: ['  Anna.Schmidt@Example.DE '], phones: ['+49 30 1234567'], companyName: 'Schmidt GmbH', fields: new Map(), ...overrides };
}

export function sampleReference(): AccountingReference {
  return {
    baseCurrency: 'EUR',
    currencies: [
      { id: '9834000000000000101', code: 'EUR', precision: 2, exchangeRate: 1, isBase: true },
      { id: '9834000000000000102', code: 'USD', precision: 2, exchangeRate: 0.92, isBase: false },
      { id: '9834000000000000103', code: 'GBP', precision: 2, exchangeRate: 1.17, isBase: false },
      { id: '9834000000000000104', code: 'JPY', precision: 0, exchangeRate: 0.0061, isBase: false },
      { id: '9834000000000000105', code: 'AUD', precision: 2, exchangeRate: 0.6, isBase: false },
    ],
    taxes: [
      { id: '9834000000000000201', name: 'VAT 19%', percentage: 19 },
      { id: '9834000000000000202', name: 'TVA 20%', percentage: 20 },
      { id: '9834000000000000203', name: 'UK VAT 20%', percentage: 20 },
      { id: '9834000000000000204', name: 'BTW 21%', percentage: 21 },
      { id: '9834000000000000205', name: 'GST 10%', percentage: 10 },
    ],
    exemptions: [{ id: '9834000000000000301', name: 'EU reverse charge' }],
    items: [
      { id: '9834000000000000401', name: 'SEO audit', sku: 'SEO-1', rate: 1500 },
      { id: '9834000000000000402', name: 'Hosting', sku: 'HOST-M', rate: 29.9 },
    ],
  };
}
