// invoice.onLost through the sandboxes, for every accounting backend (the registry's; E2E_ACCOUNTING= narrows):
// the manager moves a deal to Kommo's "Closed - lost" (143) and its stage webhook reaches the relay. `note`: the
// invoice stays open, a note says so and /admin lists it. `void`: an unpaid invoice is voided (where the system
// only deletes, facts.voids false: deleted), a draft deleted, a partly paid one kept (note and /admin item); a
// retainer's recurring invoice is stopped. Without the option nothing happens, as before. `relay deal` and
// /admin show what was done (the same read model: /admin/deals/<id> as JSON is `relay deal <id> --json`).
// The accounting side is the neutral view (scenario.books); 0 contract violations (checked on close).
import { afterEach, describe, expect, it } from 'vitest';
import type { BooksStatus } from '../../sandbox/books/view.js';
import { SANDBOX_FACTS } from '../../sandbox/scenario.js';
import { ACCOUNTING_BACKENDS, namesOf } from '../support/accounting-backends.js';
import { runCli } from '../support/cli.js';
import {
  addDeal,
  adminPage,
  closeDealSuite,
  dealJson,
  emails,
  esc,
  field,
  invoices,
  LOST,
  move,
  notes,
  reconcile,
  settled,
  startDealSuite,
  type DealSuite,
} from '../support/deal-suite.js';
import { polled, waitFor } from '../support/e2e.js';

let e2e: DealSuite | undefined;
afterEach(async () => {
  const e = e2e;
  e2e = undefined;
  if (e) await closeDealSuite(e);
});

type LostView = { accounting: { lost?: { state: string; action: string | null; detail: string; open: boolean; recurringStopped: boolean; invoiceId: string | null } } };

async function invoiced(e: DealSuite, price = 1000): Promise<{ dealId: number; invoiceId: string }> {
  const dealId = addDeal(e, { price });
  move(e, dealId, e.scenario.stages.invoice);
  const invoiceId = String(await waitFor(() => field(e, dealId, e.scenario.fields.invoiceId), 'the invoice ID on the deal'));
  await settled(e);
  return { dealId, invoiceId };
}

async function lost(e: DealSuite, dealId: number) {
  move(e, dealId, LOST);
  await settled(e);
}

