// The only place that reads process.env. Parsed once with zod; a wrong setting stops start-up with a
// message that names the setting and what is wrong (never the secret value itself).
import { isIP } from 'node:net';
import { z } from 'zod';
import { accountingBackend, ACCOUNTING_IDS, allAccountingBackends, DEFAULT_ACCOUNTING } from '../accounting/registry.js';
import type { AccountingBackend } from '../accounting/backend.js';
import { ENCRYPTION_KEY_FORMAT, parseEncryptionKey } from '../security/crypto.js';
import { checkSettingCapabilities } from './capabilities.js';
import { ConfigError } from './config-error.js';
import { GENERATE_ADMIN_TOKEN, httpUrl, int, optionalString, redirectUri, settingProblems } from './env-parts.js';
import { adminTokenWeakness } from './token-strength.js';

export { ConfigError } from './config-error.js';

/** Where Kommo sends the browser back: the redirect URI registered with Kommo must end so. */
export const KOMMO_CALLBACK_PATH = '/connect/kommo/callback';

/**
 * TRUST_PROXY, as Express's `trust proxy`: off, a number of proxy hops in front of the relay, or the
 * proxies' addresses (IPs, CIDR ranges, or loopback / linklocal / uniquelocal). "true" (trust every hop) is
 * refused: any client could then name its own address in X-Forwarded-For and escape the login rate limit.
 */
const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const trustProxy = z
  .string()
  .trim()
  .transform((v, ctx): false | number | string => {
    const lower = v.toLowerCase();
    if (lower === '' || lower === 'false' || lower === 'off' || lower === '0') return false;
    if (/^\d{1,2}$/.test(v)) return Number(v);
    const parts = v.split(',').map((p) => p.trim());
    const bad = parts.filter((p) => !PROXY_NAMES.has(p.toLowerCase()) && !isProxyAddress(p));
    if (lower === 'true' || bad.length > 0) {
      ctx.addIssue({
        code: 'custom',
        message: `${lower === 'true' ? 'may not be true (every client could choose its own address)' : `has what is neither an address nor a CIDR range: ${bad.join(', ')}`}; use false, the number of proxies in front of the relay (e.g. 1), or their addresses (e.g. 172.17.0.1, 10.0.0.0/8, loopback)`,
      });
      return z.NEVER;
    }
    return parts.join(',');
  });

function isProxyAddress(p: string): boolean {
  const [ip, prefix, ...rest] = p.split('/');
  if (rest.length > 0 || !ip || !isIP(ip)) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (isIP(ip) === 4 ? 32 : 128);
}

