// Load generator on node:http with a keep-alive Agent (no dependencies). Two shapes:
// - closed loop: C workers, each sends its next request when the previous answer arrives -> throughput;
// - open loop: requests scheduled at a fixed rate whatever the server does, latency measured from the
//   *scheduled* send time, so time spent queueing (in the client or the server) counts. A closed loop
//   alone would hide a stall: its senders simply wait, and the requests a real sender would have made
//   meanwhile never get measured (coordinated omission).
import http from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Endpoint {
  port: number;
  path: string;
}

export interface LoadResult {
  requests: number;
  ok: number;
  /** Answers outside 2xx plus transport errors (status 0). */
  failed: number;
  elapsedMs: number;
  /** Requests per second over the whole run. */
  throughput: number;
  p50: number;
  p99: number;
  max: number;
}

/** Resolves with the status code, or 0 on a transport error; never rejects. */
function post(agent: http.Agent, to: Endpoint, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        agent,
        host: '127.0.0.1',
        port: to.port,
        method: 'POST',
        path: to.path,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

export async function closedLoop(to: Endpoint, nextBody: () => Buffer, total: number, concurrency: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = new Float64Array(total);
  let next = 0;
  let ok = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const body = nextBody();
      const t0 = performance.now();
      const status = await post(agent, to, body);
      latencies[i] = performance.now() - t0;
      if (status >= 200 && status < 300) ok++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - started;
  agent.destroy();
  return summarize(latencies, ok, elapsedMs);
}

export async function openLoop(to: Endpoint, nextBody: () => Buffer, ratePerSecond: number, seconds: number): Promise<LoadResult> {
  // No socket cap: with one, requests would wait for a free socket in the client (still counted, since
  // latency runs from the scheduled time, but the server would never see the real arrival rate).
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const total = Math.round(ratePerSecond * seconds);
  const interval = 1000 / ratePerSecond;
  const latencies = new Float64Array(total);
  const answers: Promise<void>[] = [];
  let ok = 0;
  const bodies = Array.from({ length: total }, nextBody); // built up front: no encoding work on the send path
  const start = performance.now() + 10;
  let sent = 0;
  await new Promise<void>((done) => {
    // A 1 ms timer rather than a busy loop: the generator shares the CPU with the server under test.
    // Each tick sends everything that is due; timer lateness shows up as latency, which is conservative.
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        const i = sent++;
        const scheduled = start + i * interval;
        answers.push(
          post(agent, to, bodies[i]!).then((status) => {
            latencies[i] = performance.now() - scheduled;
            if (status >= 200 && status < 300) ok++;
          }),
        );
      }
      if (sent < total) setTimeout(tick, 1);
      else done();
    };
    setTimeout(tick, 10);
  });
  await Promise.all(answers);
  const elapsedMs = performance.now() - start;
  agent.destroy();
  return summarize(latencies, ok, elapsedMs);
}

function summarize(latencies: Float64Array, ok: number, elapsedMs: number): LoadResult {
  const sorted = latencies.slice().sort();
  return {
    requests: sorted.length,
    ok,
    failed: sorted.length - ok,
    elapsedMs,
    throughput: (sorted.length / elapsedMs) * 1000,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? 0,
  };
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
