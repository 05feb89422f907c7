// API calls per invoice: the relay in-process against the sandbox, one deal of a new customer and then a
// second deal of the same Kommo contact, counting what the relay asked of the accounting system (Zoho Books
// or Xero, read through the scenario's neutral view, sandbox/books) and of Kommo for each. Calls are what the
// rate limits (Zoho 100/min, Xero 60/min per organisation, Kommo 7/s) and the daily caps are spent on; the
// identity service's (tokens, Xero's connections) are kept apart.
import { performance } from 'node:perf_hooks';
import { parseEnv } from '../src/config/env.js';
import { startRelay, type Relay } from '../src/relay.js';
import type { BooksCall } from '../sandbox/books/view.js';
import { startScenario, type SandboxAccounting, type Scenario } from '../sandbox/scenario.js';
import { isIdentityCall } from './scenarios/world.js';
import { Resources } from './temp.js';

export interface InvoiceCalls {
  /** Accounting API calls, e.g. 'POST /books/v3/invoices', in the order made. */
  api: string[];
  /** What each of them did (sandbox/books BooksOp), e.g. 'invoice.create'. */
  ops: string[];
  /** Of `api`, those made after the deal had its Invoice URL (Xero: reading the relay's own invoice back on
   *  the events Xero sends about it). Counted in `api` too: the invoice set them off. */
  after: string[];
  /** Identity-service requests (minting an access token; Xero's connections), kept apart from API calls. */
  identity: string[];
  kommo: string[];
  /** From the deal entering the stage to its Invoice URL field being set. */
  ms: number;
}

export interface CallsResult {
  accounting: SandboxAccounting;
  newCustomer: InvoiceCalls;
  repeatCustomer: InvoiceCalls;
}

export async function benchCalls(accounting: SandboxAccounting = 'zoho'): Promise<CallsResult> {
  const res = new Resources();
  try {
    const dir = res.tempDir('relay-bench-calls-');
    // The system's real limits: two invoices and the start-up stay well within them.
    const scenario = await startScenario({ dir, accounting });
    res.add(() => scenario.close());
    const relay = await startRelay(
      parseEnv(
        scenario.env({
          LOG_LEVEL: 'silent',
          // No reconciler sweeps: their calls would mix with the invoice's.
          RECONCILE_INTERVAL_SECONDS: '0',
          // No job is running when we stop (each was awaited), and a longer timeout would only keep this
          // process alive: Worker.stop leaves its shutdown timer pending.
          SHUTDOWN_TIMEOUT_SECONDS: '0',
        }),
      ),
    );
    res.add(() => relay.stop());
    scenario.connectRelay(relay.url);

    const first = scenario.addClientDeal({ name: 'Аудит сайта + SEO', contactName: 'Анна Шмидт', email: 'anna.schmidt@example.de' });
    const newCustomer = await invoiceOne(scenario, relay, first.dealId);
    const second = scenario.addClientDeal({ name: 'Поддержка сайта, декабрь', contactId: first.contactId });
    const repeatCustomer = await invoiceOne(scenario, relay, second.dealId);
    if (scenario.books.violations.length) throw new Error(`the relay's traffic with ${accounting} broke its published contract: ${JSON.stringify(scenario.books.violations)}`);
    return { accounting, newCustomer, repeatCustomer };
  } finally {
    await res.release();
  }
}

/** Moves the deal into the invoicing stage and returns the calls made from then until the queue is empty. */
async function invoiceOne(s: Scenario, relay: Relay, dealId: number): Promise<InvoiceCalls> {
  // The relay throttles itself to Kommo's 7 calls/s; let the window of earlier calls pass so the time
  // measured is this invoice's own, not a wait behind start-up or the previous deal.
  await new Promise((r) => setTimeout(r, KOMMO_WINDOW_MS));
  // Everything before this point (start-up, the previous deal) is not this invoice's doing.
  const since = { books: s.books.callCount, kommo: s.kommo.requests.length };
  const started = performance.now();
  s.moveToInvoice(dealId);
  await until(() => invoiceUrlOf(s, dealId), `deal ${dealId} to show its Invoice URL`);
  const ms = performance.now() - started;
  const linkedAt = s.books.callCount;
  await until(async () => {
    const job = await relay.store.db.selectFrom('jobs').select('state').where('deal_id', '=', String(dealId)).where('state', '=', 'done').executeTakeFirst();
    return job !== undefined;
  }, `the invoice job of deal ${dealId} to finish`);
  // The relay's own field write fires update webhooks back at it, and a system that tells of the relay's own
  // changes (Xero) sends its events; let them land, and the jobs they made finish, so that any call they
  // caused is counted against this invoice.
  for (let round = 0; round < 2; round++) {
    await Promise.all([s.kommo.flushWebhooks(), s.books.flushWebhooks()]);
    await new Promise((r) => setTimeout(r, 300));
    await until(async () => (await relay.store.db.selectFrom('jobs').select('id').where('state', 'in', ['queued', 'running']).execute()).length === 0, 'the queue to drain');
  }

  const calls = s.books.calls(since.books);
  const api = calls.filter((c) => !isIdentityCall(c));
  const after = s.books.calls(linkedAt).filter((c) => !isIdentityCall(c));
  return {
    api: api.map(call),
    ops: api.map((c) => c.op),
    after: after.map(call),
    identity: calls.filter(isIdentityCall).map(call),
    kommo: s.kommo.requests
      .slice(since.kommo)
      .filter((r) => r.path.startsWith('/api/v4'))
      .map(call),
    ms,
  };
}

const KOMMO_WINDOW_MS = 1100;
const call = (r: Pick<BooksCall, 'method' | 'path'>) => `${r.method} ${r.path}`;

function invoiceUrlOf(s: Scenario, dealId: number): unknown {
  return s.kommo.state.leads.get(dealId)?.customFields.find((f) => f.fieldId === s.fields.invoiceUrl)?.values[0]?.value;
}

async function until(check: () => unknown, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
