// One neutral world over each accounting backend's fake (Zoho Books, Xero) and the fake Kommo, with the relay
// started in-process on a real SQLite file: the issue 18 suites (lost deals, review, pay online) run the same
// test against every backend with `describe.each(BACKENDS)`. Each backend's own state is read through the
// fake's state, turned into the same words (invoice status, recurring status). Closing checks 0 contract
// violations and machine-readable log lines with no secret in them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { parseEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { startRelay, type Relay } from '../../src/relay.js';
import { createFakeKommo, type FakeKommo } from '../../sandbox/kommo/server.js';
import { ADMIN_TOKEN, ENCRYPTION_KEY, startScenario, WEBHOOK_SECRET as SCENARIO_SECRET, type Scenario } from '../../sandbox/scenario.js';
import { xeroBooks } from '../../sandbox/books/xero.js';
import { createFakeXero, type FakeXero } from '../../sandbox/xero/server.js';
import { waitFor } from './e2e.js';
import { logLineProblems } from './log-lines.js';
import { startLossyProxy, type LossyProxy } from './lossy-proxy.js';
import { tempDir } from './tmp.js';

export const BACKENDS = ['zoho', 'xero'] as const;
export type BackendId = (typeof BACKENDS)[number];
export { ADMIN_TOKEN };

/** Kommo's "Closed - lost", in every pipeline. */
export const LOST = 143;

export type BookStatus = 'draft' | 'open' | 'partially_paid' | 'paid' | 'void' | 'deleted';

export interface BookInvoice {
  id: string;
  status: BookStatus;
  total: number;
}

export interface World {
  backend: BackendId;
  kommo: FakeKommo;
  relay: Relay;
  logs: string[];
  /** The relay's environment, for the CLI (`relay deal <id>`) as an operator runs it beside the relay. */
  env: Record<string, string>;
  /** `approval`: "Invoice approved", a stage a mapping may name in invoice.review.approvalStages. */
  stages: { incoming: number; invoice: number; approval: number; retainer: number; lost: number };
  fields: { invoiceId: number; invoiceUrl: number; recurringId: number };
  addDeal(o?: { price?: number; name?: string }): number;
  move(dealId: number, statusId: number): void;
  field(dealId: number, fieldId: number): unknown;
  notes(dealId: number): string[];
  /** The deal's invoices in the backend (deleted ones too, where the backend keeps them). */
  invoices(dealId: number): BookInvoice[];
  pay(invoiceId: string, amount: number): void;
  /** The deal's recurring profile: active, or stopped (Zoho pauses; Xero deletes the template). */
  recurring(dealId: number): 'active' | 'stopped' | undefined;
  /** A manager changes the deal in Kommo (its amount): Kommo sends an update webhook. */
  changeDeal(dealId: number, change: { price: number }): void;
  /** A person in the accounting system approves the draft (Zoho: submit + approve; Xero: AUTHORISED). */
  approveInBooks(invoiceId: string): void;
  /** A person in the accounting system emails the invoice to the client. */
  sendInBooks(invoiceId: string): void;
  /** A person in the accounting system edits the draft's lines (one line "Edited by the accountant", 777). */
  editInBooks(invoiceId: string): void;
  /** Emails of this invoice the accounting system sent. */
  emails(invoiceId: string): number;
  /** The invoice's lines as the accounting system holds them: [name or description, unit price]. */
  lines(invoiceId: string): Array<[string, number]>;
  /** One reconciler sweep now. */
  reconcile(): Promise<void>;
  /** Requests the relay made to the accounting backend: 'METHOD /path'. */
  calls(): string[];
  violations(): unknown[];
  /** Answers the lossy proxy lost (WorldOptions.loseAnswers). */
  lost(): number;
  settled(): Promise<void>;
  close(): Promise<void>;
}

export interface WorldOptions {
  /** Merged into the mapping's `invoice` section. */
  invoice?: Record<string, unknown>;
  /** Adds a retainer section (start stage "Retainer Active", stop stage "Completed"). */
  retainer?: boolean;
  /** The relay reaches the accounting API through a proxy that lets these requests act and loses their answers. */
  loseAnswers?: (method: string, path: string) => boolean;
}

const WEBHOOK_SECRET = 'books-world-webhook-secret-0123456789';
const XERO_WEBHOOK_KEY = 'books-world-xero-key-abcdefghijklmnopqrstuvwxyz0123456789';

export function startWorld(backend: BackendId, o: WorldOptions = {}): Promise<World> {
  return backend === 'zoho' ? zohoWorld(o) : xeroWorld(o);
}

