// The HTTP server's limits with real sockets: a client that sends its headers, or its body, a byte at a
// time is cut off within the bound (short bounds here through the settings), an idle keep-alive socket is
// closed, and connections beyond the cap are dropped while the relay keeps answering the others.
import { connect, type Socket } from 'node:net';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Relay } from '../../src/relay.js';
import { startScenario, WEBHOOK_SECRET, type Scenario } from '../../sandbox/scenario.js';
import { startCapturedRelay } from '../support/connect.js';
import { tempDir } from '../support/tmp.js';

let dir: ReturnType<typeof tempDir>;
let s: Scenario;
let relay: Relay;
const logs: string[] = [];

beforeAll(async () => {
  // nock (test/support/setup.ts) sits on every socket and holds a request back until its headers are
  // complete; these clients must reach the server byte by byte. Nothing here leaves loopback.
  nock.restore();
  dir = tempDir('relay-server-limits-');
  s = await startScenario({ dir: dir.path });
  relay = await startCapturedRelay(
    s.env({ SERVER_HEADERS_TIMEOUT_MS: '400', SERVER_REQUEST_TIMEOUT_MS: '800', SERVER_KEEP_ALIVE_TIMEOUT_MS: '300', SERVER_MAX_CONNECTIONS: '50' }),
    { logs },
    { worker: false },
  );
});
afterAll(async () => {
  await relay.stop();
  await s.close();
  dir.cleanup();
});

interface Ended {
  /** Milliseconds from connecting until the relay closed the socket. */
  afterMs: number;
  received: string;
}

/** Opens a socket to the relay, writes `first`, then `drip` every 50 ms until the relay closes it. */
function trickle(r: Relay, first: string, drip: string | undefined): Promise<Ended> & { socket: Socket } {
  const { port } = new URL(r.url);
  const socket = connect(Number(port), '127.0.0.1');
  const started = Date.now();
  let received = '';
  const done = new Promise<Ended>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(first);
      if (drip !== undefined) timer = setInterval(() => socket.writable && socket.write(drip), 50);
    });
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ afterMs: Date.now() - started, received });
    });
    // A bound for the test itself: a socket still open after 10 s fails the assertions below.
    setTimeout(() => socket.destroy(), 10_000).unref();
  });
  return Object.assign(done, { socket });
}

const healthy = async (r: Relay) => (await fetch(`${r.url}/healthz`)).status;

describe('slow clients', () => {
  it('a body sent a byte at a time is cut off after SERVER_REQUEST_TIMEOUT_MS with 408', async () => {
    const head = `POST /webhooks/zoho/${WEBHOOK_SECRET} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"a":"`;
    const ended = await trickle(relay, head, 'x');
    expect(ended.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ended.afterMs).toBeGreaterThanOrEqual(750);
    expect(ended.afterMs).toBeLessThan(2000);
    expect(await healthy(relay)).toBe(200);
  });

  it('headers sent a byte at a time are cut off after SERVER_HEADERS_TIMEOUT_MS', async () => {
    const ended = await trickle(relay, 'GET /healthz HTTP/1.1\r\nHost: relay\r\nX-Slow: ', 'a');
    expect(ended.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ended.afterMs).toBeGreaterThanOrEqual(350);
    expect(ended.afterMs).toBeLessThan(1500);
  });

  it('an idle keep-alive connection is closed after SERVER_KEEP_ALIVE_TIMEOUT_MS (plus Node\'s one-second buffer)', async () => {
    const ended = await trickle(relay, 'GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: keep-alive\r\n\r\n', undefined);
    expect(ended.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(ended.received).toContain('Keep-Alive: timeout=0');
    expect(ended.afterMs).toBeLessThan(2500);
  });
});

describe('many clients', () => {
  it('connections beyond SERVER_MAX_CONNECTIONS are dropped at once; the ones held keep working and a freed place is taken', async () => {
    const capped = await startCapturedRelay(s.env({ DATABASE_URL: `sqlite:${dir.path}/capped.db`, SERVER_MAX_CONNECTIONS: '3' }), { logs }, { worker: false });
    try {
      const held = [0, 1, 2].map(() => trickle(capped, '', undefined));
      await Promise.all(held.map((h) => new Promise((resolve) => h.socket.once('connect', resolve))));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const refused = await trickle(capped, 'GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n', undefined);
      expect(refused.received).toBe('');
      expect(refused.afterMs).toBeLessThan(1000);

      held[0]!.socket.write('GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n');
      expect((await held[0]!).received).toMatch(/^HTTP\/1\.1 200 /);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const next = await trickle(capped, 'GET /healthz HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n', undefined);
      expect(next.received).toMatch(/^HTTP\/1\.1 200 /);
      for (const h of held) h.socket.destroy();
      expect(logs.filter((l) => l.includes('new connections dropped: SERVER_MAX_CONNECTIONS reached')).length).toBe(1);
    } finally {
      await capped.stop();
    }
  });
});
