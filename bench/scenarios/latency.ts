// End-to-end latency: with L ms added to every sandbox API call, the time from the stage move (the Kommo
// fake fires the status webhook in that same tick) to the PATCH that writes the Invoice URL taking effect,
// one deal at a time so that it is latency, not throughput. Beside it the critical path: the API calls the
// relay made for that deal, one after another, times L — what no implementation calling the APIs in
// sequence can beat. The difference is the relay's own overhead: intake, queue, database, scheduling.
import { performance } from 'node:perf_hooks';
import { Resources } from '../temp.js';
import { startFleet } from './multi.js';
import { addDeals, percentile, scaleEnv, sleep, startRelayProcess, startWorld, trackInvoiceLinks, until, type TimeScale } from './world.js';

export interface LatencyOptions {
  deals: number;
  latencyMs: number;
  scale: TimeScale;
  /** This many relays on one PostgreSQL database behind one address, instead of one relay on SQLite. */
  processes?: number;
}

export interface LatencyResult {
  samples: number;
  latencyMs: number;
  e2e: { p50: number; p99: number; max: number };
  /** Sequential API calls per invoice (Kommo + Zoho, counted from the fakes' logs), and those × latency. */
  callsPerInvoice: { min: number; max: number; p50: number };
  criticalPathP50Ms: number;
  /** e2e − critical path, per deal: the relay's own share. */
  overhead: { p50: number; p99: number };
  /** Calls that overlapped the previous one (0 = strictly one after another). */
  overlappingCalls: number;
  /** The status webhook's answer time as Kommo saw it. */
  webhookAck: { p50: number; p99: number };
}

export async function runLatency(o: LatencyOptions): Promise<LatencyResult> {
  const res = new Resources();
  try {
    const w = await startWorld(res, { scale: o.scale });
    const { s } = w;
    // One warm-up deal first: the relay's first job pays for JIT compilation and connection set-up.
    const deals = addDeals(s, o.deals + 1, 'latency');
    if (o.processes) {
      await startFleet(res, { scale: o.scale, processes: o.processes, world: w });
    } else {
      const relay = await startRelayProcess(w, s.env({ ...scaleEnv(o.scale), LOG_LEVEL: 'warn' }));
      res.add(() => relay.child.stop());
      s.connectRelay(relay.url);
    }
    s.kommo.faults.set({ latencyMs: o.latencyMs });
    s.zoho.faults.set({ latencyMs: o.latencyMs });
    const links = trackInvoiceLinks(s);

    const e2e: number[] = [];
    const calls: number[] = [];
    const overhead: number[] = [];
    let overlapping = 0;
    for (const [i, id] of deals.entries()) {
      const since = { zoho: s.zoho.requests.length, kommo: s.kommo.requests.length };
      const started = performance.now();
      s.moveToInvoice(id);
      if (!(await until(() => links.has(id), 30_000, 1))) throw new Error(`deal ${id} was not invoiced within 30 s`);
      const ms = links.get(id)! - started;
      const apiCalls = [...s.zoho.requests.slice(since.zoho), ...s.kommo.requests.slice(since.kommo)]
        .filter((r) => /^\/(books\/v3|api\/v4|oauth)\//.test(r.path))
        .sort((a, b) => a.at - b.at);
      // Let the job record its success before the next deal, so deals never overlap.
      await sleep(50);
      if (i === 0) continue;
      e2e.push(ms);
      calls.push(apiCalls.length);
      overhead.push(ms - apiCalls.length * o.latencyMs);
      // Arrival times are in whole ms: a call that arrived before the previous one could have been answered overlapped it.
      apiCalls.forEach((r, j) => {
        if (j > 0 && r.at < apiCalls[j - 1]!.at + o.latencyMs - 1) overlapping++;
      });
    }
    const acks = s.kommo.deliveries.filter((d) => d.events.includes('status_lead') && d.durationMs !== undefined).map((d) => d.durationMs!);
    return {
      samples: e2e.length,
      latencyMs: o.latencyMs,
      e2e: { p50: percentile(e2e, 0.5), p99: percentile(e2e, 0.99), max: Math.max(...e2e) },
      callsPerInvoice: { min: Math.min(...calls), max: Math.max(...calls), p50: percentile(calls, 0.5) },
      criticalPathP50Ms: percentile(calls, 0.5) * o.latencyMs,
      overhead: { p50: percentile(overhead, 0.5), p99: percentile(overhead, 0.99) },
      overlappingCalls: overlapping,
      webhookAck: { p50: percentile(acks, 0.5), p99: percentile(acks, 0.99) },
    };
  } finally {
    await res.release();
  }
}
