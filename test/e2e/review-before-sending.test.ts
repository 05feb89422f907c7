// invoice.review through the sandboxes, for every backend: the invoice is made as a draft for the accountant
// (ID and link on the deal, a "waiting for approval" note) and goes to the client once — when the deal enters the
// approval stage, or when the accountant approves it in the accounting system (seen by its webhook or the
// reconciler). Sent by the accountant there: the relay sends nothing. The deal's amount changing while the
// draft waits updates the draft once, with a note; a draft a person edited is never overwritten. `relay deal`
// (/admin/deals/<id> as JSON) and /admin show the review state. 0 contract violations (checked on close).
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { waitFor } from '../support/e2e.js';
import { ADMIN_TOKEN, BACKENDS, startWorld, type World } from '../support/books-world.js';

let world: World | undefined;
afterEach(async () => {
  const w = world;
  world = undefined;
  if (!w) return;
  expect(w.kommo.requests.filter((r) => r.method !== 'GET' && (r.status ?? 0) >= 400)).toEqual([]);
  await w.close();
});

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const SYSTEM = '(Zoho Books|Xero)';

async function dealView(w: World, dealId: number) {
  const res = await request(w.relay.url).get(`/admin/deals/${dealId}`).set(auth).set('Accept', 'application/json');
  expect(res.status).toBe(200);
  return res.body as { state: { label: string }; accounting: { review: string | null; invoiceUrl: string | null } };
}

/** A deal invoiced in review: its draft, waiting. */
async function drafted(w: World, price = 1000): Promise<{ dealId: number; invoiceId: string }> {
  const dealId = w.addDeal({ price });
  w.move(dealId, w.stages.invoice);
  const invoiceId = String(await waitFor(() => w.field(dealId, w.fields.invoiceId), 'the invoice ID on the deal'));
  await waitFor(() => w.notes(dealId).some((n) => n.startsWith('Invoice draft')), 'the waiting note');
  await w.settled();
  return { dealId, invoiceId };
}

