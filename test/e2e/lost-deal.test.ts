// invoice.onLost through the sandboxes, for every backend: the manager moves a deal to Kommo's "Closed - lost"
// (143) and its stage webhook reaches the relay. `note`: the invoice stays open, a note says so and /admin lists
// it. `void`: an unpaid invoice is voided, a draft deleted, a partly paid one kept (note and /admin item); a
// retainer's recurring invoice is stopped. Without the option nothing happens, as before. `relay deal` and
// /admin show what was done (the same read model: /admin/deals/<id> as JSON is `relay deal <id> --json`).
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
  // Every write to Kommo was well-formed; close() checks the accounting contract (0 violations) and the logs.
  expect(w.kommo.requests.filter((r) => r.method !== 'GET' && (r.status ?? 0) >= 400)).toEqual([]);
  await w.close();
});

const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

async function invoiced(w: World, price = 1000): Promise<{ dealId: number; invoiceId: string }> {
  const dealId = w.addDeal({ price });
  w.move(dealId, w.stages.invoice);
  const invoiceId = String(await waitFor(() => w.field(dealId, w.fields.invoiceId), 'the invoice ID on the deal'));
  await w.settled();
  return { dealId, invoiceId };
}

async function lost(w: World, dealId: number) {
  w.move(dealId, w.stages.lost);
  await w.settled();
}

async function dealJson(w: World, dealId: number) {
  const res = await request(w.relay.url).get(`/admin/deals/${dealId}`).set(auth).set('Accept', 'application/json');
  expect(res.status).toBe(200);
  return res.body as { accounting: { lost?: { state: string; action: string | null; detail: string; open: boolean; recurringStopped: boolean; invoiceId: string | null } } };
}

