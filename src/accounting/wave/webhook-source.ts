// Wave's place in the webhook intake: every delivery is refused with a reason. The relay finds Wave's changes
// by polling (capabilities.changes = 'polling'); an unsigned, unpublished payload is not a trigger to trust.
import { WebhookRejection, type WebhookSource } from '../../intake/webhook-source.js';

export const WAVE_WEBHOOKS_REFUSED =
  "Wave webhooks are not used by the relay (their payloads and signatures are not published): payments are found by the reconciler's polling. Remove the webhook from Wave's Manage Applications page.";

export function waveWebhookSource(): WebhookSource {
  return {
    name: 'wave',
    verify() {
      throw new WebhookRejection(403, 'wave_webhooks_not_used', WAVE_WEBHOOKS_REFUSED);
    },
    parse() {
      throw new WebhookRejection(403, 'wave_webhooks_not_used', WAVE_WEBHOOKS_REFUSED);
    },
  };
}