/** Exported so a test can hold .env.example and the README to every setting. */
export const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  DATABASE_URL: z.string().trim().default('sqlite:./data/relay.db'),
  WEBHOOK_SECRET: z
    .string({ message: 'is required: a random string of at least 16 characters, part of the webhook URLs' })
    .min(16, 'must be at least 16 characters (generate one with: openssl rand -hex 24)')
    .regex(/^[A-Za-z0-9._~-]+$/, 'may only contain letters, digits and . _ ~ - (it is part of a URL path)'),
  WEBHOOK_BODY_LIMIT: z.string().trim().regex(/^\d+(b|kb|mb)$/i, "must look like '256kb' or '1mb'").default('256kb'),
  TRUST_PROXY: trustProxy.default(false),
  /** Slow clients cannot hold a socket: the headers, and the whole request, must arrive within these. */
  SERVER_HEADERS_TIMEOUT_MS: int(100, 300_000).default(10_000),
  SERVER_REQUEST_TIMEOUT_MS: int(100, 600_000).default(30_000),
  SERVER_KEEP_ALIVE_TIMEOUT_MS: int(100, 600_000).default(5_000),
  SERVER_MAX_CONNECTIONS: int(1, 1_000_000).default(4_096),

  KOMMO_BASE_URL: httpUrl.refine((u) => !/\/api\/v4/.test(u), 'must be the account URL only, e.g. https://acme.kommo.com'),
  /** Long-lived token of a private integration: the simplest way in; when set, Kommo OAuth is not used. */
  KOMMO_ACCESS_TOKEN: optionalString,
  KOMMO_CLIENT_ID: optionalString,
  KOMMO_CLIENT_SECRET: optionalString,
  KOMMO_REDIRECT_URI: redirectUri(KOMMO_CALLBACK_PATH).optional(),
  /** Seeds the first OAuth pair; once the relay has refreshed it, the stored pair wins. */
  KOMMO_REFRESH_TOKEN: optionalString,
  /** Kommo's consent page (unconfirmed for every region: amoCRM accounts use https://www.amocrm.ru/oauth). */
  KOMMO_AUTHORIZE_URL: httpUrl.default('https://www.kommo.com/oauth'),
  KOMMO_ACCOUNT_ID: int(1, Number.MAX_SAFE_INTEGER).optional(),
  KOMMO_RATE_LIMIT_PER_SECOND: int(1, 50).default(7),

  /** Which accounting backend this relay works with; its own settings are named after it (see the README). */
  ACCOUNTING: z
    .string()
    .trim()
    .toLowerCase()
    .refine((id) => accountingBackend(id) !== undefined, `must be one of ${ACCOUNTING_IDS.join(', ')}`)
    .default(DEFAULT_ACCOUNTING),

  MAPPING_FILE: z.string().trim().default('./mapping.json'),

  /** Encrypts OAuth tokens at rest (AES-256-GCM). */
  ENCRYPTION_KEY: z
    .string()
    .trim()
    .refine((k) => parseEncryptionKey(k) !== undefined, ENCRYPTION_KEY_FORMAT)
    .optional(),
  /** Protects the connection page (/connect). */
  ADMIN_TOKEN: z
    .string()
    .trim()
    .superRefine((token, ctx) => {
      const weakness = adminTokenWeakness(token);
      if (weakness) ctx.addIssue({ code: 'custom', message: `${weakness} (${GENERATE_ADMIN_TOKEN})` });
    })
    .optional(),

  /** How often the reconciler looks for what webhooks missed; 0 turns it off. */
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().min(0).max(86_400).default(300),
  /** 0 = this process only takes webhooks in (another process runs the jobs on the same database). */
  WORKER_CONCURRENCY: int(0, 64).default(4),
  JOB_MAX_ATTEMPTS: int(1, 100).default(12),
  JOB_BACKOFF_BASE_MS: int(1, 3_600_000).default(2000),
  JOB_BACKOFF_MAX_MS: int(1, 86_400_000).default(15 * 60_000),
  JOB_LEASE_SECONDS: z.coerce.number().positive().max(3600).default(60),
  /** Several relays on one database: the reconciler and retention sweep run in the process holding their lease. */
  SINGLETON_LEASE_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  HTTP_TIMEOUT_MS: int(100, 300_000).default(20_000),
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(0).max(600).default(20),
  /** Settled events, jobs and attempts older than this are deleted in the background; 0 keeps them forever. */
  RETENTION_DAYS: int(0, 36_500).default(90),

  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
});

/** The configured accounting backend and its settings (parsed with the backend's own schema). */
export interface ConfiguredAccounting {
  backend: AccountingBackend;
  settings: unknown;
}

export type Env = z.infer<typeof envSchema> & { accounting: ConfiguredAccounting };

/** Every setting name: the relay's and each backend's (for the docs test and .env.example). */
export function allSettingNames(): string[] {
  return [...Object.keys(envSchema.shape), ...allAccountingBackends().flatMap((b) => Object.keys(b.settings.schema.shape))];
}

/** Parses the environment; throws ConfigError listing every bad setting at once. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  // Empty strings in .env files mean "not set".
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v.trim() !== '')) as Record<string, string>;
  const result = envSchema.safeParse(cleaned);
  const backend = accountingBackend((cleaned.ACCOUNTING ?? DEFAULT_ACCOUNTING).trim().toLowerCase());
  const accounting = backend?.settings.schema.safeParse(cleaned);
  const given = new Set(Object.keys(cleaned));
  // Checked on the raw values, so they are reported together with every other problem.
  const problems = [
    ...connectionProblems(given, backend),
    ...serverProblems(result.success ? result.data : undefined),
    ...(backend && result.success ? checkSettingCapabilities(backend, result.data.RECONCILE_INTERVAL_SECONDS) : []),
  ];
  if (result.success && accounting?.success && problems.length === 0) return { ...result.data, accounting: { backend: backend!, settings: accounting.data } };
  const fieldProblems = [...(result.success ? [] : settingProblems(result.error.issues, cleaned)), ...(accounting && !accounting.success ? settingProblems(accounting.error.issues, cleaned) : [])];
  throw new ConfigError([...fieldProblems, ...problems]);
}

export type KommoAuthMode = 'long_lived' | 'oauth';

/** A credential in the environment wins: it is the operator's explicit choice, shown as such on /connect. */
export const kommoAuthMode = (env: Pick<Env, 'KOMMO_ACCESS_TOKEN'>): KommoAuthMode => (env.KOMMO_ACCESS_TOKEN ? 'long_lived' : 'oauth');