function mappingOf(o: WorldOptions, own: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    invoice: { stages: [{ pipeline: 'Sales', stage: 'Invoice' }], paymentTerms: { defaultDays: 30 }, ...o.invoice },
    dealFields: { invoiceId: 'Invoice ID', invoiceUrl: 'Invoice URL' },
    payment: { stage: 'Payment Received', paidField: 'Paid' },
    ...(o.retainer ? { retainer: { startStages: ['Retainer Active'], stopStages: ['Completed'], frequency: 'months', every: 1, recurringIdField: 'Recurring invoice ID' } } : {}),
    ...extra,
    ...own,
  };
}

function collectLogs() {
  const logs: string[] = [];
  return { logs, log: createLogger({ level: 'debug', destination: { write: (line: string) => void logs.push(line) } }) };
}

function common(kommo: FakeKommo, relay: Relay, pipelineId: number) {
  return {
    move: (dealId: number, statusId: number) => kommo.moveLeads([dealId], statusId, pipelineId),
    field: (dealId: number, fieldId: number) => kommo.state.leads.get(dealId)?.customFields.find((f) => f.fieldId === fieldId)?.values[0]?.value,
    notes: (dealId: number) => [...kommo.state.notes.values()].filter((n) => n.entityId === dealId).map((n) => String(n.params.text)),
    drained: () => waitFor(async () => (await relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length === 0, 'the queue to drain'),
  };
}

async function zohoWorld(o: WorldOptions): Promise<World> {
  const dir = tempDir('relay-books-zoho-');
  const s: Scenario = await startScenario({ dir: dir.path });
  // An approval stage after the invoicing stage, as a manager adds one in Kommo's pipeline settings.
  const pipeline = s.kommo.state.pipelines.get(s.pipelineId)!;
  const approval = Math.max(...[...s.kommo.state.pipelines.values()].flatMap((p) => p.statuses.map((st) => (st.id === LOST || st.id === 142 ? 0 : st.id)))) + 1;
  const invoiceStage = pipeline.statuses.find((st) => st.id === s.stages.invoice)!;
  pipeline.statuses.push({ ...invoiceStage, id: approval, name: 'Invoice approved', sort: invoiceStage.sort + 1 });
  writeFileSync(s.mappingFile, JSON.stringify(mappingOf(o, { zoho: { dealIdField: 'cf_kommo_deal_id' } })));
  const { logs, log } = collectLogs();
  const proxy = o.loseAnswers ? await startLossyProxy(s.zohoUrl, o.loseAnswers) : undefined;
  const rawEnv = s.env({ ADMIN_TOKEN, ENCRYPTION_KEY, RECONCILE_INTERVAL_SECONDS: '3600', ...(proxy ? { ZOHO_API_URL: proxy.url } : {}) });
  const relay = await startRelay(parseEnv(rawEnv), { log });
  s.connectRelay(relay.url);
  // Changes of deals too (invoice.review follows them).
  s.kommo.subscribe(`${relay.url}/webhooks/kommo/${SCENARIO_SECRET}`, ['status_lead', 'update_lead']);
  const c = common(s.kommo, relay, s.pipelineId);
  const status = (st: string): BookStatus => (st === 'sent' || st === 'viewed' ? 'open' : (st as BookStatus));
  return {
    backend: 'zoho',
    kommo: s.kommo,
    relay,
    logs,
    env: rawEnv,
    stages: { incoming: s.stages.incoming, invoice: s.stages.invoice, approval, retainer: s.stages.retainerActive, lost: LOST },
    fields: { invoiceId: s.fields.invoiceId, invoiceUrl: s.fields.invoiceUrl, recurringId: s.fields.recurringId },
    addDeal: (d = {}) => s.addClientDeal({ price: d.price ?? 1000, ...(d.name ? { name: d.name } : {}) }).dealId,
    ...c,
    invoices: (dealId) =>
      [...s.zoho.state.invoices.values()].filter((i) => i.referenceNumber === `KOMMO-${dealId}`).map((i) => ({ id: i.invoiceId, status: status(i.status), total: Number(i.totalMinor) / 10 ** i.precision })),
    // A customer's payment as the neutral view makes it (sandbox/books/zoho.ts), as the Xero world's does.
    pay: (invoiceId, amount) => void s.books.pay(invoiceId, { amount, date: new Date().toISOString().slice(0, 10) }),
    recurring: (dealId) => {
      const r = [...s.zoho.state.recurring.values()].find((p) => p.recurrenceName === `Kommo deal ${dealId}`);
      return r ? (r.status === 'active' ? 'active' : 'stopped') : undefined;
    },
    changeDeal: (dealId, change) => void s.kommo.state.applyLeadPatches([{ id: dealId, price: change.price }]),
    approveInBooks: (invoiceId) => s.zoho.approveInvoice(invoiceId),
    sendInBooks: (invoiceId) => s.zoho.sendInvoice(invoiceId, ['client@example.com']),
    editInBooks: (invoiceId) => s.zoho.editInvoice(invoiceId, { line_items: [{ name: 'Edited by the accountant', rate: 777, quantity: 1 }] }),
    emails: (invoiceId) => s.zoho.emails.filter((e) => e.invoiceId === invoiceId).length,
    lines: (invoiceId) => s.zoho.state.invoices.get(invoiceId)!.lineItems.map((l) => [l.name, l.rate] as [string, number]),
    reconcile: async () => void (await relay.reconciler.sweep()),
    calls: () => s.zoho.requests.map((r) => `${r.method} ${r.path}`),
    violations: () => s.zoho.violations,
    async settled() {
      await s.zoho.flushWebhooks();
      await s.kommo.flushWebhooks();
      await c.drained();
    },
    lost: () => proxy?.dropped ?? 0,
    async close() {
      await relay.stop();
      await proxy?.close();
      const violations = s.zoho.violations;
      await s.close();
      dir.cleanup();
      expect(violations).toEqual([]);
      expect(logLineProblems(logs)).toEqual([]);
      const secrets = [s.zoho.clientSecret, s.zoho.refreshToken, ENCRYPTION_KEY, ADMIN_TOKEN];
      expect(logs.filter((l) => secrets.some((x) => l.includes(x)))).toEqual([]);
    },
  };
}

async function xeroWorld(o: WorldOptions): Promise<World> {
  const dir = tempDir('relay-books-xero-');
  const kommo = createFakeKommo({ currency: 'GBP', country: 'GB', webhookRetryDelayMs: 200 });
  const xero: FakeXero = createFakeXero({ tenants: [{ name: 'Demo Company (UK)', currencies: ['EUR'] }] });
  const [kommoUrl, xeroUrl] = await Promise.all([kommo.listen(), xero.listen()]);
  const proxy: LossyProxy | undefined = o.loseAnswers ? await startLossyProxy(xeroUrl, o.loseAnswers) : undefined;
  const pipeline = kommo.addPipeline('Sales', ['Incoming', 'Invoice', 'Invoice approved', 'Payment Received', 'Retainer Active', 'Completed']);
  const stageId = (name: string) => pipeline.statuses.find((st) => st.name === name)!.id;
  const fields = {
    invoiceId: kommo.addLeadField({ name: 'Invoice ID', type: 'text' }),
    invoiceUrl: kommo.addLeadField({ name: 'Invoice URL', type: 'url' }),
    recurringId: kommo.addLeadField({ name: 'Recurring invoice ID', type: 'text' }),
  };
  kommo.addLeadField({ name: 'Paid', type: 'checkbox' });
  const mappingFile = join(dir.path, 'mapping.json');
  writeFileSync(mappingFile, JSON.stringify(mappingOf(o, { xero: { salesAccountCode: '200' } }, { tax: { rules: { '*': { tax: '20% (VAT on Income)' } } } })));
  const { logs, log } = collectLogs();
  const rawEnv = {
    PORT: '0',
    DATABASE_URL: `sqlite:${join(dir.path, 'relay.db')}`,
    WEBHOOK_SECRET,
    KOMMO_BASE_URL: kommoUrl,
    KOMMO_ACCESS_TOKEN: 'kommo-long-lived-token',
    ACCOUNTING: 'xero',
    XERO_CLIENT_ID: xero.clientId,
    XERO_CLIENT_SECRET: xero.clientSecret,
    XERO_REFRESH_TOKEN: xero.refreshToken,
    XERO_API_URL: proxy?.url ?? xeroUrl,
    XERO_WEBHOOK_KEY,
    ENCRYPTION_KEY,
    ADMIN_TOKEN,
    MAPPING_FILE: mappingFile,
    JOB_BACKOFF_BASE_MS: '100',
    JOB_BACKOFF_MAX_MS: '2000',
    JOB_LEASE_SECONDS: '3',
    HTTP_TIMEOUT_MS: '3000',
    SHUTDOWN_TIMEOUT_SECONDS: '5',
    RECONCILE_INTERVAL_SECONDS: '3600',
  };
  const relay = await startRelay(parseEnv(rawEnv), { log });
  kommo.subscribe(`${relay.url}/webhooks/kommo/${WEBHOOK_SECRET}`, ['status_lead', 'update_lead']);
  xero.setWebhook({ url: `${relay.url}/webhooks/xero/${WEBHOOK_SECRET}`, key: XERO_WEBHOOK_KEY });
  const c = common(kommo, relay, pipeline.id);
  // The neutral view of this fake, for the changes a person makes in Xero (not connected: the webhook is set above).
  const books = xeroBooks(xero, { webhookSecret: WEBHOOK_SECRET, webhookKey: XERO_WEBHOOK_KEY });
  let clients = 0;
  const status = (st: string, paid: number): BookStatus =>
    st === 'DRAFT' || st === 'SUBMITTED' ? 'draft' : st === 'VOIDED' ? 'void' : st === 'DELETED' ? 'deleted' : st === 'PAID' ? 'paid' : paid > 0 ? 'partially_paid' : 'open';
  return {
    backend: 'xero',
    kommo,
    relay,
    logs,
    env: rawEnv,
    stages: { incoming: stageId('Incoming'), invoice: stageId('Invoice'), approval: stageId('Invoice approved'), retainer: stageId('Retainer Active'), lost: LOST },
    fields,
    addDeal(d = {}) {
      clients++;
      const contactId = kommo.addContact({ name: `Client ${clients}`, firstName: 'Client', lastName: String(clients), email: `client${clients}@example.com` });
      return kommo.addLead({ name: d.name ?? `Website redesign #${clients}`, price: d.price ?? 1000, pipelineId: pipeline.id, statusId: stageId('Incoming'), contacts: [{ id: contactId, isMain: true }] });
    },
    ...c,
    invoices: (dealId) => [...xero.state.invoices.values()].filter((i) => i.reference === `KOMMO-${dealId}`).map((i) => ({ id: i.invoiceId, status: status(i.status, i.amountPaid), total: i.total })),
    // Through the neutral view (sandbox/books/xero.ts): it moves the fake's clock past the relay's own-write
    // window first, as a person's payment comes, so Xero's event about it is not taken for the relay's create.
    pay: (invoiceId, amount) => void books.pay(invoiceId, { amount, date: new Date().toISOString().slice(0, 10) }),
    recurring: (dealId) => {
      const all = [...xero.state.repeatingInvoices.values()].filter((r) => r.reference === `Kommo deal ${dealId}`);
      if (!all.length) return undefined;
      return all.some((r) => r.status !== 'DELETED') ? 'active' : 'stopped';
    },
    changeDeal: (dealId, change) => void kommo.state.applyLeadPatches([{ id: dealId, price: change.price }]),
    approveInBooks: (invoiceId) => xero.updateInvoice(invoiceId, { Status: 'AUTHORISED' }),
    sendInBooks: (invoiceId) => xero.updateInvoice(invoiceId, { Status: 'AUTHORISED', SentToContact: true }),
    editInBooks: (invoiceId) => xero.updateInvoice(invoiceId, { LineItems: [{ Description: 'Edited by the accountant', Quantity: 1, UnitAmount: 777, AccountCode: '200' }] }),
    emails: (invoiceId) => xero.state.emails.filter((e) => e.invoiceId === invoiceId).length,
    lines: (invoiceId) => xero.state.invoices.get(invoiceId)!.lineItems.map((l) => [l.description ?? '', l.unitAmount] as [string, number]),
    reconcile: async () => void (await relay.reconciler.sweep()),
    calls: () => xero.requests.map((r) => `${r.method} ${r.path}`),
    violations: () => xero.violations,
    async settled() {
      await xero.flushWebhooks();
      await kommo.flushWebhooks();
      await c.drained();
    },
    lost: () => proxy?.dropped ?? 0,
    async close() {
      await relay.stop();
      await proxy?.close();
      const violations = xero.violations;
      await Promise.all([kommo.close(), xero.close()]);
      dir.cleanup();
      expect(violations).toEqual([]);
      expect(logLineProblems(logs)).toEqual([]);
      const secrets = [xero.clientSecret, xero.refreshToken, XERO_WEBHOOK_KEY, ENCRYPTION_KEY, ADMIN_TOKEN];
      expect(logs.filter((l) => secrets.some((x) => l.includes(x)))).toEqual([]);
    },
  };
}
