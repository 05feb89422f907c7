// CPU per Kommo webhook body in the parser alone: `parseNestedForm` (the form decoder, src/intake/form/),
// its pair-by-pair road alone (what every body would cost without the one-pass road), and `parseKommoWebhook`
// (decoder + reading Kommo's tree) over N distinct realistic bodies (webhook-body.ts: about 4.9 KB, ~50
// fields, Cyrillic text percent-encoded).
//   npm run build && node dist/bench/parse.js [bodies=20000] [rounds=7]
// Prints µs per body for each round and the best; the first rounds include JIT warm-up.
import { parseNestedForm, parseNestedFormPairByPair } from '../src/intake/form/nested-form.js';
import { parseKommoWebhook } from '../src/intake/kommo-parse.js';
import { webhookBodies } from './webhook-body.js';

const bodies = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 7);

const next = webhookBodies({ accountId: 30011223, subdomain: 'acme', pipelineId: 7710021, invoiceStatusId: 61234570, fromStatusId: 61234566 });
const texts = Array.from({ length: bodies }, () => next().toString('utf8'));
console.log(`${bodies} bodies of about ${texts[0]?.length ?? 0} chars, ${rounds} rounds`);

/** µs per body in each round. A function of its own: a timed loop at module top level is compiled differently. */
function measure(parse: (body: string) => object): number[] {
  const perBody: number[] = [];
  let sink = 0; // keeps the results alive, so the work cannot be skipped
  for (let round = 0; round < rounds; round += 1) {
    const start = process.hrtime.bigint();
    for (const text of texts) sink += Object.keys(parse(text)).length;
    perBody.push(Number(process.hrtime.bigint() - start) / 1000 / bodies);
  }
  if (sink === 0) console.log('(no fields parsed)');
  return perBody;
}

for (const [name, parse] of [
  ['parseNestedForm', parseNestedForm],
  ['pair-by-pair road', parseNestedFormPairByPair],
  ['parseKommoWebhook', parseKommoWebhook],
] as const) {
  const perBody = measure(parse);
  console.log(`${name.padEnd(18)} µs/body: ${perBody.map((t) => t.toFixed(1)).join(' ')}  best ${Math.min(...perBody).toFixed(1)}`);
}
