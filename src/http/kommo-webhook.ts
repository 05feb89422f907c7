// POST /webhooks/kommo/{WEBHOOK_SECRET}: parse, check the account, store each lead item once with its
// job, answer. Never calls Kommo or Zoho.
import express, { type Request, type Response, type Router } from 'express';
import type { ResolvedStage } from '../config/resolve-mapping.js';
import { acceptEvents } from '../jobs/inbox.js';
import type { JobQueue } from '../jobs/queue.js';
import { parseKommoWebhook, WebhookParseError } from '../kommo/webhook.js';
import type { Db } from '../store/db.js';
import { kommoInboxItems } from '../sync/triggers.js';
import { requirePathSecret } from './secret.js';

export interface KommoWebhookDeps {
  db: Db;
  queue: JobQueue;
  secret: string;
  bodyLimit: string;
  invoiceStages: ResolvedStage[];
  /** The Kommo account the relay serves; webhooks from any other are refused. */
  account: { id?: number; subdomain?: string };
  onOutcome?: (outcome: string) => void;
}

export function kommoWebhookRouter(deps: KommoWebhookDeps): Router {
  const router = express.Router();
  router.post(
    '/webhooks/kommo/:secret',
    requirePathSecret(deps.secret),
    express.text({ type: () => true, limit: deps.bodyLimit }),
    async (req: Request, res: Response) => {
      const body = typeof req.body === 'string' ? req.body : '';
      let hook;
      try {
        hook = parseKommoWebhook(body);
      } catch (err) {
        if (!(err instanceof WebhookParseError)) throw err;
        deps.onOutcome?.('rejected');
        res.status(400).json({ error: err.code, message: `Not a Kommo webhook body: ${err.message}` });
        return;
      }
      const mismatch = accountMismatch(hook.account, deps.account);
      if (mismatch) {
        deps.onOutcome?.('rejected');
        res.status(403).json({ error: 'wrong_account', message: mismatch });
        return;
      }
      const { items, ignored } = kommoInboxItems(hook, deps.invoiceStages);
      const result = await acceptEvents(deps.db, deps.queue, items);
      deps.onOutcome?.(result.stored ? 'stored' : result.duplicates ? 'duplicate' : 'ignored');
      res.status(200).json({ ok: true, stored: result.stored, duplicates: result.duplicates, ignored });
    },
  );
  return router;
}

function accountMismatch(got: { id?: number; subdomain?: string }, want: { id?: number; subdomain?: string }): string | undefined {
  if (got.id === undefined && got.subdomain === undefined) {
    return 'The webhook names no Kommo account (account[id] / account[subdomain] missing).';
  }
  if (want.id !== undefined && got.id !== undefined && got.id !== want.id) {
    return `The webhook comes from Kommo account ${got.id}, but this relay serves account ${want.id}.`;
  }
  if (want.subdomain && got.subdomain && got.subdomain.toLowerCase() !== want.subdomain.toLowerCase()) {
    return `The webhook comes from Kommo account '${got.subdomain}', but this relay serves '${want.subdomain}'.`;
  }
  return undefined;
}
