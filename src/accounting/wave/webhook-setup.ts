// `relay webhooks` for Wave: nothing is required. The reconciler polls the invoices modified since its cursor.
// A Pro business may also point a webhook at the relay: any delivery wakes the reconciler early (its body is
// not read; Wave's payloads and signatures are not published). No API call.
export function waveWebhookSetup(_settings: unknown, base: { url: string; secret: string }): { json: unknown; lines: string[] } {
  const url = `${base.url}/webhooks/wave/${base.secret}`;
  const lines = [
    'Wave: no webhook is required.',
    '  Payments reach the deals through the reconciler, which asks Wave for the invoices modified since its last',
    '  sweep (every RECONCILE_INTERVAL_SECONDS, which may not be 0 with ACCOUNTING=wave).',
    '  Optional, on a Wave Pro business: add a webhook for invoice events to the application (Manage Applications)',
    `  with the URL ${url}`,
    "  Each delivery then makes the next sweep start within seconds; its body is not read (Wave's payloads and",
    '  signatures are not published), and the URL\'s secret is what keeps others out.',
  ];
  return { json: { webhooks: 'optional', url, changes: 'polling', effect: 'early reconcile sweep', setting: 'RECONCILE_INTERVAL_SECONDS' }, lines };
}
