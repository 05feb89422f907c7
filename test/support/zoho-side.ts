// The Zoho side of a relay started with ACCOUNTING=zoho (the default): its client, auth and connection.
import type { ZohoParts } from '../../src/accounting/zoho/side.js';
import type { Relay } from '../../src/relay.js';

export function zohoOf(relay: Pick<Relay, 'backend' | 'accounting'>): ZohoParts {
  if (relay.backend.id !== 'zoho') throw new Error(`the relay works with ${relay.backend.id}, not zoho`);
  return relay.accounting.parts as ZohoParts;
}