describe.each(BACKENDS)('lost deals (%s)', (backend) => {
  it('without invoice.onLost nothing changes: the invoice stays open, no note, nothing on /admin', async () => {
    world = await startWorld(backend);
    const w = world;
    const { dealId } = await invoiced(w);
    const before = w.calls().length;
    await lost(w, dealId);
    expect(w.invoices(dealId).map((i) => i.status)).toEqual(['open']);
    expect(w.notes(dealId)).toEqual([]);
    // Not one call to the accounting system for the lost deal.
    expect(w.calls().slice(before)).toEqual([]);
    expect((await dealJson(w, dealId)).accounting).not.toHaveProperty('lost');
    expect((await request(w.relay.url).get('/admin').set(auth)).text).not.toContain('id="lost"');
  });

  it('note: the invoice stays open; the deal gets a note, /admin an item, `relay deal` says so; the lost deal reopened and lost again notes once', async () => {
    world = await startWorld(backend, { invoice: { onLost: 'note' } });
    const w = world;
    const { dealId, invoiceId } = await invoiced(w, 1000);
    await lost(w, dealId);
    expect(w.invoices(dealId).map((i) => i.status)).toEqual(['open']);
    const notes = w.notes(dealId);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/^Deal lost: invoice \S+ \([\d,.]+ [A-Z]{3} due\) is still open in (Zoho Books|Xero)\. Void it there if it should not be paid\.$/);
    const view = (await dealJson(w, dealId)).accounting.lost!;
    expect(view).toMatchObject({ state: 'done', action: 'noted', open: true, invoiceId, recurringStopped: false });
    const page = (await request(w.relay.url).get('/admin').set(auth)).text;
    expect(page).toContain(`<tr data-lost="${dealId}">`);
    // The operator's `relay deal <id>` (a real child process on the same database) says it too.
    const cli = await runCli(['deal', String(dealId)], w.env);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^  Lost\s+\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC: invoice \S+ still open — needs a person \(see \/admin\)$/m);
    expect(page).toMatch(/Lost deals with an open invoice/);

    // Reopened, lost again: the same invoice, still open: no second note.
    w.move(dealId, w.stages.incoming);
    await w.settled();
    await lost(w, dealId);
    expect(w.notes(dealId)).toHaveLength(1);
    expect(w.invoices(dealId)).toHaveLength(1);
  });

  it('void: an unpaid invoice is voided once, with a note; /admin lists nothing to do', async () => {
    world = await startWorld(backend, { invoice: { onLost: 'void' } });
    const w = world;
    const { dealId, invoiceId } = await invoiced(w, 1000);
    await lost(w, dealId);
    expect(w.invoices(dealId).map((i) => [i.id, i.status])).toEqual([[invoiceId, 'void']]);
    expect(w.notes(dealId)).toEqual([expect.stringMatching(/^Deal lost: invoice \S+ was voided in (Zoho Books|Xero) \(nothing had been paid\)\.$/)]);
    expect((await dealJson(w, dealId)).accounting.lost).toMatchObject({ state: 'done', action: 'voided', open: false });
    expect((await request(w.relay.url).get('/admin').set(auth)).text).not.toContain(`data-lost="${dealId}"`);
    // The replayed webhook (Kommo retries, the manager moves it again): voided once.
    const voids = () => w.calls().filter((c) => /\/status\/void$/.test(c) || /^POST \/api\.xro\/2\.0\/Invoices\/[0-9a-f-]{36}$/.test(c)).length;
    const once = voids();
    expect(once).toBe(1);
    w.move(dealId, w.stages.incoming);
    await w.settled();
    await lost(w, dealId);
    expect(voids()).toBe(once);
    expect(w.notes(dealId)).toHaveLength(2);
    expect(w.notes(dealId)[1]).toMatch(/was already void/);
  });

  it("void: the void's answer is lost: the retry reads the invoice, voids it once in effect, notes once", async () => {
    let armed = false;
    // Zoho: POST …/status/void; Xero: POST /Invoices/{id} (Status VOIDED). The first one only.
    const isVoid = (method: string, path: string) => method === 'POST' && (/\/invoices\/\d+\/status\/void$/.test(path) || /\/Invoices\/[0-9a-f-]{36}$/.test(path));
    world = await startWorld(backend, { invoice: { onLost: 'void' }, loseAnswers: (method, path) => armed && isVoid(method, path) && !(armed = false) });
    const w = world;
    const { dealId, invoiceId } = await invoiced(w, 1000);
    armed = true;
    await lost(w, dealId);
    expect(w.lost()).toBe(1);
    expect(w.invoices(dealId).map((i) => [i.id, i.status])).toEqual([[invoiceId, 'void']]);
    expect(w.notes(dealId)).toEqual([expect.stringMatching(/^Deal lost: invoice \S+ was voided in (Zoho Books|Xero) \(nothing had been paid\)\.$/)]);
    expect((await dealJson(w, dealId)).accounting.lost).toMatchObject({ state: 'done', action: 'voided', open: false });
  });

  it('void: a partly paid invoice is never voided: a note and an /admin item instead', async () => {
    world = await startWorld(backend, { invoice: { onLost: 'void' } });
    const w = world;
    const { dealId, invoiceId } = await invoiced(w, 1000);
    const total = w.invoices(dealId)[0]!.total;
    w.pay(invoiceId, 100);
    await waitFor(() => w.notes(dealId).some((n) => n.startsWith('Partial payment received')), 'the partial payment note');
    await w.settled();
    await lost(w, dealId);
    expect(w.invoices(dealId).map((i) => i.status)).toEqual(['partially_paid']);
    const note = w.notes(dealId).find((n) => n.startsWith('Deal lost'));
    expect(note).toMatch(new RegExp(`^Deal lost: invoice \\S+ is partly paid \\(${(total - 100).toLocaleString('en', { minimumFractionDigits: 2 }).replace(/[.]/g, '\\.')} [A-Z]{3} still due\\), so the relay did not void it\\. Settle it in (Zoho Books|Xero) \\(a credit note or a refund\\)\\.$`));
    expect((await dealJson(w, dealId)).accounting.lost).toMatchObject({ action: 'kept_partly_paid', open: true });
    expect((await request(w.relay.url).get('/admin').set(auth)).text).toContain(`<tr data-lost="${dealId}">`);
  });

  it('void: a draft (invoice.send false) is deleted, with a note', async () => {
    world = await startWorld(backend, { invoice: { onLost: 'void', send: false } });
    const w = world;
    const { dealId } = await invoiced(w, 1000);
    expect(w.invoices(dealId).map((i) => i.status)).toEqual(['draft']);
    await lost(w, dealId);
    // Zoho removes it; Xero keeps it as DELETED.
    expect(w.invoices(dealId).map((i) => i.status)).toEqual(backend === 'zoho' ? [] : ['deleted']);
    expect(w.notes(dealId)).toEqual([expect.stringMatching(/^Deal lost: the draft invoice \S+ was deleted in (Zoho Books|Xero)\.$/)]);
    expect((await dealJson(w, dealId)).accounting.lost).toMatchObject({ action: 'deleted', open: false });
  });

  it('void with invoice.review: the draft waiting for approval is deleted, and no longer waits', async () => {
    world = await startWorld(backend, { invoice: { onLost: 'void', review: {} } });
    const w = world;
    const { dealId, invoiceId } = await invoiced(w, 1000);
    expect(w.invoices(dealId).map((i) => i.status)).toEqual(['draft']);
    await lost(w, dealId);
    expect(w.invoices(dealId).map((i) => i.status)).toEqual(backend === 'zoho' ? [] : ['deleted']);
    const view = (await dealJson(w, dealId)) as { accounting: { lost?: { action: string | null }; review?: string } };
    expect(view.accounting.lost).toMatchObject({ action: 'deleted' });
    expect(view.accounting).not.toHaveProperty('review');
    await w.reconcile();
    await w.settled();
    expect(w.emails(invoiceId)).toBe(0);
    expect(w.notes(dealId).filter((n) => n.startsWith('Deal lost'))).toHaveLength(1);
  });

  it("void: a lost retainer's recurring invoice is stopped (no stop stage needed), with a note", async () => {
    world = await startWorld(backend, { invoice: { onLost: 'void' }, retainer: true });
    const w = world;
    const dealId = w.addDeal({ name: 'SEO retainer', price: 900 });
    w.move(dealId, w.stages.retainer);
    await waitFor(() => w.field(dealId, w.fields.recurringId), 'the recurring ID on the deal');
    await w.settled();
    expect(w.recurring(dealId)).toBe('active');
    await lost(w, dealId);
    expect(w.recurring(dealId)).toBe('stopped');
    expect(w.notes(dealId)).toEqual([expect.stringMatching(/^Deal lost: its recurring invoice was stopped in (Zoho Books|Xero)\.$/)]);
    expect((await dealJson(w, dealId)).accounting.lost).toMatchObject({ action: 'no_invoice', recurringStopped: true, open: false });
  });
});