describe.each(ACCOUNTING_BACKENDS)('lost deals (%s)', (accounting) => {
  const facts = SANDBOX_FACTS[accounting];
  const SYSTEM = esc(namesOf(accounting).system);
  /** How the notes say a final invoice is cancelled: voided, or deleted where the system has no void (names.cancelVerb). */
  const CANCEL = namesOf(accounting).cancelVerb ?? 'void';
  const CANCELLED = CANCEL === 'void' ? 'voided' : 'deleted';
  /** What the deal's invoice list shows once the relay cancelled an unpaid final invoice: void, or deleted where the system only deletes. */
  const cancelled = (invoiceId: string): Array<[string, BooksStatus]> => (facts.voids === false ? (facts.deletedInvoices === 'listed' ? [[invoiceId, 'deleted']] : []) : [[invoiceId, 'void']]);
  /** The statuses once a draft was deleted: gone, or listed as deleted (Xero). */
  const deletedDraft: BooksStatus[] = facts.deletedInvoices === 'listed' ? ['deleted'] : [];
  /** The relay's calls that cancel an invoice: voids, or deletions where the system has no void. */
  const cancels = (e: DealSuite) => e.scenario.books.calls().filter((c) => c.op === 'invoice.void' || (facts.voids === false && c.op === 'invoice.delete')).length;

  it('without invoice.onLost nothing changes: the invoice stays open, no note, nothing on /admin', async () => {
    e2e = await startDealSuite(accounting);
    const e = e2e;
    const { dealId } = await invoiced(e);
    const before = e.scenario.books.callCount;
    await lost(e, dealId);
    expect(invoices(e, dealId).map((i) => i.status)).toEqual(['open']);
    expect(notes(e, dealId)).toEqual([]);
    // Not one call to the accounting system for the lost deal.
    expect(e.scenario.books.calls(before)).toEqual([]);
    expect((await dealJson<LostView>(e, dealId)).accounting).not.toHaveProperty('lost');
    expect(await adminPage(e)).not.toContain('id="lost"');
  });

  it('note: the invoice stays open; the deal gets a note, /admin an item, `relay deal` says so; the lost deal reopened and lost again notes once', async () => {
    e2e = await startDealSuite(accounting, { invoice: { onLost: 'note' } });
    const e = e2e;
    const { dealId, invoiceId } = await invoiced(e, 1000);
    await lost(e, dealId);
    expect(invoices(e, dealId).map((i) => i.status)).toEqual(['open']);
    const all = notes(e, dealId);
    expect(all).toHaveLength(1);
    expect(all[0]).toMatch(new RegExp(`^Deal lost: invoice \\S+ \\([\\d,.]+ [A-Z]{3} due\\) is still open in ${SYSTEM}\\. ${CANCEL === 'void' ? 'Void' : 'Delete'} it there if it should not be paid\\.$`));
    const view = (await dealJson<LostView>(e, dealId)).accounting.lost!;
    expect(view).toMatchObject({ state: 'done', action: 'noted', open: true, invoiceId, recurringStopped: false });
    const page = await adminPage(e);
    expect(page).toContain(`<tr data-lost="${dealId}">`);
    // The operator's `relay deal <id>` (a real child process on the same database) says it too.
    const cli = await runCli(['deal', String(dealId)], e.env);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^ {2}Lost\s+\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC: invoice \S+ still open — needs a person \(see \/admin\)$/m);
    expect(page).toMatch(/Lost deals with an open invoice/);

    // Reopened, lost again: the same invoice, still open: no second note.
    move(e, dealId, e.scenario.stages.incoming);
    await settled(e);
    await lost(e, dealId);
    expect(notes(e, dealId)).toHaveLength(1);
    expect(invoices(e, dealId)).toHaveLength(1);
  });

  it('void: an unpaid invoice is voided once, with a note; /admin lists nothing to do', async () => {
    e2e = await startDealSuite(accounting, { invoice: { onLost: 'void' } });
    const e = e2e;
    const { dealId, invoiceId } = await invoiced(e, 1000);
    await lost(e, dealId);
    expect(invoices(e, dealId).map((i) => [i.id, i.status])).toEqual(cancelled(invoiceId));
    expect(notes(e, dealId)).toEqual([expect.stringMatching(new RegExp(`^Deal lost: invoice \\S+ was ${CANCELLED} in ${SYSTEM} \\(nothing had been paid\\)\\.$`))]);
    expect((await dealJson<LostView>(e, dealId)).accounting.lost).toMatchObject({ state: 'done', action: 'voided', open: false });
    expect(await adminPage(e)).not.toContain(`data-lost="${dealId}"`);
    // The replayed webhook (Kommo retries, the manager moves it again): voided once.
    const once = cancels(e);
    expect(once).toBe(1);
    move(e, dealId, e.scenario.stages.incoming);
    await settled(e);
    await lost(e, dealId);
    expect(cancels(e)).toBe(once);
    expect(notes(e, dealId)).toHaveLength(2);
    expect(notes(e, dealId)[1]).toMatch(/was already void/);
  });

  it("void: the void's answer is lost: the retry reads the invoice, voids it once in effect, notes once", async () => {
    e2e = await startDealSuite(accounting, { invoice: { onLost: 'void' } });
    const e = e2e;
    const { dealId, invoiceId } = await invoiced(e, 1000);
    // The relay's void (where the system only deletes: its delete) does its work; its answer is cut.
    e.scenario.books.loseNextAnswer('invoice.void');
    await lost(e, dealId);
    expect(e.scenario.books.lostAnswers()).toBe(1);
    expect(invoices(e, dealId).map((i) => [i.id, i.status])).toEqual(cancelled(invoiceId));
    expect(notes(e, dealId)).toEqual([expect.stringMatching(new RegExp(`^Deal lost: invoice \\S+ was ${CANCELLED} in ${SYSTEM} \\(nothing had been paid\\)\\.$`))]);
    expect((await dealJson<LostView>(e, dealId)).accounting.lost).toMatchObject({ state: 'done', action: 'voided', open: false });
  });

  it('void: a partly paid invoice is never voided: a note and an /admin item instead', async () => {
    e2e = await startDealSuite(accounting, { invoice: { onLost: 'void' } });
    const e = e2e;
    const { dealId, invoiceId } = await invoiced(e, 1000);
    const total = invoices(e, dealId)[0]!.total;
    e.scenario.books.pay(invoiceId, { amount: 100, date: new Date().toISOString().slice(0, 10) });
    await polled(e);
    await waitFor(() => notes(e, dealId).some((n) => n.startsWith('Partial payment received')), 'the partial payment note');
    await settled(e);
    await lost(e, dealId);
    expect(invoices(e, dealId).map((i) => i.status)).toEqual(['partially_paid']);
    const note = notes(e, dealId).find((n) => n.startsWith('Deal lost'));
    expect(note).toMatch(
      new RegExp(`^Deal lost: invoice \\S+ is partly paid \\(${esc((total - 100).toLocaleString('en', { minimumFractionDigits: 2 }))} [A-Z]{3} still due\\), so the relay did not ${CANCEL} it\\. Settle it in ${SYSTEM} \\(a credit note or a refund\\)\\.$`),
    );
    expect((await dealJson<LostView>(e, dealId)).accounting.lost).toMatchObject({ action: 'kept_partly_paid', open: true });
    expect(await adminPage(e)).toContain(`<tr data-lost="${dealId}">`);
    expect(cancels(e)).toBe(0);
  });

  it('void: a draft (invoice.send false) is deleted, with a note', async () => {
    e2e = await startDealSuite(accounting, { invoice: { onLost: 'void', send: false } });
    const e = e2e;
    const { dealId } = await invoiced(e, 1000);
    expect(invoices(e, dealId).map((i) => i.status)).toEqual(['draft']);
    await lost(e, dealId);
    // Zoho and Wave remove it; Xero keeps it as DELETED (facts.deletedInvoices).
    expect(invoices(e, dealId).map((i) => i.status)).toEqual(deletedDraft);
    expect(notes(e, dealId)).toEqual([expect.stringMatching(new RegExp(`^Deal lost: the draft invoice \\S+ was deleted in ${SYSTEM}\\.$`))]);
    expect((await dealJson<LostView>(e, dealId)).accounting.lost).toMatchObject({ action: 'deleted', open: false });
  });

  it('void with invoice.review: the draft waiting for approval is deleted, and no longer waits', async () => {
    e2e = await startDealSuite(accounting, { invoice: { onLost: 'void', review: {} } });
    const e = e2e;
    const { dealId, invoiceId } = await invoiced(e, 1000);
    expect(invoices(e, dealId).map((i) => i.status)).toEqual(['draft']);
    await lost(e, dealId);
    expect(invoices(e, dealId).map((i) => i.status)).toEqual(deletedDraft);
    const view = await dealJson<{ accounting: { lost?: { action: string | null }; review?: string } }>(e, dealId);
    expect(view.accounting.lost).toMatchObject({ action: 'deleted' });
    expect(view.accounting).not.toHaveProperty('review');
    await reconcile(e);
    await settled(e);
    expect(emails(e, invoiceId)).toBe(0);
    expect(notes(e, dealId).filter((n) => n.startsWith('Deal lost'))).toHaveLength(1);
  });

  it.skipIf(facts.recurringInvoices === false)("void: a lost retainer's recurring invoice is stopped (no stop stage needed), with a note", async () => {
    e2e = await startDealSuite(accounting, { invoice: { onLost: 'void' }, retainer: true });
    const e = e2e;
    const s = e.scenario;
    const dealId = addDeal(e, { name: 'SEO retainer', price: 900 });
    move(e, dealId, s.stages.retainerActive);
    const recurringId = String(await waitFor(() => field(e, dealId, s.fields.recurringId), 'the recurring ID on the deal'));
    await settled(e);
    const profile = () => s.books.recurring().find((r) => r.id === recurringId);
    expect(profile()?.active).toBe(true);
    await lost(e, dealId);
    // Stopped: paused (Zoho), or deleted for good (Xero lists it DELETED); never a second one running.
    expect(profile()?.active).toBe(false);
    expect(s.books.recurring().filter((r) => r.active)).toEqual([]);
    expect(notes(e, dealId)).toEqual([expect.stringMatching(new RegExp(`^Deal lost: its recurring invoice was stopped in ${SYSTEM}\\.$`))]);
    expect((await dealJson<LostView>(e, dealId)).accounting.lost).toMatchObject({ action: 'no_invoice', recurringStopped: true, open: false });
  });
});
