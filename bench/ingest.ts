// Ingest: how fast the relay acknowledges Kommo webhooks, next to a bare Express endpoint on the same
// machine. Both run as child processes; the load generator and the sandbox (which the relay needs at
// start-up to resolve the mapping) stay in this process. The relay runs intake-only (WORKER_CONCURRENCY=0)
// so that only the webhook path is measured, not jobs calling the sandbox.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startScenario, WEBHOOK_SECRET } from '../sandbox/scenario.js';
import { freePort, relayNodeArgs, startChild, type Child } from './child.js';
import { closedLoop, openLoop, type Endpoint, type LoadResult } from './load.js';
import { Resources } from './temp.js';
import { webhookBodies } from './webhook-body.js';

export interface IngestOptions {
  requests: number;
  concurrency: number;
  /** Requests before measuring anything, so both servers are past JIT warm-up. */
  warmup: number;
  rate: number;
  openSeconds: number;
  /** Extra node flags for the relay child, e.g. --cpu-prof to see where its time goes. */
  relayNodeArgs?: string[];
}

export interface ServerFigures {
  open: LoadResult;
  closed: LoadResult;
  /** Server CPU time (all its threads) per closed-loop request, in microseconds: its cost per webhook
   *  whatever the load generator could deliver. */
  cpuPerRequestUs?: number;
  /** Bytes written to disk per closed-loop request (WAL frames, checkpoints): the price of durability. */
  diskBytesPerRequest?: number;
  /** 2xx answers over warm-up, closed and open loop. */
  acknowledged: number;
  memory?: { rss: number; peak: number };
}

export interface IngestResult {
  relay: ServerFigures & { storedEvents: number; jobs: number };
  bare: ServerFigures;
}

export async function benchIngest(opts: IngestOptions): Promise<IngestResult> {
  const res = new Resources();
  try {
    const dir = res.tempDir('relay-bench-ingest-');
    const scenario = await startScenario({ dir });
    res.add(() => scenario.close());
    const body = {
      accountId: scenario.kommo.state.account.id,
      subdomain: scenario.kommo.state.account.subdomain,
      pipelineId: scenario.pipelineId,
      invoiceStatusId: scenario.stages.invoice,
      fromStatusId: scenario.stages.proposal,
    };

    const barePort = await freePort();
    const bareChild = await startChild({ script: new URL('./bare-server.js', import.meta.url), env: { PORT: String(barePort) }, cwd: dir, port: barePort });
    res.add(() => bareChild.stop());
    const bare = await measure(bareChild, { port: barePort, path: '/hook' }, webhookBodies(body), opts);
    await bareChild.stop();

    const relayPort = await freePort();
    const relayChild = await startChild({
      script: new URL('../src/main.js', import.meta.url),
      // cwd is the temp dir so that no .env of the working copy leaks into the child.
      env: scenario.env({ WORKER_CONCURRENCY: '0', LOG_LEVEL: 'warn', PORT: String(relayPort) }),
      cwd: dir,
      port: relayPort,
      nodeArgs: [...relayNodeArgs(), ...(opts.relayNodeArgs ?? [])],
    });
    res.add(() => relayChild.stop());
    const relay = await measure(relayChild, { port: relayPort, path: `/webhooks/kommo/${WEBHOOK_SECRET}` }, webhookBodies(body), opts);
    const exitCode = await relayChild.stop();
    if (exitCode !== 0) throw new Error(`the relay exited with code ${exitCode} on SIGTERM`);

    // Counted after a clean shutdown, from the file itself: what survived is what was committed.
    const db = new Database(join(dir, 'relay.db'), { readonly: true, fileMustExist: true });
    const count = (table: string) => (db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n;
    const stored = { storedEvents: count('events'), jobs: count('jobs') };
    db.close();
    return { relay: { ...relay, ...stored }, bare };
  } finally {
    await res.release();
  }
}

async function measure(child: Child, to: Endpoint, nextBody: () => Buffer, opts: IngestOptions): Promise<ServerFigures> {
  const warm = await closedLoop(to, nextBody, opts.warmup, opts.concurrency);
  // The open loop first: the ack-latency target is about a steady rate, so it must not pay for the
  // checkpoint, garbage and disk write-back a saturating closed loop leaves behind.
  const open = await openLoop(to, nextBody, opts.rate, opts.openSeconds);
  const before = { cpu: child.cpuMs(), disk: child.diskWrites() };
  const closed = await closedLoop(to, nextBody, opts.requests, opts.concurrency);
  const after = { cpu: child.cpuMs(), disk: child.diskWrites() };
  const perRequest = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : (b - a) / opts.requests);
  const cpuMs = perRequest(before.cpu, after.cpu);
  const diskBytesPerRequest = perRequest(before.disk, after.disk);
  const memory = child.memory();
  return {
    open,
    closed,
    acknowledged: warm.ok + closed.ok + open.ok,
    ...(cpuMs === undefined ? {} : { cpuPerRequestUs: cpuMs * 1000 }),
    ...(diskBytesPerRequest === undefined ? {} : { diskBytesPerRequest }),
    ...(memory ? { memory } : {}),
  };
}
