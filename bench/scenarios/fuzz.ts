// Intake fuzz: N generated and mutated webhook requests (fast-check, seeded: a run can be replayed) against a
// relay started in this process (intake only), one at a time so each answer can be checked against the
// database: no 5xx and no dropped connection, ever; a 2xx stored exactly what it said it stored; a 4xx
// stored nothing; no unhandled promise rejection; /healthz keeps answering.
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import fc from 'fast-check';
import { parseEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { startRelay, type Relay } from '../../src/relay.js';
import { startScenario, WEBHOOK_SECRET } from '../../sandbox/scenario.js';
import { Resources } from '../temp.js';
import { webhookCase, type FuzzCase, type FuzzTarget } from './fuzz-bodies.js';
import { KOMMO_PATHOLOGICAL, pathologicalRequest, ZOHO_PATHOLOGICAL } from './pathological.js';
import { newSeed } from './world.js';

export interface FuzzOptions {
  bodies: number;
  seed?: number;
  /** Check /healthz after every this many requests. Default 100. */
  healthEvery?: number;
  /** After the random run, every pathological body at this size (bytes), `sweepRounds` times each, timed. Default 256 KB less a little, 3 rounds. */
  sweepBytes?: number;
  sweepRounds?: number;
}

/** The longest time the event loop stood still around one webhook, and which one. */
export interface LoopBlock {
  ms: number;
  label: string;
}

export interface FuzzViolation {
  label: string;
  status: number;
  problem: string;
  body: string;
}

export interface FuzzResult {
  seed: number;
  sent: number;
  kommo: number;
  zoho: number;
  status2xx: number;
  status4xx: number;
  status5xx: number;
  /** Requests that got no HTTP answer at all (connection reset, refused). */
  noAnswer: number;
  /** 2xx answers that stored at least one event. */
  storedRequests: number;
  storedEvents: number;
  /** Answers whose effect on the events table differs from what they said (2xx) or should be (4xx: none). */
  storeMismatches: number;
  unhandledRejections: number;
  healthFailures: number;
  /** Log lines at level error or above from the relay (a handler that threw, a failed store). */
  errorLogs: number;
  /** Answers by status code, e.g. { '200': 6100, '400': 2500, ... }. */
  byStatus: Record<string, number>;
  /** Requests built to make a parser work hard (long escape runs, deep nesting, ...), random and swept. */
  pathological: number;
  /** Over the sweep of every pathological body at `sweepBytes`: the longest event-loop block (monitorEventLoopDelay),
   *  the least of the rounds of the worst shape. */
  longestBlock: LoopBlock;
  /** The longest of any single request of the sweep (includes the machine's own pauses). */
  worstSingleBlock: LoopBlock;
  /** The same for a small ordinary webhook: the floor the machine gives. */
  ordinaryBlock: LoopBlock;
  sweepBytes: number;
  /** Requests of the sweep (counted in `sent` too). */
  swept: number;
  violations: FuzzViolation[];
}

const SIGNING_SECRET = 'fuzz-signing-secret-0123456789';

export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const seed = o.seed ?? newSeed();
  const res = new Resources();
  let rejections = 0;
  const onRejection = () => void rejections++;
  process.on('unhandledRejection', onRejection);
  res.add(() => process.off('unhandledRejection', onRejection));
  try {
    const dir = res.tempDir('relay-fuzz-');
    const s = await startScenario({ dir });
    res.add(() => s.close());
    let errorLogs = 0;
    const log = createLogger({ level: 'warn', destination: { write: (line: string) => void (/"level":(50|60)/.test(line) && errorLogs++) } });
    // Intake only: the fuzz is about what a request can do to the relay, not about the jobs it enqueues.
    const relay = await startRelay(parseEnv(s.env({ WORKER_CONCURRENCY: '0', RECONCILE_INTERVAL_SECONDS: '0', ZOHO_WEBHOOK_SIGNING_SECRET: SIGNING_SECRET, SHUTDOWN_TIMEOUT_SECONDS: '0' })), { log });
    res.add(() => relay.stop());
    const port = Number(new URL(relay.url).port);
    const target: FuzzTarget = {
      secret: WEBHOOK_SECRET,
      zohoSigningSecret: SIGNING_SECRET,
      accountId: s.kommo.state.account.id,
      subdomain: s.kommo.state.account.subdomain,
      pipelineId: s.pipelineId,
      triggerStatuses: [s.stages.invoice, s.stages.retainerActive, s.stages.completed],
      otherStatuses: [s.stages.incoming, s.stages.proposal, s.stages.paymentReceived],
    };

    const r: FuzzResult = {
      seed,
      sent: 0,
      kommo: 0,
      zoho: 0,
      status2xx: 0,
      status4xx: 0,
      status5xx: 0,
      noAnswer: 0,
      storedRequests: 0,
      storedEvents: 0,
      storeMismatches: 0,
      unhandledRejections: 0,
      healthFailures: 0,
      errorLogs: 0,
      byStatus: {},
      pathological: 0,
      longestBlock: { ms: 0, label: '' },
      worstSingleBlock: { ms: 0, label: '' },
      ordinaryBlock: { ms: 0, label: '' },
      sweepBytes: o.sweepBytes ?? 262_000,
      swept: 0,
      violations: [],
    };
    const violation = (c: FuzzCase, status: number, problem: string) => {
      if (r.violations.length < 20) r.violations.push({ label: c.label, status, problem, body: preview(c.body) });
    };
    const healthEvery = o.healthEvery ?? 100;

    // Always true: every case is checked and counted, and the run goes on to the full count, so one bug
    // does not hide the others. The seed replays the exact sequence.
    const check = async (c: FuzzCase): Promise<void> => {
      const before = await eventCount(relay);
      const answer = await send(port, c);
      const grew = (await eventCount(relay)) - before;
      r.sent++;
      if (c.label.includes('/pathological/')) r.pathological++;
      if (c.label.startsWith('kommo')) r.kommo++;
      else r.zoho++;
      r.byStatus[String(answer.status)] = (r.byStatus[String(answer.status)] ?? 0) + 1;
      if (answer.status === 0) {
        r.noAnswer++;
        violation(c, 0, `no answer: ${answer.error}`);
      } else if (answer.status >= 500) {
        r.status5xx++;
        violation(c, answer.status, `5xx: ${answer.text.slice(0, 200)}`);
      } else if (answer.status >= 400) {
        r.status4xx++;
        if (grew !== 0) {
          r.storeMismatches++;
          violation(c, answer.status, `answered ${answer.status} but stored ${grew} event(s)`);
        }
      } else {
        r.status2xx++;
        const said = storedCount(answer.text);
        if (said === undefined || said !== grew) {
          r.storeMismatches++;
          violation(c, answer.status, `answered ${answer.status} saying stored=${said} but the events table grew by ${grew}`);
        }
        if (grew > 0) {
          r.storedRequests++;
          r.storedEvents += grew;
        }
      }
      if (r.sent % healthEvery === 0 && !(await healthy(port))) {
        r.healthFailures++;
        violation(c, answer.status, '/healthz did not answer 200 after this request');
      }
    };
    const property = fc.asyncProperty(webhookCase(target), async (c) => {
      await check(c);
      return true;
    });
    await fc.assert(property, { numRuns: o.bodies, seed });

    // Every pathological shape at the body limit, timed: how long can one webhook hold the event loop?
    const loop = monitorEventLoopDelay({ resolution: 1 });
    loop.enable();
    res.add(() => loop.disable());
    const timed = async (c: FuzzCase): Promise<LoopBlock> => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      loop.reset();
      await check(c);
      await new Promise((resolve) => setTimeout(resolve, 5)); // the timer that sees the block must fire
      return { ms: loop.max / 1e6, label: c.label };
    };
    // Per shape the least of the rounds: a loaded machine can deschedule the process or collect garbage during
    // any one request, which the delay monitor cannot tell from a block, and that only ever adds; the block a
    // body itself causes is there in every round.
    const shapes = [...Object.keys(ZOHO_PATHOLOGICAL).map((n) => ['zoho', n] as const), ...Object.keys(KOMMO_PATHOLOGICAL).map((n) => ['kommo', n] as const)];
    const rounds = new Map<string, number[]>();
    const note = (b: LoopBlock) => {
      rounds.set(b.label, [...(rounds.get(b.label) ?? []), b.ms]);
      r.worstSingleBlock = b.ms > r.worstSingleBlock.ms ? b : r.worstSingleBlock;
    };
    const ordinary = pathologicalRequest(target, 'zoho', 'escape-run', 300);
    for (let round = 0; round < (o.sweepRounds ?? 3); round++) {
      const block = await timed(ordinary);
      rounds.set('ordinary', [...(rounds.get('ordinary') ?? []), block.ms]);
      for (const [source, name] of shapes) note(await timed(pathologicalRequest(target, source, name, r.sweepBytes)));
      r.swept += shapes.length + 1;
    }
    for (const [label, ms] of rounds) {
      if (label === 'ordinary') r.ordinaryBlock = { ms: Math.min(...ms), label: ordinary.label };
      else if (Math.min(...ms) > r.longestBlock.ms) r.longestBlock = { ms: Math.min(...ms), label };
    }
    if (!(await healthy(port))) r.healthFailures++;
    // Give a stray rejection from the last requests a chance to surface.
    await new Promise((resolve) => setTimeout(resolve, 100));
    r.unhandledRejections = rejections;
    r.errorLogs = errorLogs;
    return r;
  } finally {
    await res.release();
  }
}

