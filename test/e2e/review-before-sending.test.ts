// invoice.review through the sandboxes, for every accounting backend (the registry's; E2E_ACCOUNTING= narrows):
// the invoice is made as a draft for the accountant (ID and link on the deal, a "waiting for approval" note) and
// goes to the client once — when the deal enters the approval stage, or when the accountant approves it in the
// accounting system (seen by its webhook or the reconciler: facts.draftChanges). Sent by the accountant there:
// the relay sends nothing. The deal's amount changing while the draft waits updates the draft once, with a
// note; a draft a person edited is never overwritten. `relay deal` (/admin/deals/<id> as JSON) and /admin show
// the review state. The accounting side is the neutral view (scenario.books); 0 contract violations (checked on close).
import { afterEach, describe, expect, it } from 'vitest';
import { SANDBOX_FACTS } from '../../sandbox/scenario.js';
import { ACCOUNTING_BACKENDS, namesOf } from '../support/accounting-backends.js';
import { runCli } from '../support/cli.js';
import {
  addDeal,
  adminPage,
  APPROVAL_STAGE,
  changeDeal,
  closeDealSuite,
  dealJson,
  emails,
  esc,
  field,
  invoices,
  lines,
  move,
  notes,
  reconcile,
  settled,
  startDealSuite,
  type DealSuite,
} from '../support/deal-suite.js';
import { waitFor } from '../support/e2e.js';

let e2e: DealSuite | undefined;
afterEach(async () => {
  const e = e2e;
  e2e = undefined;
  if (e) await closeDealSuite(e);
});

type ReviewView = { state: { label: string }; accounting: { review: string | null; invoiceUrl: string | null } };
const dealView = (e: DealSuite, dealId: number) => dealJson<ReviewView>(e, dealId);
const approvalStage = (e: DealSuite) => e.scenario.stages.approval!;
const withApprovalStage = { invoice: { review: { approvalStages: [APPROVAL_STAGE] } } };

/** A deal invoiced in review: its draft, waiting. */
async function drafted(e: DealSuite, price = 1000): Promise<{ dealId: number; invoiceId: string }> {
  const dealId = addDeal(e, { price });
  move(e, dealId, e.scenario.stages.invoice);
  const invoiceId = String(await waitFor(() => field(e, dealId, e.scenario.fields.invoiceId), 'the invoice ID on the deal'));
  await waitFor(() => notes(e, dealId).some((n) => n.startsWith('Invoice draft')), 'the waiting note');
  await settled(e);
  return { dealId, invoiceId };
}

