// The one intake path for every webhook source: secret check before the body is read, a size limit,
// source-specific verification and parsing, then each item stored once with its job in one transaction,
// and only then the answer. Sources differ in `verify` and `parse`, and may ask for the body's exact bytes
// (signatures over them) and for answers without a body (senders that require an empty one).
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { requirePathSecret } from '../http/secret.js';
import { requestLogger } from '../http/request-log.js';
import { InboxWriter } from '../jobs/inbox.js';
import type { JobQueue } from '../jobs/queue.js';
import { createLogger, type Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { WebhookRejection, type WebhookSource } from './webhook-source.js';

export interface WebhookRouteDeps {
  db: Db;
  queue: JobQueue;
  secret: string;
  bodyLimit: string;
  onOutcome?: (source: string, outcome: 'stored' | 'duplicate' | 'ignored' | 'rejected') => void;
  /** Where a refusal answered without a body is explained, outside a request log (the app has one). */
  log?: Logger;
  /** Asks for an early reconcile sweep (debounced by the asker; whichever relay holds the reconciler's lease runs it). */
  sweepSoon?: () => void;
}

const EMPTY = Buffer.alloc(0);
let silent: Logger | undefined;

export function webhookRoute(source: WebhookSource, deps: WebhookRouteDeps): Router {
  const router = express.Router();
  const inbox = new InboxWriter(deps.db, deps.queue);
  const path = `/webhooks/${source.name}/:secret`;
  const bytes = source.body === 'bytes';
  const statusOnly = source.answer === 'status';
  // A refusal whose answer carries no reason: the reason goes to the request's log line instead.
  const refuse = (res: Response, status: number, code: string, message: string) => {
    requestLogger(res, deps.log ?? (silent ??= createLogger({ level: 'silent' }))).warn({ source: source.name, status, code }, message);
    res.status(status).end();
  };
  router.post(
    path,
    requirePathSecret(deps.secret),
    // Bytes: no charset decoding, so what is verified is exactly what was sent.
    bytes ? express.raw({ type: () => true, limit: deps.bodyLimit }) : express.text({ type: () => true, limit: deps.bodyLimit }),
    async (req: Request, res: Response) => {
      let raw: string;
      let body: Buffer | undefined;
      if (bytes) {
        body = Buffer.isBuffer(req.body) ? req.body : EMPTY;
        raw = body.toString('utf8');
      } else raw = typeof req.body === 'string' ? req.body : '';
      let parsed;
      try {
        source.verify?.(raw, req, body);
        parsed = await source.parse(raw, req, body);
      } catch (err) {
        if (!(err instanceof WebhookRejection)) throw err;
        deps.onOutcome?.(source.name, 'rejected');
        if (statusOnly) return refuse(res, err.status, err.code, err.message);
        res.status(err.status).json({ error: err.code, message: err.message });
        return;
      }
      const result = await inbox.accept(parsed.items);
      if (parsed.sweepSoon) deps.sweepSoon?.();
      deps.onOutcome?.(source.name, result.stored ? 'stored' : result.duplicates ? 'duplicate' : 'ignored');
      if (statusOnly) {
        res.status(200).end();
        return;
      }
      res.status(200).json({ ok: true, stored: result.stored, duplicates: result.duplicates, ignored: parsed.ignored });
    },
  );
  if (statusOnly) {
    // The body could not be read (too large, a broken encoding): still the status alone. Anything else
    // (the store failing) goes on to the app's handler, whose 503 makes the sender deliver again.
    router.use(path, (err: unknown, _req: Request, res: Response, next: NextFunction) => {
      const e = err as { status?: number; statusCode?: number; type?: string; message?: string; limit?: number };
      const status = e.status ?? e.statusCode ?? 500;
      if (res.headersSent || status < 400 || status >= 500) return next(err);
      deps.onOutcome?.(source.name, 'rejected');
      if (e.type === 'entity.too.large' || status === 413) return refuse(res, 413, 'payload_too_large', `The request body is larger than the relay accepts (${e.limit ?? '?'} bytes; WEBHOOK_BODY_LIMIT).`);
      refuse(res, status, 'bad_request', e.message ?? 'Bad request');
    });
  }
  return router;
}
