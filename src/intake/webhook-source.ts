// What a webhook sender looks like to the intake route: a name (its URL is /webhooks/<name>/<secret>),
// an optional check on the raw bytes, and a parser from body to inbox items. Kommo's source lives beside
// this file; each accounting backend brings its own (Zoho's verifies an optional HMAC and routes invoices).
import type { Request } from 'express';
import type { InboxItem } from '../jobs/inbox.js';

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