describe.each(ACCOUNTING_BACKENDS)('review before sending (%s)', (accounting) => {
  const facts = SANDBOX_FACTS[accounting];
  const SYSTEM = esc(namesOf(accounting).system);
  /** A person's approval or send in the system reaches the relay: by the system's webhook, or by a sweep (run now). */
  const told = async (e: DealSuite) => {
    if ((facts.draftChanges ?? 'reconciler') === 'reconciler') await reconcile(e);
  };

  it('a draft on the invoicing stage (ID, link, "waiting for approval" note, nothing emailed); sent once on the approval stage', async () => {
    e2e = await startDealSuite(accounting, withApprovalStage);
    const e = e2e;
    const s = e.scenario;
    const { dealId, invoiceId } = await drafted(e);
    expect(invoices(e, dealId).map((i) => [i.id, i.status])).toEqual([[invoiceId, 'draft']]);
    expect(emails(e, invoiceId)).toBe(0);
    expect(notes(e, dealId)).toEqual([expect.stringMatching(new RegExp(`^Invoice draft \\S+ waiting for approval in ${SYSTEM}: https?://\\S+$`))]);
    expect(String(field(e, dealId, s.fields.invoiceUrl))).toMatch(/^https?:\/\//);
    const waiting = await dealView(e, dealId);
    expect(waiting.accounting.review).toBe('waiting');
    expect(waiting.state.label).toMatch(/^draft waiting for approval: /);
    expect(await adminPage(e)).toContain('draft waiting for approval: ');
    // The operator's `relay deal <id>` (a real child process on the same database).
    const cli = await runCli(['deal', String(dealId)], e.env);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^Deal \d+: draft waiting for approval: \S+$/m);
    expect(cli.stdout).toMatch(/^ {2}Review\s+draft waiting for approval$/m);

    move(e, dealId, approvalStage(e));
    await waitFor(() => emails(e, invoiceId) === 1, 'the invoice emailed');
    await settled(e);
    expect(invoices(e, dealId).map((i) => i.status)).toEqual(['open']);
    expect(notes(e, dealId).at(-1)).toMatch(/^Invoice \S+ approved \(the approval stage\) and sent to the client\.$/);
    expect((await dealView(e, dealId)).accounting.review).toBe('sent');
    // The deal links the approved invoice's customer link (Xero's online invoice replaces the accountant's link).
    expect(String(field(e, dealId, s.fields.invoiceUrl))).toMatch(facts.invoiceUrl);

    // Back and forth, a replayed webhook, a sweep: never sent twice, never re-created.
    move(e, dealId, s.stages.invoice);
    await settled(e);
    move(e, dealId, approvalStage(e));
    await settled(e);
    await reconcile(e);
    await settled(e);
    expect(emails(e, invoiceId)).toBe(1);
    expect(invoices(e, dealId)).toHaveLength(1);
  });

  it("the approval stage's webhooks go missing: the reconciler finds the deal there and sends the draft, once", async () => {
    e2e = await startDealSuite(accounting, withApprovalStage);
    const e = e2e;
    const { dealId, invoiceId } = await drafted(e);
    // Kommo sends the move as two requests (status, update); both go missing.
    e.scenario.kommo.dropNextWebhooks(2);
    move(e, dealId, approvalStage(e));
    await settled(e);
    expect(emails(e, invoiceId)).toBe(0);
    await reconcile(e);
    await waitFor(() => emails(e, invoiceId) === 1, 'the invoice emailed after the sweep');
    await settled(e);
    await reconcile(e);
    await settled(e);
    expect(emails(e, invoiceId)).toBe(1);
    expect((await dealView(e, dealId)).accounting.review).toBe('sent');
  });

  it("the email's answer is lost on the approval stage: the retry finds it sent and sends nothing more", async () => {
    e2e = await startDealSuite(accounting, withApprovalStage);
    const e = e2e;
    const { dealId, invoiceId } = await drafted(e);
    e.scenario.books.loseNextAnswer('invoice.email');
    move(e, dealId, approvalStage(e));
    await waitFor(async () => (await dealView(e, dealId)).accounting.review === 'sent', 'the review state sent');
    await settled(e);
    expect(e.scenario.books.lostAnswers()).toBe(1);
    expect(emails(e, invoiceId)).toBe(1);
    expect(notes(e, dealId).filter((n) => n.includes('sent to the client'))).toHaveLength(1);
  });

  it('approved by the accountant in the accounting system: the relay sends it, once', async () => {
    e2e = await startDealSuite(accounting, { invoice: { review: {} } });
    const e = e2e;
    const { dealId, invoiceId } = await drafted(e);
    await e.scenario.books.approveInBooks(invoiceId);
    // Xero tells by its webhook; Zoho Books' workflow webhook is for payments and Wave tells nothing: a sweep finds the change.
    await told(e);
    await waitFor(() => emails(e, invoiceId) === 1, 'the approved invoice emailed');
    await settled(e);
    await reconcile(e);
    await settled(e);
    expect(emails(e, invoiceId)).toBe(1);
    expect(invoices(e, dealId).map((i) => i.status)).toEqual(['open']);
    expect(notes(e, dealId).at(-1)).toMatch(new RegExp(`^Invoice \\S+ approved \\(approval in ${SYSTEM}\\) and sent to the client\\.$`));
    expect((await dealView(e, dealId)).accounting.review).toBe('sent');
  });

  it('sent by the accountant from the accounting system: the relay sends nothing and records it sent', async () => {
    e2e = await startDealSuite(accounting, withApprovalStage);
    const e = e2e;
    const { dealId, invoiceId } = await drafted(e);
    await e.scenario.books.sendInBooks(invoiceId);
    const sentByPerson = emails(e, invoiceId);
    await told(e);
    await waitFor(async () => (await dealView(e, dealId)).accounting.review === 'sent', 'the review state sent');
    await settled(e);
    expect(notes(e, dealId).at(-1)).toMatch(new RegExp(`^Invoice \\S+ was sent from ${SYSTEM}\\.$`));
    // The approval stage afterwards sends nothing either.
    move(e, dealId, approvalStage(e));
    await settled(e);
    expect(emails(e, invoiceId)).toBe(sentByPerson);
    expect(e.scenario.books.calls().filter((c) => c.op === 'invoice.email')).toEqual([]);
  });

  it("the deal's amount changes while its untouched draft waits: the draft is updated once, with a note; then sent with the new amount", async () => {
    e2e = await startDealSuite(accounting, withApprovalStage);
    const e = e2e;
    const { dealId, invoiceId } = await drafted(e, 1000);
    expect(lines(e, invoiceId).map(([, rate]) => rate)).toEqual([1000]);
    changeDeal(e, dealId, { price: 1500 });
    await waitFor(() => notes(e, dealId).some((n) => n.includes('updated from the deal')), 'the update note');
    await settled(e);
    expect(lines(e, invoiceId).map(([, rate]) => rate)).toEqual([1500]);
    const updates = notes(e, dealId).filter((n) => n.includes('updated from the deal'));
    expect(updates).toEqual([expect.stringMatching(/^Invoice draft \S+ updated from the deal \(amount 1,000(\.00)? [A-Z]{3} → 1,500(\.00)? [A-Z]{3}\); still waiting for approval\.$/)]);
    // The same change seen again (a sweep, our own writes' webhooks): no second update.
    await reconcile(e);
    await settled(e);
    expect(notes(e, dealId).filter((n) => n.includes('updated from the deal'))).toHaveLength(1);
    move(e, dealId, approvalStage(e));
    await waitFor(() => emails(e, invoiceId) === 1, 'the invoice emailed');
    await settled(e);
    expect(invoices(e, dealId).map((i) => [i.status, i.total > 1000])).toEqual([['open', true]]);
  });

  it('a draft a person edited is never overwritten: the deal changes, a note says so', async () => {
    e2e = await startDealSuite(accounting, withApprovalStage);
    const e = e2e;
    const { dealId, invoiceId } = await drafted(e, 1000);
    // The accountant edits a moment later, as people do (the view waits out Zoho's whole-second last_modified_time).
    await e.scenario.books.editInBooks(invoiceId);
    await settled(e);
    changeDeal(e, dealId, { price: 2000 });
    await waitFor(() => notes(e, dealId).some((n) => n.includes('did not overwrite')), 'the kept-edit note');
    await settled(e);
    expect(lines(e, invoiceId)).toEqual([['Edited by the accountant', 777]]);
    expect(notes(e, dealId).filter((n) => n.includes('did not overwrite'))).toEqual([
      expect.stringMatching(new RegExp(`^The deal changed \\(amount 1,000(\\.00)? [A-Z]{3} → 2,000(\\.00)? [A-Z]{3}\\), but invoice draft \\S+ was edited in ${SYSTEM}, so the relay did not overwrite it\\. Update the draft there if needed\\.$`)),
    ]);
    // The relay never wrote to the draft after making it.
    expect(e.scenario.books.calls().filter((c) => c.op === 'invoice.update')).toEqual([]);
    // Approved afterwards: the accountant's version goes out.
    move(e, dealId, approvalStage(e));
    await waitFor(() => emails(e, invoiceId) === 1, 'the invoice emailed');
    await settled(e);
    expect(lines(e, invoiceId)).toEqual([['Edited by the accountant', 777]]);
  });
});
