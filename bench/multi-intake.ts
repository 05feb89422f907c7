// Intake with several relays on one PostgreSQL database: each takes its share of the webhooks (the load
// generator spreads them, as a balancer would, so that no balancer in this process is what is measured).
// Intake-only relays (WORKER_CONCURRENCY=0): only the webhook path is measured.
import { performance } from 'node:perf_hooks';
import { WEBHOOK_SECRET } from '../sandbox/scenario.js';
import { rawClosedLoop } from './load.js';
import { onDatabase, startFleet } from './scenarios/multi.js';
import type { TimeScale } from './scenarios/world.js';
import { Resources } from './temp.js';
import { webhookBodies } from './webhook-body.js';

export interface MultiIntakeOptions {
  processes: number;
  requests: number;
  concurrency: number;
  warmup: number;
  scale: TimeScale;
  /** Node options of the relay children (--cpu-prof). */
  nodeArgs?: string[];
}

export interface MultiIntakeResult {
  processes: number;
  throughput: number;
  failed: number;
  acknowledged: number;
  storedEvents: number;
  /** CPU time of all the relays together per webhook, and the cores they used meanwhile (Linux /proc). */
  cpuPerRequestUs?: number;
  coresUsed?: number;
}

export async function benchMultiIntake(o: MultiIntakeOptions): Promise<MultiIntakeResult> {
  const res = new Resources();
  try {
    const fleet = await startFleet(res, { scale: o.scale, processes: o.processes, env: { WORKER_CONCURRENCY: '0', RECONCILE_INTERVAL_SECONDS: '0' }, ...(o.nodeArgs ? { nodeArgs: o.nodeArgs } : {}) });
    const { s } = fleet.world;
    const next = webhookBodies({ accountId: s.kommo.state.account.id, subdomain: s.kommo.state.account.subdomain, pipelineId: s.pipelineId, invoiceStatusId: s.stages.invoice, fromStatusId: s.stages.proposal });
    const endpoints = fleet.relays.map((r) => ({ port: r.port, path: `/webhooks/kommo/${WEBHOOK_SECRET}` }));
    const share = (n: number) => Math.ceil(n / o.processes);
    const warm = await Promise.all(endpoints.map((e) => rawClosedLoop(e, next, share(o.warmup), share(o.concurrency))));
    const cpu = () => fleet.relays.reduce<number | undefined>((sum, r) => (sum === undefined || r.child.cpuMs() === undefined ? undefined : sum + r.child.cpuMs()!), 0);
    const cpuBefore = cpu();
    const started = performance.now();
    const loops = await Promise.all(endpoints.map((e) => rawClosedLoop(e, next, share(o.requests), share(o.concurrency))));
    const elapsed = performance.now() - started;
    const cpuAfter = cpu();
    const cpuMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
    const ok = loops.reduce((n, l) => n + l.ok, 0);
    const storedEvents = await onDatabase(fleet.databaseUrl, async (c) => Number((await c.query<{ n: string }>('select count(*) as n from events')).rows[0]!.n));
    return {
      processes: o.processes,
      throughput: ok / (elapsed / 1000),
      failed: loops.reduce((n, l) => n + l.failed, 0),
      acknowledged: ok + warm.reduce((n, l) => n + l.ok, 0),
      storedEvents,
      ...(cpuMs === undefined ? {} : { cpuPerRequestUs: (cpuMs * 1000) / loops.reduce((n, l) => n + l.requests, 0), coresUsed: cpuMs / elapsed }),
    };
  } finally {
    await res.release();
  }
}
