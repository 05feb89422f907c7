// The relay killed with SIGKILL mid-flight, as a child process, and started again on the same database
// file, several times, for each accounting backend: every deal still ends with exactly one customer, one
// invoice and one email.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScenario, type Scenario } from '../../sandbox/scenario.js';
import { ACCOUNTING_BACKENDS } from '../support/accounting-backends.js';
import { freePort, startChildRelay, type ChildRelay } from '../support/child-relay.js';
import { waitFor } from '../support/e2e.js';
import { tempDir } from '../support/tmp.js';

describe.each(ACCOUNTING_BACKENDS)('%s: crash recovery', (accounting) => {
  const dir = tempDir('relay-crash-');
  let s: Scenario;
  let relay: ChildRelay | undefined;

  beforeAll(async () => {
    // Kommo keeps re-delivering while the relay is down (it retries non-2xx and refused connections).
    // This is about kills, not Xero's 60 calls a minute (which has its own tests): 24 deals, six starts that
    // each read the organisation's settings, and the events Xero sends about every invoice made and sent
    // need about three of its minutes. A restarted process does not know its predecessor's minute either.
    s = await startScenario({ accounting, dir: dir.path, kommo: { webhookRetries: 60, webhookRetryDelayMs: 100 }, apiLimits: 'roomy' });
  });
  afterAll(async () => {
    relay?.process.kill('SIGKILL');
    await s.close();
    dir.cleanup();
  });

  it('SIGKILL at random moments, restarted each time: every deal has exactly one invoice', async () => {
    const port = await freePort();
    const env = s.env({ JOB_LEASE_SECONDS: '1', JOB_BACKOFF_BASE_MS: '50', LOG_LEVEL: 'info', WORKER_CONCURRENCY: '4' });
    relay = await startChildRelay(env, port);
    s.connectRelay(`http://127.0.0.1:${port}`);
    // Slow the accounting system down a little so kills land between the steps of an invoice.
    s.books.setLatency(40);

    const deals = Array.from({ length: 24 }, (_, i) => s.addClientDeal({ email: `crash${i}@example.com` }).dealId);
    for (let i = 0; i < deals.length; i += 4) s.moveToInvoice(...deals.slice(i, i + 4));

    let kills = 0;
    const outputs: string[] = [];
    for (let k = 0; k < 5; k++) {
      await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 350)));
      relay.process.kill('SIGKILL');
      await relay.exited;
      kills++;
      outputs.push(...relay.output);
      relay = await startChildRelay(env, port);
    }

    const linked = () => deals.filter((id) => s.kommo.state.leads.get(id)?.customFields.some((f) => f.fieldId === s.fields.invoiceUrl && f.values[0]?.value));
    await waitFor(() => linked().length === deals.length, `all ${deals.length} deals to be invoiced (${linked().length} so far)`, 60_000);

    expect(kills).toBe(5);
    const invoices = s.books.invoices();
    for (const id of deals) expect(invoices.filter((i) => i.reference === `KOMMO-${id}`)).toHaveLength(1);
    expect(invoices).toHaveLength(deals.length);
    expect(s.books.customers()).toHaveLength(deals.length);
    const emailed = new Map<string, number>();
    for (const e of s.books.emails()) emailed.set(e.invoiceId, (emailed.get(e.invoiceId) ?? 0) + 1);
    expect([...emailed.values()].every((n) => n === 1)).toBe(true);
    expect(emailed.size).toBe(deals.length);
    // Each deal's fields point at its own invoice.
    for (const id of deals) {
      const inv = invoices.find((i) => i.reference === `KOMMO-${id}`)!;
      const lead = s.kommo.state.leads.get(id)!;
      expect(lead.customFields.find((f) => f.fieldId === s.fields.invoiceId)?.values[0]?.value).toBe(inv.id);
      expect(lead.customFields.find((f) => f.fieldId === s.fields.invoiceUrl)?.values[0]?.value).toBe(inv.url);
    }
    expect(s.books.violations).toEqual([]);

    // The kills did land mid-job: attempts cut off by a kill are on record as abandoned.
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(env.DATABASE_URL!.replace(/^sqlite:/, ''), { readonly: true });
    const abandoned = db.prepare("select count(*) as n from job_attempts where outcome = 'abandoned'").get() as { n: number };
    db.close();
    expect(abandoned.n).toBeGreaterThan(0);
  }, 120_000);
});
