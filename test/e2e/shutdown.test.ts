// SIGTERM in the middle of a run, to the relay as a child process: it stops taking webhooks, lets the jobs
// it is running finish, leaves the rest queued, closes the database and exits 0. Started again on the
// same file, it finishes the rest: no job lost, every deal invoiced exactly once.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScenario, WEBHOOK_SECRET, type Scenario } from '../../sandbox/scenario.js';
import { freePort, startChildRelay, type ChildRelay } from '../support/child-relay.js';
import { waitFor } from '../support/e2e.js';
import { tempDir } from '../support/tmp.js';

describe('graceful shutdown', () => {
  const dir = tempDir('relay-sigterm-');
  let s: Scenario;
  let relay: ChildRelay | undefined;

  beforeAll(async () => {
    // Kommo keeps delivering while the relay is down (it retries non-2xx answers and refused connections).
    s = await startScenario({ dir: dir.path, kommo: { webhookRetries: 60, webhookRetryDelayMs: 100 } });
  });
  afterAll(async () => {
    if (relay?.process.exitCode === null) relay.process.kill('SIGKILL');
    await s.close();
    dir.cleanup();
  });

  it('SIGTERM mid-run: running jobs finish, the rest stay queued; after a restart every deal has its one invoice', async () => {
    const port = await freePort();
    const env = s.env({ LOG_LEVEL: 'info', WORKER_CONCURRENCY: '4', SHUTDOWN_TIMEOUT_SECONDS: '20' });
    const file = env.DATABASE_URL!.replace(/^sqlite:/, '');
    relay = await startChildRelay(env, port);
    s.connectRelay(`http://127.0.0.1:${port}`);
    s.zoho.faults.set({ latencyMs: 150 }); // each invoice takes a while: jobs are in flight when the signal comes

    const deals = Array.from({ length: 16 }, (_, i) => s.addClientDeal({ email: `sigterm${i}@example.com` }).dealId);
    s.moveToInvoice(...deals);
    const db = new Database(file, { readonly: true });
    const jobIds = (state: string) => (db.prepare('select id from jobs where state = ? order by id').all(state) as Array<{ id: number }>).map((r) => r.id);
    try {
      const running = await waitFor(() => (jobIds('running').length >= 2 ? jobIds('running') : undefined), 'jobs to be running');

      relay.process.kill('SIGTERM');
      const child = relay;
      await waitFor(() => child.output.join('').includes('"msg":"shutting down: no new webhooks, finishing running jobs"'), 'the relay to begin its shutdown');
      // From now on the relay takes no webhook: the connection is refused or answered 503, never stored.
      const during = await fetch(`http://127.0.0.1:${port}/webhooks/kommo/${WEBHOOK_SECRET}`, { method: 'POST', body: 'x=1' }).then(
        (r) => r.status,
        () => 'refused',
      );
      expect([503, 'refused']).toContain(during);
      expect(await relay.exited).toBe(0);
      const output = relay.output.join('');
      expect(output).toContain('"msg":"shutting down: no new webhooks, finishing running jobs"');
      expect(output).toContain('"msg":"stopped"');
      expect(output).not.toContain('could not record the job failure');

      // The jobs that were running finished; none is left holding a lease; the rest wait in the queue.
      expect(jobIds('running')).toEqual([]);
      const done = jobIds('done');
      for (const id of running) expect(done).toContain(id);
      expect(jobIds('queued').length).toBeGreaterThan(0);
      expect(jobIds('failed').length + jobIds('dead').length).toBe(0);
      const invoicedBeforeRestart = s.zoho.state.invoices.size;
      expect(invoicedBeforeRestart).toBe(done.length);

      relay = await startChildRelay(env, port);
      const linked = () => deals.filter((id) => s.kommo.state.leads.get(id)?.customFields.some((f) => f.fieldId === s.fields.invoiceUrl && f.values[0]?.value));
      await waitFor(() => linked().length === deals.length, `all ${deals.length} deals to be invoiced (${linked().length} so far)`, 60_000);
      // The deal's fields are written just before its job is recorded as done.
      await waitFor(() => jobIds('queued').length + jobIds('running').length === 0, 'the last job to be recorded');

      // No job lost and none doubled: one job per deal, all done; one invoice and one email per deal.
      const jobs = db.prepare("select deal_id, state from jobs where kind = 'invoice_for_deal' order by deal_id").all() as Array<{ deal_id: string; state: string }>;
      expect(jobs).toEqual(deals.map((id) => ({ deal_id: String(id), state: 'done' })).sort((a, b) => a.deal_id.localeCompare(b.deal_id)));
      const invoices = [...s.zoho.state.invoices.values()];
      for (const id of deals) expect(invoices.filter((i) => i.referenceNumber === `KOMMO-${id}`)).toHaveLength(1);
      expect(invoices).toHaveLength(deals.length);
      expect(s.zoho.emails).toHaveLength(deals.length);
      expect(s.zoho.violations).toEqual([]);
    } finally {
      db.close();
    }
  }, 120_000);
});
