// Express app factory: thin routes over the store. Health endpoints, webhook intake, the connection page,
// error middleware.
import express, { type Express, type Router } from 'express';
import { sql } from 'kysely';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { errorHandler } from './errors.js';
import { requestLog } from './request-log.js';
import { webhookRoute, type WebhookRouteDeps, type WebhookSource } from './webhook-route.js';

export interface AppDeps {
  db: Db;
  log: Logger;
  webhooks: { route: WebhookRouteDeps; sources: WebhookSource[] };
  /** True while the relay accepts work; false during shutdown. */
  accepting: () => boolean;
  /** The connection page and OAuth routes (http/connect.ts). */
  connect?: Router;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(requestLog(deps.log));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await sql`select 1`.execute(deps.db);
    } catch {
      res.status(503).json({ status: 'unavailable', database: 'unreachable' });
      return;
    }
    if (!deps.accepting()) {
      res.status(503).json({ status: 'shutting_down' });
      return;
    }
    res.json({ status: 'ready', database: 'ok' });
  });

  // During shutdown, refuse new webhooks with 503 so the sender delivers them again later.
  app.use('/webhooks', (_req, res, next) => {
    if (deps.accepting()) return next();
    res.status(503).set('Retry-After', '10').json({ error: 'shutting_down', message: 'The relay is restarting; deliver again shortly.' });
  });
  for (const source of deps.webhooks.sources) app.use(webhookRoute(source, deps.webhooks.route));
  if (deps.connect) app.use(deps.connect);

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'No such endpoint.' });
  });
  app.use(errorHandler(deps.log));
  return app;
}
