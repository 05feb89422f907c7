// The one intake path for every webhook source: secret check before the body is read, a size limit,
// source-specific verification and parsing, then each item stored once with its job in one transaction,
// and only then the answer. Sources differ only in `verify` and `parse`.
import express, { type Request, type Response, type Router } from 'express';
import { requirePathSecret } from '../http/secret.js';
import { InboxWriter } from '../jobs/inbox.js';
import type { JobQueue } from '../jobs/queue.js';
import type { Db } from '../store/db.js';
import { WebhookRejection, type WebhookSource } from './webhook-source.js';

export interface WebhookRouteDeps {
  db: Db;
  queue: JobQueue;
  secret: string;
  bodyLimit: string;
  onOutcome?: (source: string, outcome: 'stored' | 'duplicate' | 'ignored' | 'rejected') => void;
}

export function webhookRoute(source: WebhookSource, deps: WebhookRouteDeps): Router {
  const router = express.Router();
  const inbox = new InboxWriter(deps.db, deps.queue);
  router.post(
    `/webhooks/${source.name}/:secret`,
    requirePathSecret(deps.secret),
    express.text({ type: () => true, limit: deps.bodyLimit }),
    async (req: Request, res: Response) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      let parsed;
      try {
        source.verify?.(raw, req);
        parsed = await source.parse(raw, req);
      } catch (err) {
        if (!(err instanceof WebhookRejection)) throw err;
        deps.onOutcome?.(source.name, 'rejected');
        res.status(err.status).json({ error: err.code, message: err.message });
        return;
      }
      const result = await inbox.accept(parsed.items);
      deps.onOutcome?.(source.name, result.stored ? 'stored' : result.duplicates ? 'duplicate' : 'ignored');
      res.status(200).json({ ok: true, stored: result.stored, duplicates: result.duplicates, ignored: parsed.ignored });
    },
  );
  return router;
}
