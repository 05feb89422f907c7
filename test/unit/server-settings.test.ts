// TRUST_PROXY, the server's limits and RETENTION_DAYS as the operator writes them: what each value means,
// and the message for a wrong one.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../../src/config/env.js';

const base = {
  WEBHOOK_SECRET: 'a-long-enough-secret-123',
  KOMMO_BASE_URL: 'https://acme.kommo.com',
  KOMMO_ACCESS_TOKEN: 'kommo-token',
  ZOHO_CLIENT_ID: '1000.ABC',
  ZOHO_CLIENT_SECRET: 'zoho-secret',
  ZOHO_REFRESH_TOKEN: '1000.refresh',
};

function problems(env: Record<string, string>): string[] {
  try {
    parseEnv({ ...base, ...env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('TRUST_PROXY', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['false', false],
    ['off', false],
    ['1', 1],
    ['2', 2],
    ['loopback', 'loopback'],
    ['172.17.0.1', '172.17.0.1'],
    ['10.0.0.0/8, fd00::/8 ,uniquelocal', '10.0.0.0/8,fd00::/8,uniquelocal'],
  ])('%j -> %j', (value, expected) => {
    expect(parseEnv({ ...base, ...(value === undefined ? {} : { TRUST_PROXY: value }) }).TRUST_PROXY).toBe(expected);
  });

  it.each([
    ['true', 'TRUST_PROXY: may not be true (every client could choose its own address); use false, the number of proxies in front of the relay (e.g. 1), or their addresses (e.g. 172.17.0.1, 10.0.0.0/8, loopback)'],
    ['proxy.example.com', 'TRUST_PROXY: has what is neither an address nor a CIDR range: proxy.example.com; use false, the number of proxies in front of the relay (e.g. 1), or their addresses (e.g. 172.17.0.1, 10.0.0.0/8, loopback)'],
    ['10.0.0.0/33', 'TRUST_PROXY: has what is neither an address nor a CIDR range: 10.0.0.0/33; use false, the number of proxies in front of the relay (e.g. 1), or their addresses (e.g. 172.17.0.1, 10.0.0.0/8, loopback)'],
  ])('%s is refused', (value, message) => {
    expect(problems({ TRUST_PROXY: value })).toEqual([message]);
  });
});

describe('server limits and retention', () => {
  it('defaults', () => {
    const env = parseEnv(base);
    expect([env.SERVER_HEADERS_TIMEOUT_MS, env.SERVER_REQUEST_TIMEOUT_MS, env.SERVER_KEEP_ALIVE_TIMEOUT_MS, env.SERVER_MAX_CONNECTIONS, env.RETENTION_DAYS]).toEqual([10_000, 30_000, 5_000, 4_096, 90]);
    expect(parseEnv({ ...base, RETENTION_DAYS: '0' }).RETENTION_DAYS).toBe(0);
  });

  it('a headers timeout longer than the request timeout is refused', () => {
    expect(problems({ SERVER_HEADERS_TIMEOUT_MS: '20000', SERVER_REQUEST_TIMEOUT_MS: '10000' })).toEqual([
      'SERVER_HEADERS_TIMEOUT_MS: must not be longer than SERVER_REQUEST_TIMEOUT_MS (10000): the headers are part of the request',
    ]);
  });
});
