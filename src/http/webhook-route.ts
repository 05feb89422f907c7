// The one intake path for every webhook source: secret check before the body is read, a size limit,
// source-specific verification and parsing, then each item stored once with its job in one transaction,
// and only then the answer. Sources differ only in `verify` and `parse`.
import express, { type Request, type Response, type Router } from 'express';
import { InboxWriter, type InboxItem } from '../jobs/inbox.js';
import type { JobQueue } from '../jobs/queue.js';
import type { Db } from '../store/db.js';
import { requirePathSecret } from './secret.js';

/** A request the source's parser refuses, with the status and a reason a person can act on. */
export class WebhookRejection extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 422,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface WebhookSource {
  name: 'kommo' | 'zoho';
  /** Checks that need the raw bytes (signatures). Throw a WebhookRejection to refuse. */
  verify?(raw: string, req: Request): void;
  /** Raw body -> inbox items. Throw a WebhookRejection to refuse; may read the store (e.g. to route a job). */
  parse(raw: string, req: Request): Promise<{ items: InboxItem[]; ignored: number }> | { items: InboxItem[]; ignored: number };
}

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
