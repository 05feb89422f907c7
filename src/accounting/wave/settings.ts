// Wave's settings, read from the environment only when ACCOUNTING=wave: either a Full Access Token for a
// business's own use (WAVE_ACCESS_TOKEN, no OAuth), or an OAuth app (client id and secret) connected on
// /connect or seeded once from WAVE_REFRESH_TOKEN; the business worked in; one origin for all of Wave (the
// fake in tests and demos) and the client-side limits Wave is said to keep (60 a minute, 2 at a time).
import { z } from 'zod';
import { int, optionalString, origin, redirectUri } from '../../config/env-parts.js';

/** Where Wave sends the browser back after consent: the redirect URI registered with the app must end so. */
export const WAVE_CALLBACK_PATH = '/connect/wave/callback';

export const WAVE_API_URL = 'https://gql.waveapps.com/graphql/public';
export const WAVE_AUTHORIZE_URL = 'https://api.waveapps.com/oauth2/authorize/';
export const WAVE_TOKEN_URL = 'https://api.waveapps.com/oauth2/token/';

/**
 * What the relay reads and writes (Wave's OAuth Scopes page: write does not imply read; sending is a scope of
 * its own): businesses, customers, products, invoices (and sending them), sales taxes and accounts.
 */
export const WAVE_DEFAULT_SCOPES = [
  'business:read',
  'customer:read',
  'customer:write',
  'product:read',
  'product:write',
  'invoice:read',
  'invoice:write',
  'invoice:send',
  'sales_tax:read',
  'account:read',
];

/** Scopes are resource:access pairs such as invoice:read; anything else is a typo. */
const SCOPE = /^[a-z_]{1,32}:(read|write|\*|send)$/;
/** Wave's IDs are opaque base64 text (never parsed): letters, digits, + / = and, defensively, - and _. */
const OPAQUE_ID = /^[A-Za-z0-9+/=_-]{1,200}$/;

export const waveSettingsSchema = z.object({
  WAVE_CLIENT_ID: optionalString,
  WAVE_CLIENT_SECRET: optionalString,
  WAVE_REDIRECT_URI: redirectUri(WAVE_CALLBACK_PATH).optional(),
  /** A Full Access Token (Wave > Manage Applications): the relay acts as you on your own businesses, no OAuth. */
  WAVE_ACCESS_TOKEN: optionalString,
  /** Seeds the stored connection once per distinct value; refresh tokens rotate, so the store keeps the current one. */
  WAVE_REFRESH_TOKEN: optionalString,
  WAVE_BUSINESS_ID: z
    .string()
    .trim()
    .regex(OPAQUE_ID, "must be the business's ID as Wave gives it (relay discover lists them)")
    .optional(),
  WAVE_SCOPES: z
    .string()
    .trim()
    .transform((s) => s.split(/\s+/).filter(Boolean))
    .refine((list) => list.length > 0 && list.every((s) => SCOPE.test(s)), 'must be scopes separated by spaces, such as "invoice:read invoice:write"')
    .refine((list) => list.includes('invoice:send') || list.includes('invoice:*'), 'must include invoice:send (without it Wave refuses to email invoices)')
    .default(WAVE_DEFAULT_SCOPES),
  /** One origin for all of Wave (API and OAuth), as the fake Wave serves them; unset: Wave's own hosts. */
  WAVE_API_URL: origin('http://127.0.0.1:4030').optional(),
  WAVE_RATE_LIMIT_PER_MINUTE: int(1, 10_000).default(60),
  WAVE_CONCURRENT_CALLS: int(1, 50).default(2),
});

export type WaveSettings = z.infer<typeof waveSettingsSchema>;

/** A Full Access Token needs no OAuth (and so no ENCRYPTION_KEY); otherwise the connection is stored. */
export const waveUsesOAuth = (given: Set<string>): boolean => !given.has('WAVE_ACCESS_TOKEN');

export function waveSettingProblems(given: Set<string>): string[] {
  if (given.has('WAVE_ACCESS_TOKEN')) {
    const extra = ['WAVE_REFRESH_TOKEN', 'WAVE_REDIRECT_URI'].filter((s) => given.has(s));
    return extra.length ? [`${extra.join(', ')}: not used with WAVE_ACCESS_TOKEN (a Full Access Token needs no OAuth). Remove ${extra.length > 1 ? 'them' : 'it'}, or remove WAVE_ACCESS_TOKEN to connect through OAuth.`] : [];
  }
  const problems: string[] = [];
  for (const name of ['WAVE_CLIENT_ID', 'WAVE_CLIENT_SECRET']) {
    if (!given.has(name)) problems.push(`${name}: is required unless WAVE_ACCESS_TOKEN is set (Wave > Manage Applications > your application)`);
  }
  if (!given.has('WAVE_REFRESH_TOKEN') && !given.has('WAVE_REDIRECT_URI')) {
    problems.push(
      'WAVE_REDIRECT_URI: is required unless WAVE_REFRESH_TOKEN or WAVE_ACCESS_TOKEN is set. Wave is not connected: set WAVE_REDIRECT_URI (https://<relay>/connect/wave/callback, registered with the Wave application) and open /connect, or set WAVE_ACCESS_TOKEN (a Full Access Token, for your own business)',
    );
  }
  return problems;
}

export const waveSecrets = (s: WaveSettings) => [s.WAVE_CLIENT_SECRET, s.WAVE_ACCESS_TOKEN, s.WAVE_REFRESH_TOKEN];

/** Where each part of Wave is: its own hosts, or all under WAVE_API_URL (as the fake serves them; trailing slashes kept). */
export function waveUrls(s: Pick<WaveSettings, 'WAVE_API_URL'>): { api: string; authorize: string; token: string } {
  const o = s.WAVE_API_URL;
  if (!o) return { api: WAVE_API_URL, authorize: WAVE_AUTHORIZE_URL, token: WAVE_TOKEN_URL };
  return { api: `${o}/graphql/public`, authorize: `${o}/oauth2/authorize/`, token: `${o}/oauth2/token/` };
}
