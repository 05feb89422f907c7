// `relay webhooks` for Wave: nothing to set up. Wave's webhooks need a Pro business, their payloads and
// signature are not published, and the relay does not depend on them: the reconciler polls the invoices
// modified since its cursor. No API call.
export function waveWebhookSetup(_settings: unknown, base: { url: string; secret: string }): { json: unknown; lines: string[] } {
  const lines = [
    'Wave: no webhook to set up.',
    '  Payments reach the deals through the reconciler, which asks Wave for the invoices modified since its last',
    '  sweep (every RECONCILE_INTERVAL_SECONDS, which may not be 0 with ACCOUNTING=wave).',
    `  Deliveries to ${base.url}/webhooks/wave/… are refused: Wave's webhook payloads and signatures are not published.`,
  ];
  return { json: { webhooks: false, changes: 'polling', setting: 'RECONCILE_INTERVAL_SECONDS' }, lines };
}
