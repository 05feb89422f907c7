import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { errorHandler } from '../../src/http/errors.js';
import { requestLog, requestLogger } from '../../src/http/request-log.js';
import { createLogger } from '../../src/log.js';

// The request log through real HTTP: one line per request with its request ID (the one the client sent, or
// a new UUID), what a handler logs carries the same ID, and a request that logs nothing makes no child
// logger at all (the webhook path at LOG_LEVEL=warn).
function app(level: 'info' | 'warn') {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger({ level, destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
  let children = 0;
  const child = log.child.bind(log);
  log.child = ((...args: Parameters<typeof log.child>) => {
    children++;
    return child(...args);
  }) as typeof log.child;
  const a = express();
  a.use(requestLog(log));
  a.get('/quiet', (_req, res) => void res.json({ ok: true }));
  a.get('/says', (_req, res) => {
    requestLogger(res, log).info({ step: 1 }, 'handler says');
    res.json({ ok: true });
  });
  a.get('/fails', () => {
    throw new Error('disk on fire');
  });
  a.use(errorHandler(log));
  return { a, lines, children: () => children };
}

describe('request log', () => {
  it('gives every line of a request the ID the client sent, and answers with it', async () => {
    const { a, lines } = app('info');
    const res = await request(a).get('/says').set('X-Request-Id', 'abc-123');
    expect(res.headers['x-request-id']).toBe('abc-123');
    expect(lines.map((l) => [l.msg, l.request_id])).toEqual([
      ['handler says', 'abc-123'],
      ['request', 'abc-123'],
    ]);
    expect(lines[0]).toMatchObject({ step: 1 });
    expect(lines[1]).toMatchObject({ method: 'GET', url: '/says', status: 200 });
  });

  it('gives an error the request ID of the failing request, a new UUID when the client sent none', async () => {
    const { a, lines } = app('warn');
    const res = await request(a).get('/fails');
    expect(res.status).toBe(503);
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(lines.map((l) => [l.msg, l.request_id])).toEqual([
      ['request failed', id],
      ['request', id], // a 5xx is logged at error, above LOG_LEVEL=warn
    ]);
    expect((lines[0]!.err as { message: string }).message).toBe('disk on fire');
  });

  it('makes no child logger for a request that logs nothing', async () => {
    const { a, lines, children } = app('warn');
    for (let i = 0; i < 3; i++) expect((await request(a).get('/quiet')).status).toBe(200);
    expect(lines).toEqual([]);
    expect(children()).toBe(0);
    await request(a).get('/says').set('X-Request-Id', 'r-1'); // info, below warn: still nothing written
    expect(children()).toBe(1);
    expect(lines).toEqual([]);
  });

  it('falls back to the given logger outside the request log', async () => {
    const { lines } = app('info');
    const log = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(JSON.parse(l)) } });
    const a = express();
    a.get('/x', (_req, res) => {
      requestLogger(res, log).info('no request log here');
      res.end();
    });
    await request(a).get('/x');
    expect(lines.map((l) => [l.msg, l.request_id])).toEqual([['no request log here', undefined]]);
  });
});