describe.each(BACKENDS)('review before sending (%s)', (backend) => {
  it('a draft on the invoicing stage (ID, link, "waiting for approval" note, nothing emailed); sent once on the approval stage', async () => {
    world = await startWorld(backend, { invoice: { review: { approvalStages: ['Invoice approved'] } } });
    const w = world;
    const { dealId, invoiceId } = await drafted(w);
    expect(w.invoices(dealId).map((i) => [i.id, i.status])).toEqual([[invoiceId, 'draft']]);
    expect(w.emails(invoiceId)).toBe(0);
    expect(w.notes(dealId)).toEqual([expect.stringMatching(new RegExp(`^Invoice draft \\S+ waiting for approval in ${SYSTEM}: https?://\\S+$`))]);
    expect(String(w.field(dealId, w.fields.invoiceUrl))).toMatch(/^https?:\/\//);
    const waiting = await dealView(w, dealId);
    expect(waiting.accounting.review).toBe('waiting');
    expect(waiting.state.label).toMatch(/^draft waiting for approval: /);
    expect((await request(w.relay.url).get('/admin').set(auth)).text).toContain('draft waiting for approval: ');
    // The operator's `relay deal <id>` (a real child process on the same database).
    const cli = await runCli(['deal', String(dealId)], w.env);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^Deal \d+: draft waiting for approval: \S+$/m);
    expect(cli.stdout).toMatch(/^  Review\s+draft waiting for approval$/m);

    w.move(dealId, w.stages.approval);
    await waitFor(() => w.emails(invoiceId) === 1, 'the invoice emailed');
    await w.settled();
    expect(w.invoices(dealId).map((i) => i.status)).toEqual(['open']);
    expect(w.notes(dealId).at(-1)).toMatch(/^Invoice \S+ approved \(the approval stage\) and sent to the client\.$/);
    expect((await dealView(w, dealId)).accounting.review).toBe('sent');
    // Xero: the approved invoice's online link replaces the accountant's link on the deal.
    if (backend === 'xero') expect(String(w.field(dealId, w.fields.invoiceUrl))).toMatch(/^https:\/\/in\.xero\.com\//);

    // Back and forth, a replayed webhook, a sweep: never sent twice, never re-created.
    w.move(dealId, w.stages.invoice);
    await w.settled();
    w.move(dealId, w.stages.approval);
    await w.settled();
    await w.reconcile();
    await w.settled();
    expect(w.emails(invoiceId)).toBe(1);
    expect(w.invoices(dealId)).toHaveLength(1);
  });

  it("the approval stage's webhooks go missing: the reconciler finds the deal there and sends the draft, once", async () => {
    world = await startWorld(backend, { invoice: { review: { approvalStages: ['Invoice approved'] } } });
    const w = world;
    const { dealId, invoiceId } = await drafted(w);
    // Kommo sends the move as two requests (status, update); both go missing.
    w.kommo.dropNextWebhooks(2);
    w.move(dealId, w.stages.approval);
    await w.settled();
    expect(w.emails(invoiceId)).toBe(0);
    await w.reconcile();
    await waitFor(() => w.emails(invoiceId) === 1, 'the invoice emailed after the sweep');
    await w.settled();
    await w.reconcile();
    await w.settled();
    expect(w.emails(invoiceId)).toBe(1);
    expect((await dealView(w, dealId)).accounting.review).toBe('sent');
  });

  it("the email's answer is lost on the approval stage: the retry finds it sent and sends nothing more", async () => {
    let armed = false;
    const isEmail = (method: string, path: string) => method === 'POST' && /\/(invoices\/\d+\/email|Invoices\/[0-9a-f-]{36}\/Email)$/.test(path);
    world = await startWorld(backend, { invoice: { review: { approvalStages: ['Invoice approved'] } }, loseAnswers: (method, path) => armed && isEmail(method, path) && !(armed = false) });
    const w = world;
    const { dealId, invoiceId } = await drafted(w);
    armed = true;
    w.move(dealId, w.stages.approval);
    await waitFor(async () => (await dealView(w, dealId)).accounting.review === 'sent', 'the review state sent');
    await w.settled();
    expect(w.lost()).toBe(1);
    expect(w.emails(invoiceId)).toBe(1);
    expect(w.notes(dealId).filter((n) => n.includes('sent to the client'))).toHaveLength(1);
  });

  it('approved by the accountant in the accounting system: the relay sends it, once', async () => {
    world = await startWorld(backend, { invoice: { review: {} } });
    const w = world;
    const { dealId, invoiceId } = await drafted(w);
    w.approveInBooks(invoiceId);
    // Xero tells by webhook; Zoho Books' workflow webhook is for payments, so its reconciler finds the change.
    await w.reconcile();
    await waitFor(() => w.emails(invoiceId) === 1, 'the approved invoice emailed');
    await w.settled();
    await w.reconcile();
    await w.settled();
    expect(w.emails(invoiceId)).toBe(1);
    expect(w.invoices(dealId).map((i) => i.status)).toEqual(['open']);
    expect(w.notes(dealId).at(-1)).toMatch(new RegExp(`^Invoice \\S+ approved \\(approval in ${SYSTEM}\\) and sent to the client\\.$`));
    expect((await dealView(w, dealId)).accounting.review).toBe('sent');
  });

  it('sent by the accountant from the accounting system: the relay sends nothing and records it sent', async () => {
    world = await startWorld(backend, { invoice: { review: { approvalStages: ['Invoice approved'] } } });
    const w = world;
    const { dealId, invoiceId } = await drafted(w);
    w.sendInBooks(invoiceId);
    const sentByPerson = w.emails(invoiceId);
    await w.reconcile();
    await waitFor(async () => (await dealView(w, dealId)).accounting.review === 'sent', 'the review state sent');
    await w.settled();
    expect(w.notes(dealId).at(-1)).toMatch(new RegExp(`^Invoice \\S+ was sent from ${SYSTEM}\\.$`));
    // The approval stage afterwards sends nothing either.
    w.move(dealId, w.stages.approval);
    await w.settled();
    expect(w.emails(invoiceId)).toBe(sentByPerson);
    expect(w.calls().filter((c) => /\/email$/i.test(c))).toEqual([]);
  });

  it("the deal's amount changes while its untouched draft waits: the draft is updated once, with a note; then sent with the new amount", async () => {
    world = await startWorld(backend, { invoice: { review: { approvalStages: ['Invoice approved'] } } });
    const w = world;
    const { dealId, invoiceId } = await drafted(w, 1000);
    expect(w.lines(invoiceId).map(([, rate]) => rate)).toEqual([1000]);
    w.changeDeal(dealId, { price: 1500 });
    await waitFor(() => w.notes(dealId).some((n) => n.includes('updated from the deal')), 'the update note');
    await w.settled();
    expect(w.lines(invoiceId).map(([, rate]) => rate)).toEqual([1500]);
    const updates = w.notes(dealId).filter((n) => n.includes('updated from the deal'));
    expect(updates).toEqual([expect.stringMatching(/^Invoice draft \S+ updated from the deal \(amount 1,000(\.00)? [A-Z]{3} → 1,500(\.00)? [A-Z]{3}\); still waiting for approval\.$/)]);
    // The same change seen again (a sweep, our own writes' webhooks): no second update.
    await w.reconcile();
    await w.settled();
    expect(w.notes(dealId).filter((n) => n.includes('updated from the deal'))).toHaveLength(1);
    w.move(dealId, w.stages.approval);
    await waitFor(() => w.emails(invoiceId) === 1, 'the invoice emailed');
    await w.settled();
    expect(w.invoices(dealId).map((i) => [i.status, i.total > 1000])).toEqual([['open', true]]);
  });

  it('a draft a person edited is never overwritten: the deal changes, a note says so', async () => {
    world = await startWorld(backend, { invoice: { review: { approvalStages: ['Invoice approved'] } } });
    const w = world;
    const { dealId, invoiceId } = await drafted(w, 1000);
    // Zoho's last_modified_time has whole seconds: the accountant edits a moment later, as people do.
    await new Promise((r) => setTimeout(r, 1100));
    w.editInBooks(invoiceId);
    await w.settled();
    w.changeDeal(dealId, { price: 2000 });
    await waitFor(() => w.notes(dealId).some((n) => n.includes('did not overwrite')), 'the kept-edit note');
    await w.settled();
    expect(w.lines(invoiceId)).toEqual([['Edited by the accountant', 777]]);
    expect(w.notes(dealId).filter((n) => n.includes('did not overwrite'))).toEqual([
      expect.stringMatching(new RegExp(`^The deal changed \\(amount 1,000(\\.00)? [A-Z]{3} → 2,000(\\.00)? [A-Z]{3}\\), but invoice draft \\S+ was edited in ${SYSTEM}, so the relay did not overwrite it\\. Update the draft there if needed\\.$`)),
    ]);
    expect(w.calls().filter((c) => /^PUT \/books\/v3\/invoices\/\d+$/.test(c))).toEqual([]);
    // Approved afterwards: the accountant's version goes out.
    w.move(dealId, w.stages.approval);
    await waitFor(() => w.emails(invoiceId) === 1, 'the invoice emailed');
    await w.settled();
    expect(w.lines(invoiceId)).toEqual([['Edited by the accountant', 777]]);
  });
});
