// `relay webhooks`: points both systems at this relay. Kommo's webhook is registered through its API
// (POST /api/v4/webhooks, Advanced and Enterprise plans); on a plan that refuses it, the manual steps are
// printed instead. The accounting backend says how to set up its side (webhookSetup).
// The URLs carry WEBHOOK_SECRET: this command prints them because the operator must paste them.
import type { Env } from '../config/env.js';
import { RelayError } from '../errors.js';
import type { KommoClient } from '../kommo/client.js';
import type { Args } from './args.js';
import type { CliContext } from './context.js';
import { UsageError } from './args.js';

/** Lead added (a deal created right in the invoicing stage) and lead status changed. */
export const KOMMO_WEBHOOK_EVENTS = ['add_lead', 'status_lead'] as const;

type KommoOutcome = { kind: 'registered' | 'already_registered' | 'manual'; reason?: string; id?: number };

export async function webhooks(ctx: CliContext, args: Args): Promise<number> {
  const env = ctx.settings();
  const { backend, settings } = env.accounting;
  const base = publicUrl(args.options.get('url'), env, backend.publicUrl(settings));
  const kommoUrl = `${base}/webhooks/kommo/${env.WEBHOOK_SECRET}`;
  const accounting = backend.webhookSetup(settings, { url: base, secret: env.WEBHOOK_SECRET });
  const kommo: KommoOutcome = args.flags.has('no-register')
    ? { kind: 'manual', reason: 'not registered through the API (--no-register)' }
    : await registerKommo((await ctx.clients()).kommo, kommoUrl);
  if (args.flags.has('json')) {
    ctx.io.out(
      JSON.stringify(
        {
          kommo: { url: kommoUrl, events: KOMMO_WEBHOOK_EVENTS, ...kommo },
          [backend.names.id]: accounting.json,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  const lines = ['Kommo webhook', `  URL     ${kommoUrl}`, '  Events  Lead added, Lead status changed'];
  if (kommo.kind === 'registered') lines.push(`  Registered through the Kommo API (webhook id ${kommo.id}).`);
  else if (kommo.kind === 'already_registered') lines.push(`  Already registered in Kommo (webhook id ${kommo.id}); nothing to do.`);
  else {
    lines.push(
      `  Set it up by hand (${kommo.reason}):`,
      '    1. In Kommo open Settings › Integrations › Web hooks (or your private integration\'s Webhooks tab).',
      '    2. Add the URL above.',
      '    3. Tick "Lead added" and "Lead status changed", then save.',
    );
  }
  lines.push('', ...accounting.lines);
  if (!/^https:\/\//.test(base)) lines.push('', `Warning: ${base} is not HTTPS. Kommo and ${backend.names.short} must reach the relay at its public https:// address (see --url).`);
  ctx.io.out(lines.join('\n'));
  return 0;
}

/** --url, else the origin of an OAuth redirect URI (which is the relay's public URL by definition). */
function publicUrl(given: string | undefined, env: Env, accountingUrl: string | undefined): string {
  const raw = given ?? env.KOMMO_REDIRECT_URI?.replace(/\/connect\/kommo\/callback$/, '') ?? accountingUrl;
  if (!raw) throw new UsageError('pass the relay\'s public URL, e.g. --url https://relay.example.com');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url ${raw} is not a URL; write it like https://relay.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`--url must start with https://`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

async function registerKommo(kommo: KommoClient, destination: string): Promise<KommoOutcome> {
  type Hook = { id: number; destination: string; settings: string[]; disabled?: boolean };
  try {
    const listed = await kommo.call<{ _embedded?: { webhooks?: Hook[] } } | undefined>({ method: 'GET', path: '/webhooks', params: { 'filter[destination]': destination } });
    const existing = listed.status === 204 ? undefined : listed.data?._embedded?.webhooks?.find((w) => w.destination === destination);
    if (existing && !existing.disabled && KOMMO_WEBHOOK_EVENTS.every((e) => existing.settings.includes(e))) return { kind: 'already_registered', id: existing.id };
    // Registering the same destination again updates it (events, and re-enables one Kommo disabled).
    const created = await kommo.call<Hook>({ method: 'POST', path: '/webhooks', data: { destination, settings: [...KOMMO_WEBHOOK_EVENTS] }, idempotent: true });
    return { kind: 'registered', id: created.data.id };
  } catch (err) {
    if (err instanceof RelayError && err.status === 403) return { kind: 'manual', reason: 'Kommo refused it (403): webhooks through the API need the Advanced or Enterprise plan' };
    throw err;
  }
}
