// Load generator on node:http with a keep-alive Agent (no dependencies). Two shapes:
// - closed loop: C workers, each sends its next request when the previous answer arrives -> throughput;
// - open loop: requests scheduled at a fixed rate whatever the server does, latency measured from the
//   *scheduled* send time, so time spent queueing (in the client or the server) counts. A closed loop
//   alone would hide a stall: its senders simply wait, and the requests a real sender would have made
//   meanwhile never get measured (coordinated omission).
import http from 'node:http';
import net from 'node:net';
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

/**
 * A closed loop on raw keep-alive sockets: each of C connections writes its next request (head and body in
 * one write) when the previous answer has been read whole. No `http` client machinery: a request costs the
 * generator a few microseconds instead of ~100, so on a small machine the cores go to the servers under
 * test (bench/multi-intake.ts, where a heavy client would eat what extra relays need). Answers are read by
 * their Content-Length (the relay always sends one); an answer without it, or a cut connection, counts as
 * failed and the connection is opened again.
 */
export async function rawClosedLoop(to: Endpoint, nextBody: () => Buffer, total: number, concurrency: number): Promise<LoadResult> {
  const latencies = new Float64Array(total);
  let next = 0;
  let ok = 0;
  const head = (length: number) =>
    Buffer.from(`POST ${to.path} HTTP/1.1\r\nHost: 127.0.0.1:${to.port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${length}\r\n\r\n`, 'latin1');
  const started = performance.now();
  const worker = () =>
    new Promise<void>((done) => {
      let socket: net.Socket | undefined;
      let pending: { i: number; t0: number } | undefined;
      let buffered: Buffer = Buffer.alloc(0);
      const finish = (status: number) => {
        const p = pending!;
        pending = undefined;
        latencies[p.i] = performance.now() - p.t0;
        if (status >= 200 && status < 300) ok++;
        send();
      };
      const open = () => {
        buffered = Buffer.alloc(0);
        const s = net.connect({ host: '127.0.0.1', port: to.port });
        s.setNoDelay(true);
        s.on('data', (chunk: Buffer) => {
          buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
          for (;;) {
            if (!pending) return;
            const end = buffered.indexOf('\r\n\r\n');
            if (end < 0) return;
            const answer = readHead(buffered.subarray(0, end));
            if (answer.length === undefined) {
              // Not framed by a length: give this connection up (the request counts as failed).
              s.destroy();
              return;
            }
            if (buffered.length < end + 4 + answer.length) return;
            buffered = buffered.subarray(end + 4 + answer.length);
            if (answer.close) {
              s.removeAllListeners('close');
              s.destroy();
              socket = undefined;
            }
            finish(answer.status);
          }
        });
        s.on('error', () => undefined);
        s.on('close', () => {
          socket = undefined;
          if (pending) finish(0);
        });
        return s;
      };
      const send = () => {
        if (next >= total) {
          socket?.end();
          done();
          return;
        }
        const i = next++;
        const body = nextBody();
        socket ??= open();
        pending = { i, t0: performance.now() };
        socket.write(Buffer.concat([head(body.length), body]));
      };
      send();
    });
  await Promise.all(Array.from({ length: concurrency }, worker));
  return summarize(latencies, ok, performance.now() - started);
}

/** Status, Content-Length and Connection: close of a response head (bytes before the blank line); no regex. */
function readHead(bytes: Buffer): { status: number; length: number | undefined; close: boolean } {
  const lines = bytes.toString('latin1').split('\r\n');
  const status = Number(lines[0]!.slice(9, 12));
  let length: number | undefined;
  let close = false;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') length = Number(value);
    else if (name === 'connection' && value.toLowerCase() === 'close') close = true;
  }
  return { status: Number.isFinite(status) ? status : 0, length: length !== undefined && Number.isSafeInteger(length) && length >= 0 ? length : undefined, close };
}
