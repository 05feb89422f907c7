// Express app factory: thin routes over the store. Health endpoints, webhook intake, the connection page,
// the admin pages and metrics, error middleware.
import express, { type Express, type Router } from 'express';
import { sql } from 'kysely';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { errorHandler } from './errors.js';
import { requestLog } from './request-log.js';
import { WriteProbe } from './write-probe.js';
import { webhookRoute, type WebhookRouteDeps } from '../intake/route.js';
import type { WebhookSource } from '../intake/webhook-source.js';

export interface AppDeps {
  db: Db;
  log: Logger;
  webhooks: { route: WebhookRouteDeps; sources: WebhookSource[] };
  /** True while the relay accepts work; false during shutdown. */
  accepting: () => boolean;
  /** The connection page and OAuth routes (http/connect.ts). */
  connect?: Router;
  /** The admin pages, API and /metrics (http/admin.ts). */
  admin?: Router;
  /** Each side's state for /readyz, by side (`kommo`, the backend's ID): 'connected', 'not_connected' or 'no_organization'. */
  /** Each side's connection state (`kommo` and the backend's ID), and what the relays sharing the database look like. */
  connections?: () => Promise<{ sides: Record<string, string>; cluster?: unknown }>;
  /** Express's `trust proxy` (TRUST_PROXY): false, a hop count, or the proxies' addresses. */
  trustProxy?: false | number | string;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Answers are small JSON documents that change with every call: an ETag would be a SHA-1 of each
  // webhook's answer that no sender ever sends back.
  app.set('etag', false);
  // Off by default: X-Forwarded-* are believed only from the proxies TRUST_PROXY names. With them, req.ip
  // (the login rate limit's address), req.secure (the cookie's Secure flag) and req.host (the origin check)
  // are what the client used, not what the proxy's hop looks like.
  app.set('trust proxy', deps.trustProxy ?? false);
  app.use(requestLog(deps.log));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const writeProbe = new WriteProbe(deps.db);
  app.get('/readyz', async (_req, res) => {
    try {
      await sql`select 1`.execute(deps.db);
    } catch {
      res.status(503).json({ status: 'unavailable', database: 'unreachable' });
      return;
    }
    const writeProblem = await writeProbe.problem();
    if (writeProblem) {
      res.status(503).json({ status: 'unavailable', database: 'not_writable', message: `The database cannot be written, so webhooks cannot be stored: ${writeProblem}` });
      return;
    }
    if (!deps.accepting()) {
      res.status(503).json({ status: 'shutting_down' });
      return;
    }
    // Webhooks are stored either way, but no job gets done until both sides are connected.
    const { sides, cluster } = (await deps.connections?.()) ?? { sides: {} };
    const ready = Object.values(sides).every((state) => state === 'connected');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_connected', database: 'ok', ...sides, ...(cluster ? { cluster } : {}) });
  });

  // During shutdown, refuse new webhooks with 503 so the sender delivers them again later.
  app.use('/webhooks', (_req, res, next) => {
    if (deps.accepting()) return next();
    res.status(503).set('Retry-After', '10').json({ error: 'shutting_down', message: 'The relay is restarting; deliver again shortly.' });
  });
  for (const source of deps.webhooks.sources) app.use(webhookRoute(source, deps.webhooks.route));
  if (deps.connect) app.use(deps.connect);
  if (deps.admin) app.use(deps.admin);

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'No such endpoint.' });
  });
  app.use(errorHandler(deps.log));
  return app;
}
