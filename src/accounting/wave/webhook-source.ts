// Wave's place in the webhook intake: a wake-up, nothing more. Wave's webhooks need a Pro business and their
// event names, payloads and signature are not published (shared reference: "use a secret URL, re-read the
// invoice by id, keep polling"). So a delivery to the relay's secret URL is taken as "something changed in
// Wave": it asks for an early reconcile sweep (debounced: any number of deliveries within a few seconds is one
// sweep, run by whichever relay holds the reconciler's lease) and nothing of its body is read or trusted, so a
// forged or malformed body costs at most that one sweep. The reconciler's polling stays the way payments are
// found (capabilities.changes = 'polling'); webhooks only make it sooner.
import type { WebhookSource } from '../../intake/webhook-source.js';

export function waveWebhookSource(): WebhookSource {
  return {
    name: 'wave',
    parse: () => ({ items: [], ignored: 0, sweepSoon: true }),
  };
}
