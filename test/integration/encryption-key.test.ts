// ENCRYPTION_KEY at start-up: with tokens in the store, a wrong or missing key stops the relay with a clear
// message before any token is used (a stored check value tells), both in-process and as the real process.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/env.js';
import { ENCRYPTION_KEY, RELAY_PUBLIC_URL, ADMIN_TOKEN, startScenario, type Scenario } from '../../sandbox/scenario.js';
import { expectNoSecretIn, secretsOf, startCapturedRelay } from '../support/connect.js';
import { tempDir } from '../support/tmp.js';

const OTHER_KEY = '0f'.repeat(32);
const MAIN = resolve(import.meta.dirname, '../../dist/src/main.js');
const WRONG_KEY =
  'ENCRYPTION_KEY: is not the key the stored connection tokens were encrypted with (its check value does not decrypt). Set the original key; or, to start over, delete the rows of the connections table and connect both sides again on /connect.';

let dir: ReturnType<typeof tempDir>;
let s: Scenario;
let oauthEnv: Record<string, string>;
const logs: string[] = [];

beforeEach(async () => {
  dir = tempDir('relay-key-');
  s = await startScenario({ dir: dir.path });
  oauthEnv = s.env({
    KOMMO_ACCESS_TOKEN: '',
    KOMMO_CLIENT_ID: 'kommo-client-id',
    KOMMO_CLIENT_SECRET: 'kommo-client-secret',
    KOMMO_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/kommo/callback`,
    KOMMO_REFRESH_TOKEN: 'kommo-initial-refresh-token',
    ENCRYPTION_KEY,
    ADMIN_TOKEN,
  });
  // A first start stores (encrypted) the Kommo pair seeded from KOMMO_REFRESH_TOKEN.
  const relay = await startCapturedRelay(oauthEnv, { logs });
  expect(await relay.connections.holdsTokens()).toBe(true);
  await relay.stop();
});
afterEach(async () => {
  expectNoSecretIn(logs, secretsOf(s, [ENCRYPTION_KEY, OTHER_KEY, ADMIN_TOKEN]));
  await s.close();
  dir.cleanup();
});

async function startError(env: Record<string, string>): Promise<ConfigError> {
  const err = await startCapturedRelay(env, { logs }).then(
    async (relay) => {
      await relay.stop();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('ENCRYPTION_KEY at start-up', () => {
  it('a wrong key stops start-up, says which setting and what to do, and no token is used', async () => {
    const refreshes = s.kommo.state.refreshCount;
    const err = await startError({ ...oauthEnv, ENCRYPTION_KEY: OTHER_KEY });
    expect(err.problems).toEqual([WRONG_KEY]);
    expect(s.kommo.state.refreshCount).toBe(refreshes);
    expect(err.message).not.toContain(OTHER_KEY);

    // The right key still opens everything.
    const relay = await startCapturedRelay(oauthEnv, { logs });
    expect((await relay.connections.get('kommo'))?.status).toBe('connected');
    await relay.stop();
  });

  it('no key while the store holds tokens stops start-up too', async () => {
    const err = await startError(s.env()); // long-lived token and Self Client: the key is not otherwise needed
    expect(err.problems).toEqual([
      'ENCRYPTION_KEY: is not set, but the store holds encrypted connection tokens. Set the key they were encrypted with; or, to start over, delete the rows of the connections table and connect both sides again on /connect.',
    ]);
  });

  it('as the real process: exit code 2 and the message on stderr, with neither key in the output', async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does).`);
    const child = spawn(process.execPath, [MAIN], { cwd: dir.path, env: { PATH: process.env.PATH ?? '', ...oauthEnv, ENCRYPTION_KEY: OTHER_KEY }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(stderr).toBe(`Configuration error:\n  - ${WRONG_KEY}\n`);
    for (const secret of [OTHER_KEY, ENCRYPTION_KEY, ADMIN_TOKEN, 'kommo-client-secret']) expect(stdout + stderr).not.toContain(secret);
  });

  it('with no token stored, a new key is simply adopted', async () => {
    const fresh = s.env({ DATABASE_URL: `sqlite:${dir.path}/fresh.db`, ZOHO_REFRESH_TOKEN: '', ZOHO_ORGANIZATION_ID: '', ZOHO_REDIRECT_URI: `${RELAY_PUBLIC_URL}/connect/zoho/callback`, ENCRYPTION_KEY, ADMIN_TOKEN });
    const first = await startCapturedRelay(fresh, { logs });
    await first.stop();
    const second = await startCapturedRelay({ ...fresh, ENCRYPTION_KEY: OTHER_KEY }, { logs });
    await second.stop();
    expect(logs.some((l) => l.includes('ENCRYPTION_KEY differs from the one used before; no tokens are stored, so the new key is adopted'))).toBe(true);
  });
});
