// Plumbing for the connection tests: relays started in-process with every log line captured, an
// administrator's requests, and the browser's part of both OAuth flows (following the providers' redirects
// back to the relay, whose public URL in the redirect URI is replaced by its real address).
import { expect } from 'vitest';
import { parseEnv } from '../../src/config/env.js';
import { createLogger } from '../../src/log.js';
import { startRelay, type Relay, type RelayOptions } from '../../src/relay.js';
import { ADMIN_TOKEN, RELAY_PUBLIC_URL, type Scenario } from '../../sandbox/scenario.js';

export interface Captured {
  logs: string[];
}

export async function startCapturedRelay(env: Record<string, string>, captured: Captured, opts: RelayOptions = {}): Promise<Relay> {
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void captured.logs.push(line) } });
  return startRelay(parseEnv(env), { log, ...opts });
}

export const asAdmin = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** GET on the relay without following redirects. */
export function get(relay: Relay | string, path: string, headers: Record<string, string> = {}): Promise<Response> {
  const base = typeof relay === 'string' ? relay : relay.url;
  return fetch(`${base}${path}`, { redirect: 'manual', headers });
}

/** The relay's path for a URL the provider redirected to (https://relay.example.com/connect/...?...). */
export function relayPath(location: string): string {
  expect(location.startsWith(`${RELAY_PUBLIC_URL}/`)).toBe(true);
  const url = new URL(location);
  return `${url.pathname}${url.search}`;
}

/** The administrator clicks "Connect Zoho", the fake Zoho consents at once; returns the callback page. */
export async function connectZohoThroughFake(relay: Relay): Promise<{ status: number; page: string; consentUrl: URL; callback: URL }> {
  const start = await get(relay, '/connect/zoho', asAdmin);
  expect(start.status).toBe(302);
  const consentUrl = new URL(start.headers.get('location')!);
  const consent = await fetch(consentUrl, { redirect: 'manual' });
  expect(consent.status).toBe(302);
  const callback = new URL(consent.headers.get('location')!);
  const res = await get(relay, relayPath(callback.toString()));
  return { status: res.status, page: await res.text(), consentUrl, callback };
}

/** The administrator clicks "Connect Kommo" and consents for `referer` (the fake's own host by default). */
export async function connectKommoThroughFake(relay: Relay, s: Scenario, referer = new URL(s.kommoUrl).host): Promise<{ status: number; page: string; consentUrl: URL }> {
  const start = await get(relay, '/connect/kommo', asAdmin);
  expect(start.status).toBe(302);
  const consentUrl = new URL(start.headers.get('location')!);
  // Kommo's consent page is not part of the fake: it would redirect with these parameters.
  const query = new URLSearchParams({ code: s.kommo.issueAuthCode(), state: consentUrl.searchParams.get('state')!, referer, client_id: 'kommo-client-id' });
  const res = await get(relay, `/connect/kommo/callback?${query}`);
  return { status: res.status, page: await res.text(), consentUrl };
}

/** Every token both fakes issued or accepted, plus the configured secrets: none may appear in a log line. */
export function secretsOf(s: Scenario, extra: Array<string | undefined> = []): string[] {
  const values = new Set<string>([
    ...s.kommo.tokens.access.keys(),
    ...s.kommo.tokens.refresh.keys(),
    ...s.kommo.tokens.codes.keys(),
    ...s.books.secrets(),
    'kommo-client-secret',
    'kommo-long-lived-token',
  ]);
  for (const e of extra) if (e) values.add(e);
  return [...values].filter((v) => v.length >= 6);
}

export function expectNoSecretIn(lines: string[], secrets: string[]): void {
  const all = lines.join('\n');
  expect(lines.length).toBeGreaterThan(0);
  const leaked = secrets.filter((v) => all.includes(v));
  expect(leaked).toEqual([]);
}
