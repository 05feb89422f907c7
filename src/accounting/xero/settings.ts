// Xero's settings, read from the environment only when ACCOUNTING=xero: the app's client, the redirect URI
// for /connect, an optional refresh token to seed the stored connection, the organisation (tenant), the
// webhook key, one origin for all of Xero (the fake in tests and demos) and Xero's API limits.
import { z } from 'zod';
import { int, optionalString, origin, redirectUri } from '../../config/env-parts.js';
import { XERO_AUTHORIZE_URL, XERO_CONNECTIONS_URL, XERO_DEFAULT_SCOPES, XERO_TOKEN_URL } from './oauth.js';

/** Where Xero sends the browser back after consent: the redirect URI registered with the app must end so. */
export const XERO_CALLBACK_PATH = '/connect/xero/callback';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Scopes are words of letters, dots and underscores; anything else is a typo. */
const SCOPE = /^[a-z_.]{1,64}$/i;

export const xeroSettingsSchema = z.object({
  XERO_CLIENT_ID: z.string({ message: 'is required (developer.xero.com > My Apps > your app > Configuration)' }).trim().min(1, 'must not be empty'),
  XERO_CLIENT_SECRET: z.string({ message: 'is required (developer.xero.com > My Apps > your app > Configuration)' }).trim().min(1, 'must not be empty'),
  XERO_REDIRECT_URI: redirectUri(XERO_CALLBACK_PATH).optional(),
  /** Seeds the stored connection once per distinct value; Xero rotates it on every refresh, so the store keeps the current one. */
  XERO_REFRESH_TOKEN: optionalString,
  XERO_TENANT_ID: z
    .string()
    .trim()
    .regex(GUID, 'must be the organisation\'s tenant ID, a GUID such as 8f3c9e52-1b2a-4c1d-9e8f-0a1b2c3d4e5f (relay discover lists them)')
    .transform((s) => s.toLowerCase())
    .optional(),
  XERO_SCOPES: z
    .string()
    .trim()
    .transform((s) => s.split(/\s+/).filter(Boolean))
    .refine((list) => list.length > 0 && list.every((s) => SCOPE.test(s)), 'must be scope names separated by spaces, such as "offline_access accounting.invoices"')
    .refine((list) => list.includes('offline_access'), 'must include offline_access (without it Xero gives no refresh token)')
    .default(XERO_DEFAULT_SCOPES),
  XERO_WEBHOOK_KEY: optionalString,
  /** One origin for all of Xero (identity and API), as the fake Xero serves them; unset: Xero's own hosts. */
  XERO_API_URL: origin('http://127.0.0.1:4020').optional(),
  XERO_RATE_LIMIT_PER_MINUTE: int(1, 10_000).default(60),
  XERO_CONCURRENT_CALLS: int(1, 50).default(5),
  XERO_DAY_LIMIT: int(1, 1_000_000).default(5000),
});

export type XeroSettings = z.infer<typeof xeroSettingsSchema>;

/** Xero is reached through OAuth: a connection made on /connect, or one seeded from XERO_REFRESH_TOKEN and stored. */
export const xeroUsesOAuth = (_given: Set<string>): boolean => true;

export function xeroSettingProblems(given: Set<string>): string[] {
  if (!given.has('XERO_REFRESH_TOKEN') && !given.has('XERO_REDIRECT_URI')) {
    return ['XERO_REDIRECT_URI: is required unless XERO_REFRESH_TOKEN is set. Xero is not connected: set XERO_REDIRECT_URI (https://<relay>/connect/xero/callback, registered with the Xero app) and open /connect, or set XERO_REFRESH_TOKEN'];
  }
  return [];
}

export const xeroSecrets = (s: XeroSettings) => [s.XERO_CLIENT_SECRET, s.XERO_REFRESH_TOKEN, s.XERO_WEBHOOK_KEY];

/** Where each part of Xero is: its own hosts, or all under XERO_API_URL. */
export function xeroUrls(s: Pick<XeroSettings, 'XERO_API_URL'>): { authorize: string; token: string; connections: string; api?: string } {
  const o = s.XERO_API_URL;
  // The API's own default (https://api.xero.com/api.xro/2.0) is the client's.
  if (!o) return { authorize: XERO_AUTHORIZE_URL, token: XERO_TOKEN_URL, connections: XERO_CONNECTIONS_URL };
  return { authorize: `${o}/identity/connect/authorize`, token: `${o}/connect/token`, connections: `${o}/connections`, api: `${o}/api.xro/2.0` };
}
