// What the issue 18 suites (lost deals, review before sending, pay online) share, for every accounting backend:
// the scenario (sandbox/scenario.ts) with the relay in-process (startE2E), the suite's `invoice` options merged
// into the scenario's mapping, Kommo telling the relay of deal changes too, and an approval stage in the
// pipeline; what a manager does in Kommo and what the suites read of a deal. The accounting side is the neutral
// view, scenario.books. Closing checks every Kommo write was well-formed, 0 contract violations and
// machine-readable log lines (startE2E's close), and no secret in the logs.
import { readFileSync, writeFileSync } from 'node:fs';
import request from 'supertest';
import { expect } from 'vitest';
import type { BooksLine } from '../../sandbox/books/view.js';
import { ADMIN_TOKEN, ENCRYPTION_KEY, type SandboxAccounting, type Scenario } from '../../sandbox/scenario.js';
import { dealField, dealInvoices, notesOf, startE2E, waitFor, type E2E } from './e2e.js';

/** Kommo's "Closed - lost", in every pipeline. */
export const LOST = 143;
/** The stage a mapping's invoice.review.approvalStages names. */
export const APPROVAL_STAGE = 'Invoice approved';
export const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** A retainer that starts on "Retainer Active" and stops on "Completed" only (not on "Closed - lost"), monthly. */
const RETAINER = { startStages: ['Retainer Active'], stopStages: ['Completed'], frequency: 'months', every: 1, recurringIdField: 'Recurring invoice ID' };

export interface DealSuiteOptions {
  /** Merged into the mapping's `invoice` section. */
  invoice?: Record<string, unknown>;
  /** A retainer section (RETAINER); without, the mapping has none. */
  retainer?: boolean;
  /** Runs before the relay starts (the organization's set-up). */
  prepare?: (s: Scenario) => void | Promise<void>;
}

export interface DealSuite extends E2E {
  /** The relay's environment, for the CLI (`relay deal <id>`) as an operator runs it beside the relay. */
  env: Record<string, string>;
}

/** The relay's settings beside the scenario's: /admin behind its token; the reconciler only when a test sweeps. */
const SUITE_ENV = { ADMIN_TOKEN, ENCRYPTION_KEY, RECONCILE_INTERVAL_SECONDS: '3600' };

export function writeMapping(s: Scenario, o: Pick<DealSuiteOptions, 'invoice' | 'retainer'>): void {
  const mapping = JSON.parse(readFileSync(s.mappingFile, 'utf8')) as { invoice: Record<string, unknown>; retainer?: unknown };
  mapping.invoice = { ...mapping.invoice, ...o.invoice };
  delete mapping.retainer;
  if (o.retainer) mapping.retainer = RETAINER;
  writeFileSync(s.mappingFile, JSON.stringify(mapping, null, 2));
}

export async function startDealSuite(accounting: SandboxAccounting, o: DealSuiteOptions = {}): Promise<DealSuite> {
  const e = await startE2E({
    accounting,
    approvalStage: APPROVAL_STAGE,
    dealChanges: true,
    env: SUITE_ENV,
    prepare: async (s) => {
      writeMapping(s, o);
      await o.prepare?.(s);
    },
  });
  return Object.assign(e, { env: e.scenario.env(SUITE_ENV) });
}

/** Every Kommo write well-formed, no secret logged, then startE2E's close (contract violations, log lines). */
export async function closeDealSuite(e: DealSuite): Promise<void> {
  const s = e.scenario;
  expect(s.kommo.requests.filter((r) => r.method !== 'GET' && (r.status ?? 0) >= 400)).toEqual([]);
  expect(s.books.violations).toEqual([]);
  const secrets = [...s.books.secrets(), ENCRYPTION_KEY, ADMIN_TOKEN].filter((x) => x && x.length >= 8);
  expect(e.logs.filter((l) => secrets.some((x) => l.includes(x)))).toEqual([]);
  await e.close();
}

/** A client's deal in the Incoming stage. */
export const addDeal = (e: E2E, d: { price?: number; name?: string } = {}): number => e.scenario.addClientDeal({ price: d.price ?? 1000, ...(d.name ? { name: d.name } : {}) }).dealId;
/** A manager moves the deal in Kommo. */
export const move = (e: E2E, dealId: number, statusId: number): void => e.scenario.kommo.moveLeads([dealId], statusId, e.scenario.pipelineId);
/** A manager changes the deal's amount in Kommo: Kommo sends an update webhook. */
export const changeDeal = (e: E2E, dealId: number, change: { price: number }): void => void e.scenario.kommo.state.applyLeadPatches([{ id: dealId, price: change.price }]);
export const field = (e: E2E, dealId: number, fieldId: number): unknown => dealField(e.scenario, dealId, fieldId);
export const notes = (e: E2E, dealId: number): string[] => notesOf(e.scenario, dealId);
/** The deal's invoices in the system (deleted ones too, where the system lists them: status `deleted`). */
export const invoices = (e: E2E, dealId: number) => dealInvoices(e.scenario, dealId);
/** Emails of this invoice the system sent. */
export const emails = (e: E2E, invoiceId: string): number => e.scenario.books.emails().filter((m) => m.invoiceId === invoiceId).length;
/** What a line says: its description where it has one (Wave: the name is its catalogue product's), else its name. */
export const words = (l: BooksLine): string => l.description ?? l.name;
/** The invoice's lines as the system holds them: [what it says, unit price]. */
export const lines = (e: E2E, invoiceId: string): Array<[string, number]> => e.scenario.books.invoice(invoiceId)!.lines.map((l) => [words(l), l.unitAmount]);

/** One reconciler sweep now, as its interval would run it. */
export async function reconcile(e: E2E): Promise<void> {
  const result = await e.relay.reconciler.sweep();
  if (result.errors.length) throw new Error(`the reconciler's sweep failed: ${result.errors.join('; ')}`);
}

/** Both systems' webhooks delivered and the relay's queue drained. */
export async function settled(e: E2E): Promise<void> {
  await e.scenario.books.flushWebhooks();
  await e.scenario.kommo.flushWebhooks();
  await waitFor(async () => (await e.relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length === 0, 'the queue to drain');
}

/** /admin/deals/<id> as JSON (`relay deal <id> --json`). */
export async function dealJson<T>(e: E2E, dealId: number): Promise<T> {
  const res = await request(e.relay.url).get(`/admin/deals/${dealId}`).set(auth).set('Accept', 'application/json');
  expect(res.status).toBe(200);
  return res.body as T;
}

export const adminPage = async (e: E2E): Promise<string> => (await request(e.relay.url).get('/admin').set(auth)).text;

/** Text for a RegExp, as it is. */
export const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
