// `npm run sandbox`: fake Kommo and Zoho Books on fixed loopback ports, seeded like the tests, for trying
// the relay by hand. Prints the environment to start the relay against them; Ctrl-C stops.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { startScenario } from './scenario.js';

const dir = resolve(process.env.SANDBOX_DIR ?? './data/sandbox');
mkdirSync(dir, { recursive: true });
const scenario = await startScenario({ dir });
const env = scenario.env({ PORT: process.env.PORT ?? '3000', LOG_FORMAT: 'pretty', LOG_LEVEL: 'info' });
const out = (s = '') => process.stdout.write(`${s}\n`);
out(`Fake Kommo      ${scenario.kommoUrl}   (control API: ${scenario.kommoUrl}/_sandbox/state)`);
out(`Fake Zoho Books ${scenario.zohoUrl}   (control API: ${scenario.zohoUrl}/_sandbox/state)`);
out('\nStart the relay against them with:\n');
out(`${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' \\\n  ')} \\\n  npm start`);
out(`\nThen subscribe it and move a deal:\n  curl -XPOST ${scenario.kommoUrl}/_sandbox/webhooks -H 'content-type: application/json' -d '{"destination":"http://127.0.0.1:${env.PORT}/webhooks/kommo/${env.WEBHOOK_SECRET}","settings":["status_lead"]}'`);
const { dealId } = scenario.addClientDeal();
out(`  curl -XPOST ${scenario.kommoUrl}/_sandbox/leads/move -H 'content-type: application/json' -d '{"ids":[${dealId}],"status_id":${scenario.stages.invoice}}'`);
const stop = () => void scenario.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