const KOMMO_CLIENT = ['KOMMO_CLIENT_ID', 'KOMMO_CLIENT_SECRET', 'KOMMO_REDIRECT_URI'] as const;

/** How each side gets its credentials, and what that requires of the other settings. */
function connectionProblems(set: Set<string>, backend: AccountingBackend | undefined): string[] {
  const problems: string[] = [];
  const clientGiven = KOMMO_CLIENT.filter((k) => set.has(k));
  const kommoOAuth = !set.has('KOMMO_ACCESS_TOKEN');
  const accountingOAuth = backend?.settings.usesOAuth(set) ?? false;
  if (clientGiven.length > 0 && clientGiven.length < KOMMO_CLIENT.length) {
    for (const k of KOMMO_CLIENT.filter((k) => !set.has(k))) problems.push(`${k}: is required with ${clientGiven.join(', ')} (Kommo OAuth needs ${KOMMO_CLIENT.join(', ')} together)`);
  }
  if (kommoOAuth && clientGiven.length === 0) {
    problems.push(
      set.has('KOMMO_REFRESH_TOKEN')
        ? `KOMMO_REFRESH_TOKEN: needs ${KOMMO_CLIENT.join(', ')} (the integration the refresh token belongs to)`
        : `KOMMO_ACCESS_TOKEN: is required unless Kommo OAuth is set up. Kommo is not connected: set KOMMO_ACCESS_TOKEN, or set ${KOMMO_CLIENT.join('/')} and open /connect`,
    );
  }
  if (!kommoOAuth && set.has('KOMMO_REFRESH_TOKEN')) {
    problems.push('KOMMO_REFRESH_TOKEN: set either KOMMO_ACCESS_TOKEN (a long-lived token) or KOMMO_REFRESH_TOKEN (OAuth), not both');
  }
  problems.push(...(backend?.settings.problems(set) ?? []));
  if (kommoOAuth || accountingOAuth) {
    const other = backend?.names.short ?? 'the accounting side';
    const which = kommoOAuth && accountingOAuth ? `Kommo and ${other} use` : kommoOAuth ? 'Kommo uses' : `${other} uses`;
    if (!set.has('ENCRYPTION_KEY')) problems.push(`ENCRYPTION_KEY: is required because ${which} OAuth, whose tokens are stored encrypted (generate one with: openssl rand -hex 32)`);
    if (!set.has('ADMIN_TOKEN')) problems.push(`ADMIN_TOKEN: is required because ${which} OAuth, connected on the /connect page it protects (${GENERATE_ADMIN_TOKEN})`);
  }
  return problems;
}

/** Node refuses a headers timeout longer than the request timeout it is part of. */
function serverProblems(env: z.infer<typeof envSchema> | undefined): string[] {
  if (!env || env.SERVER_HEADERS_TIMEOUT_MS <= env.SERVER_REQUEST_TIMEOUT_MS) return [];
  return [`SERVER_HEADERS_TIMEOUT_MS: must not be longer than SERVER_REQUEST_TIMEOUT_MS (${env.SERVER_REQUEST_TIMEOUT_MS}): the headers are part of the request`];
}

export interface DatabaseTarget {
  dialect: 'sqlite' | 'postgres';
  /** File path for SQLite, connection string for PostgreSQL. */
  location: string;
}

export function databaseTarget(url: string): DatabaseTarget {
  if (/^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', location: url };
  const path = url.replace(/^sqlite:(\/\/)?/, '').replace(/^file:/, '');
  if (!path) throw new ConfigError(["DATABASE_URL: must be 'sqlite:<path>' or 'postgres://...'"]);
  return { dialect: 'sqlite', location: path };
}
