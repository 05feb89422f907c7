// Zoho Books' settings, read from the environment (only when ACCOUNTING=zoho, the default): the API
// console client, a Self Client's refresh token or the redirect URI for /connect, the data centre, the
// organization, the webhook signing secret and the client-side rate limit. Names unchanged since the relay
// knew only Zoho, so existing deployments keep their .env.
import { z } from 'zod';
import { int, optionalString, origin, redirectUri } from '../../config/env-parts.js';
import { checkTimeZone } from '../../net/day-budget.js';

export const ZOHO_DATA_CENTRES = ['com', 'eu', 'in', 'com.au', 'jp', 'ca', 'sa', 'com.cn'] as const;
export type ZohoDataCentre = (typeof ZOHO_DATA_CENTRES)[number];

/** Where Zoho sends the browser back after consent: the redirect URI registered with Zoho must end so. */
export const ZOHO_CALLBACK_PATH = '/connect/zoho/callback';

export const zohoSettingsSchema = z.object({
  ZOHO_DC: z.enum(ZOHO_DATA_CENTRES, { message: `must be one of ${ZOHO_DATA_CENTRES.join(', ')}` }).default('com'),
  ZOHO_CLIENT_ID: z.string({ message: 'is required (Zoho API console client)' }).trim().min(1, 'must not be empty'),
  ZOHO_CLIENT_SECRET: z.string({ message: 'is required (Zoho API console client)' }).trim().min(1, 'must not be empty'),
  /** A Self Client's offline refresh token; when set, it is used instead of a connection made on /connect. */
  ZOHO_REFRESH_TOKEN: optionalString,
  ZOHO_REDIRECT_URI: redirectUri(ZOHO_CALLBACK_PATH).optional(),
  ZOHO_ORGANIZATION_ID: z
    .string()
    .trim()
    .regex(/^\d{1,20}$/, 'must be the numeric organization ID shown in Zoho Books (Settings > Organization Profile)')
    .optional(),
  ZOHO_ACCOUNTS_URL: origin('https://accounts.zoho.eu').optional(),
  ZOHO_API_URL: origin('https://www.zohoapis.eu').optional(),
  ZOHO_WEBHOOK_SIGNING_SECRET: optionalString,
  ZOHO_RATE_LIMIT_REQUESTS: int(1, 10_000).default(100),
  ZOHO_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().positive().max(86_400).default(60),
  /**
   * Calls per day the organization's plan allows (Free about 1,000 up to 10,000 on top plans), counted by every
   * relay on the database; 'off' (the default): counted and shown, not limited. Off by default because the plan
   * cannot be read from the API: a default of the smallest plan's figure would pause, on upgrading, a paid
   * organization that makes more calls than that today. Either way Zoho's own "used up for today" pauses the work.
   */
  ZOHO_DAILY_LIMIT: z
    .union([z.literal('off'), int(1, 10_000_000)], { message: "must be a whole number of calls per day, or 'off'" })
    .default('off')
    .transform((v) => (v === 'off' ? undefined : v)),
  /** The time zone whose midnight starts the counted day (IANA name); Zoho does not document which it uses. */
  ZOHO_DAILY_LIMIT_TIME_ZONE: z.string().trim().refine(checkTimeZone, 'must be an IANA time zone such as UTC or Europe/Berlin').default('UTC'),
});

export type ZohoSettings = z.infer<typeof zohoSettingsSchema>;
export type ZohoAuthMode = 'self_client' | 'oauth';

/** A credential in the environment wins: it is the operator's explicit choice, shown as such on /connect. */
export const zohoAuthMode = (env: Pick<ZohoSettings, 'ZOHO_REFRESH_TOKEN'>): ZohoAuthMode => (env.ZOHO_REFRESH_TOKEN ? 'self_client' : 'oauth');

/** Zoho is reached through OAuth connected on /connect (so its tokens are stored) unless a Self Client token is set. */
export const zohoUsesOAuth = (given: Set<string>): boolean => !given.has('ZOHO_REFRESH_TOKEN');

/** How Zoho gets its credentials, checked on the raw values with every other problem. */
export function zohoSettingProblems(given: Set<string>): string[] {
  if (zohoUsesOAuth(given) && !given.has('ZOHO_REDIRECT_URI')) {
    return [`ZOHO_REFRESH_TOKEN: is required unless Zoho OAuth is set up. Zoho is not connected: set ZOHO_REFRESH_TOKEN (a Self Client's refresh token), or set ZOHO_REDIRECT_URI and open /connect`];
  }
  return [];
}

export const zohoSecrets = (s: ZohoSettings) => [s.ZOHO_CLIENT_SECRET, s.ZOHO_REFRESH_TOKEN, s.ZOHO_WEBHOOK_SIGNING_SECRET];

export function zohoAccountsUrl(env: Pick<ZohoSettings, 'ZOHO_DC' | 'ZOHO_ACCOUNTS_URL'>): string {
  if (env.ZOHO_ACCOUNTS_URL) return env.ZOHO_ACCOUNTS_URL;
  return env.ZOHO_DC === 'ca' ? 'https://accounts.zohocloud.ca' : `https://accounts.zoho.${env.ZOHO_DC}`;
}

/** Used until a token response names the api_domain of the account. */
export function zohoDefaultApiDomain(dc: ZohoDataCentre): string {
  return `https://www.zohoapis.${dc}`;
}
