// Kommo's webhooks: unsigned form bodies, so the URL secret, the account check and re-reading the deal
// through the API are what keep them honest.
import { WebhookParseError } from './form/nested-form.js';
import { parseKommoWebhook } from './kommo-parse.js';
import { kommoInboxItems, type StageTrigger } from './triggers.js';
import { WebhookRejection, type WebhookSource } from './webhook-source.js';

/** Kommo puts several leads in one request; a real account's webhook carries far fewer than this. Each
 *  lead that calls for work becomes a job, so the cap bounds what one request can make the relay do. */
export const MAX_LEADS_PER_WEBHOOK = 500;

export interface KommoWebhookOptions {
  triggers: StageTrigger[];
  /** The Kommo account the relay serves; webhooks from any other are refused. */
  account: { id?: number; subdomain?: string };
}

export function kommoWebhookSource(opts: KommoWebhookOptions): WebhookSource {
  return {
    name: 'kommo',
    parse(raw) {
      let hook;
      try {
        hook = parseKommoWebhook(raw);
      } catch (err) {
        if (err instanceof WebhookParseError) throw new WebhookRejection(400, err.code, `Not a Kommo webhook body: ${err.message}`);
        throw err;
      }
      const mismatch = accountMismatch(hook.account, opts.account);
      if (mismatch) throw new WebhookRejection(403, 'wrong_account', mismatch);
      if (hook.leadEvents.length > MAX_LEADS_PER_WEBHOOK) {
        throw new WebhookRejection(
          422,
          'too_many_leads',
          `The webhook carries ${hook.leadEvents.length} leads; the relay takes at most ${MAX_LEADS_PER_WEBHOOK} per request. Deals it refused are still found by the reconciler (deals in the invoicing stage without an invoice).`,
        );
      }
      return kommoInboxItems(hook, opts.triggers);
    },
  };
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
