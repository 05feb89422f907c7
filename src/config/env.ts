// The only place that reads process.env. Parsed once with zod; a wrong setting stops start-up with a
// message that names the setting and what is wrong (never the secret value itself).
import { z } from 'zod';

export const ZOHO_DATA_CENTRES = ['com', 'eu', 'in', 'com.au', 'jp', 'ca', 'sa', 'com.cn'] as const;
export type ZohoDataCentre = (typeof ZOHO_DATA_CENTRES)[number];

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s ? s : undefined));
const httpUrl = z
  .string()
  .trim()
  .url({ message: 'must be a URL such as https://example.com' })
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
  .transform((u) => u.replace(/\/+$/, ''));

const schema = z.object({
  NODE_ENV: z.enum(['production', 'development', 'test']).default('production'),
  PORT: int(0, 65535).default(3000),
  DATABASE_URL: z.string().trim().default('sqlite:./data/relay.db'),
  WEBHOOK_SECRET: z
    .string({ message: 'is required: a random string of at least 16 characters, part of the webhook URLs' })
    .min(16, 'must be at least 16 characters (generate one with: openssl rand -hex 24)')
    .regex(/^[A-Za-z0-9._~-]+$/, 'may only contain letters, digits and . _ ~ - (it is part of a URL path)'),
  WEBHOOK_BODY_LIMIT: z.string().trim().regex(/^\d+(b|kb|mb)$/i, "must look like '256kb' or '1mb'").default('256kb'),

  KOMMO_BASE_URL: httpUrl.refine((u) => !/\/api\/v4/.test(u), 'must be the account URL only, e.g. https://acme.kommo.com'),
  KOMMO_ACCESS_TOKEN: z.string({ message: 'is required: a long-lived token of a private Kommo integration' }).trim().min(1, 'must not be empty'),
  KOMMO_ACCOUNT_ID: int(1, Number.MAX_SAFE_INTEGER).optional(),
  KOMMO_RATE_LIMIT_PER_SECOND: int(1, 50).default(7),

  ZOHO_DC: z.enum(ZOHO_DATA_CENTRES, { message: `must be one of ${ZOHO_DATA_CENTRES.join(', ')}` }).default('com'),
  ZOHO_CLIENT_ID: z.string({ message: 'is required (Zoho API console client)' }).trim().min(1, 'must not be empty'),
  ZOHO_CLIENT_SECRET: z.string({ message: 'is required (Zoho API console client)' }).trim().min(1, 'must not be empty'),
  ZOHO_REFRESH_TOKEN: z.string({ message: 'is required (an offline refresh token, e.g. from a Self Client)' }).trim().min(1, 'must not be empty'),
  ZOHO_ORGANIZATION_ID: z
    .string()
    .trim()
    .regex(/^\d{1,20}$/, 'must be the numeric organization ID shown in Zoho Books (Settings > Organization Profile)')
    .optional(),
  ZOHO_ACCOUNTS_URL: httpUrl.optional(),
  ZOHO_API_URL: httpUrl.optional(),
  ZOHO_WEBHOOK_SIGNING_SECRET: optionalString,
  ZOHO_RATE_LIMIT_REQUESTS: int(1, 10_000).default(100),
  ZOHO_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().positive().max(86_400).default(60),

  MAPPING_FILE: z.string().trim().default('./mapping.json'),

  /** How often the reconciler looks for what webhooks missed; 0 turns it off. */
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().min(0).max(86_400).default(300),
  /** 0 = this process only takes webhooks in (another process runs the jobs on the same database). */
  WORKER_CONCURRENCY: int(0, 64).default(4),
  JOB_MAX_ATTEMPTS: int(1, 100).default(12),
  JOB_BACKOFF_BASE_MS: int(1, 3_600_000).default(2000),
  JOB_BACKOFF_MAX_MS: int(1, 86_400_000).default(15 * 60_000),
  JOB_LEASE_SECONDS: z.coerce.number().positive().max(3600).default(60),
  HTTP_TIMEOUT_MS: int(100, 300_000).default(20_000),
  SHUTDOWN_TIMEOUT_SECONDS: z.coerce.number().min(0).max(600).default(20),

  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
});

export type Env = z.infer<typeof schema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configuration error:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws ConfigError listing every bad setting at once. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  // Empty strings in .env files mean "not set".
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const message = issue.code === 'invalid_type' && cleaned[name] === undefined ? issue.message.replace(/^Invalid input.*$/, 'is required') : issue.message;
    return `${name}: ${message}`;
  });
  throw new ConfigError(problems);
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

export function zohoAccountsUrl(env: Pick<Env, 'ZOHO_DC' | 'ZOHO_ACCOUNTS_URL'>): string {
  if (env.ZOHO_ACCOUNTS_URL) return env.ZOHO_ACCOUNTS_URL;
  return env.ZOHO_DC === 'ca' ? 'https://accounts.zohocloud.ca' : `https://accounts.zoho.${env.ZOHO_DC}`;
}

/** Used until a token response names the api_domain of the account. */
export function zohoDefaultApiDomain(dc: ZohoDataCentre): string {
  return `https://www.zohoapis.${dc}`;
}
