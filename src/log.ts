// One pino logger. Secrets never reach the output: known secret values are registered at start-up and
// whenever a token is obtained, and every line is scrubbed of them before it is written; common secret
// fields are redacted by path as well; webhook URLs (whose path holds the secret) are logged redacted.
import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

const secrets = new Set<string>();

/** Registers a value that must never appear in a log line (tokens, client secrets, the webhook secret). */
export function registerSecret(value: string | undefined | null): void {
  if (value && value.length >= 6) secrets.add(value);
}

export function scrubSecrets(text: string): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('[redacted]');
  return out;
}

/** `/webhooks/kommo/<secret>?x` -> `/webhooks/kommo/[redacted]?x`; OAuth `code`/`state` query values too. */
export function redactUrl(url: string): string {
  return scrubSecrets(
    url
      .replace(/(\/webhooks\/[^/?#]+\/)[^/?#]+/, '$1[redacted]')
      .replace(/([?&](?:code|state|token|access_token|refresh_token)=)[^&#]*/gi, '$1[redacted]'),
  );
}

/**
 * A child logger with the bindings the parent does not carry yet. pino writes a key bound twice twice, and
 * JSON readers keep only the last: a use case adding `deal_id` under the worker's `deal_id` would repeat it.
 */
export function withContext(log: Logger, bindings: Record<string, unknown>): Logger {
  const bound = log.bindings();
  const fresh = Object.entries(bindings).filter(([key, value]) => value !== undefined && !(key in bound));
  return fresh.length ? log.child(Object.fromEntries(fresh)) : log;
}

const redactPaths = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
  '*.accessToken',
  '*.refreshToken',
  '*.secret',
];

export interface LogOptions {
  level?: string;
  pretty?: boolean;
  /** Tests pass a stream to capture every line. */
  destination?: DestinationStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const scrubbing: DestinationStream = {
    write: (line: string) => {
      const clean = scrubSecrets(line);
      if (opts.destination) opts.destination.write(clean);
      else process.stdout.write(clean);
    },
  };
  let destination: DestinationStream = scrubbing;
  if (opts.pretty && !opts.destination) {
    // Development only: pino-pretty is a dev dependency and is loaded lazily.
    destination = prettyStream(scrubbing);
  }
  return pino(
    {
      level: opts.level ?? 'info',
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { service: 'kommo-zoho-relay' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

function prettyStream(next: DestinationStream): DestinationStream {
  // pino-pretty exposes a synchronous prettifier; fall back to JSON lines if it is not installed.
  let prettify: ((line: string) => string) | undefined;
  import('pino-pretty')
    .then((m) => {
      const factory = (m.default as unknown as { prettyFactory: (o: object) => (l: string) => string }).prettyFactory;
      prettify = factory({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' });
    })
    .catch(() => undefined);
  return { write: (line: string) => next.write(prettify ? prettify(line) : line) };
}