async function eventCount(relay: Relay): Promise<number> {
  const row = await relay.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

function storedCount(text: string): number | undefined {
  try {
    const body = JSON.parse(text) as { stored?: unknown };
    return typeof body.stored === 'number' ? body.stored : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One request, written byte for byte on a fresh TCP connection and read until the server closes it. Raw on
 * purpose: node:http would validate or rewrite what we send, and a test's HTTP interceptor (nock) would
 * sit in between; only the relay may judge these bytes. Never rejects.
 */
function send(port: number, c: FuzzCase): Promise<{ status: number; text: string; error?: string }> {
  return new Promise((resolve) => {
    const head = [`${c.method} ${c.path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close', `Content-Length: ${c.body.length}`, ...Object.entries(c.headers).map(([k, v]) => `${k}: ${v}`)];
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (r: { status: number; text: string; error?: string }) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(r);
    };
    // Written without half-closing the socket, as webhook senders do: Node's server ends a half-closed
    // connection, which would cut off an answer that is still being computed.
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), c.body]));
    });
    socket.setTimeout(10_000, () => done({ status: 0, text: '', error: 'no answer within 10 s' }));
    socket.on('data', (d: Buffer) => chunks.push(d));
    // The relay may answer (a 4xx) before it has read a body it refuses, and then close: a write error after
    // an answer is no failure, so the answer decides.
    socket.on('error', (e) => {
      const answer = parseResponse(Buffer.concat(chunks));
      done(answer ?? { status: 0, text: '', error: e.message });
    });
    socket.on('close', () => done(parseResponse(Buffer.concat(chunks)) ?? { status: 0, text: '', error: 'connection closed without an answer' }));
  });
}

/** Status and body of a raw HTTP/1.1 response (Content-Length, chunked, or read to the close). */
function parseResponse(raw: Buffer): { status: number; text: string } | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = raw.subarray(0, end).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
  if (!status) return undefined;
  let body = raw.subarray(end + 4);
  if (/^transfer-encoding:\s*chunked/im.test(head)) {
    const parts: Buffer[] = [];
    for (let i = 0; i < body.length; ) {
      const eol = body.indexOf('\r\n', i);
      const size = parseInt(body.subarray(i, eol).toString('latin1'), 16);
      if (!size) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      i = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status, text: body.toString('utf8') };
}

function healthy(port: number): Promise<boolean> {
  return send(port, { label: 'health', method: 'GET', path: '/healthz', headers: {}, body: Buffer.alloc(0) }).then((a) => a.status === 200);
}

function preview(body: Buffer): string {
  const s = body.subarray(0, 300).toString('latin1').replace(/[^\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return body.length > 300 ? `${s}… (${body.length} bytes)` : s;
}
