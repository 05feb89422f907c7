// What a webhook sender looks like to the intake route: a name (its URL is /webhooks/<name>/<secret>),
// how it wants its body read and its answers written, an optional check on the raw bytes, and a parser from
// body to inbox items. Kommo's source lives beside this file; each accounting backend brings its own (in its
// folder under src/accounting/).
import type { AccountingId } from '../accounting/registry.js';
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
  name: 'kommo' | AccountingId;
  /**
   * How the route reads the body. `text` (the default): decoded as text in the charset the request names;
   * `bytes`: kept exactly as received (for a signature computed over the bytes) and handed over as `bytes`
   * too, `raw` being their UTF-8 reading.
   */
  body?: 'text' | 'bytes';
  /**
   * How the route answers. `json` (the default): a JSON document with the counts or the reason of a refusal;
   * `status`: the status alone with an empty body, for senders that require one (the reason of a refusal then
   * goes to the log, where a person can read it).
   */
  answer?: 'json' | 'status';
  /** Checks that need the raw bytes (signatures). Throw a WebhookRejection to refuse. `bytes` only with body: 'bytes'. */
  verify?(raw: string, req: Request, bytes?: Buffer): void;
  /** Raw body -> inbox items. Throw a WebhookRejection to refuse; may read the store (e.g. to route a job). */
  parse(raw: string, req: Request, bytes?: Buffer): Promise<ParsedWebhook> | ParsedWebhook;
}

export interface ParsedWebhook {
  items: InboxItem[];
  ignored: number;
  /**
   * Some events may be about the relay's invoices that their IDs do not tell (e.g. one a retainer's profile
   * generated): ask for an early reconcile sweep, which finds them, instead of a call per ID.
   */
  sweepSoon?: boolean;
}
