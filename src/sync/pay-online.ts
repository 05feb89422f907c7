// The mapping's `invoice.payOnline` -> the IDs the invoices carry, when the accounting reference is read
// with what the organization offers for paying online (AccountingReference.payOnline). `true` takes what the
// backend says is set up (byDefault); a list names ways by name (or ID), case-insensitively. What cannot be
// met stops start-up the way a bad tax rule does, with what the organization has and where to set it up.
import { ConfigError } from '../config/config-error.js';
import type { Mapping } from '../config/mapping.js';
import type { AccountingReference, PayOnlineOffer } from './ports.js';

export type PayOnlineAsk = NonNullable<Mapping['invoice']['payOnline']>;

const WHERE = 'MAPPING_FILE invoice.payOnline';

/**
 * `system`: the accounting system's name, for the messages. Undefined when nothing is asked; otherwise the
 * IDs (never empty), or a ConfigError.
 */
export function resolvePayOnline(ask: PayOnlineAsk | undefined, ref: Pick<AccountingReference, 'payOnline'>, system: string): string[] | undefined {
  if (ask === undefined) return undefined;
  const offer = ref.payOnline;
  if (!offer) {
    throw new ConfigError([`${WHERE}: the relay cannot tell which ways of paying online ${system} has, so it cannot make invoices payable online there. Remove invoice.payOnline.`]);
  }
  const has = describeOffer(offer);
  if (ask === true) {
    const ids = unique(offer.byDefault);
    if (ids.length === 0) {
      // Where the API could not tell what is set up (unconfirmed), the names are what may be named, not what is.
      const none = offer.unconfirmed ? `none is known to be (${offer.unconfirmed})` : `none is (${has})`;
      const name = offer.unconfirmed && offer.available.length ? `, or name the ones to enable in invoice.payOnline (${has})` : ', or name one in invoice.payOnline';
      throw new ConfigError([`${WHERE}: true enables every way of paying online set up in ${system}, and ${none}. Set one up in ${offer.setUp}${name}.`]);
    }
    return tooMany(ids, offer, system);
  }
  const problems: string[] = [];
  const ids: string[] = [];
  for (const name of ask) {
    const byName = offer.available.filter((a) => same(a.name, name));
    const found = byName.length ? byName : offer.available.filter((a) => a.id.trim() === name.trim());
    if (found.length === 0) problems.push(`${WHERE}: no way of paying online named '${name}' in ${system} (${has}). Use one of those names, or set it up in ${offer.setUp}.${offer.unconfirmed ? ` Note: ${offer.unconfirmed}` : ''}`);
    else if (found.length > 1) problems.push(`${WHERE}: several ways of paying online are named '${name}' in ${system}; rename one of them there, or name it by its ID (${found.map((f) => f.id).join(', ')}).`);
    else ids.push(found[0]!.id);
  }
  if (problems.length) throw new ConfigError(problems);
  return tooMany(unique(ids), offer, system);
}

/** "it has: 'Stripe', 'PayPal' (…)" — what the organization offers, for messages and `relay check`. */
export function describeOffer(offer: PayOnlineOffer): string {
  if (offer.available.length === 0) return 'it has none';
  return `it has: ${offer.available.map((a) => `'${a.name}'${a.detail ? ` (${a.detail})` : ''}`).join(', ')}`;
}

/** The names of the chosen IDs, for `relay check` ("enabled: 'Stripe', 'PayPal'"). */
export function namesOf(ids: string[], offer: PayOnlineOffer | undefined): string[] {
  return ids.map((id) => offer?.available.find((a) => a.id === id)?.name ?? id);
}

function tooMany(ids: string[], offer: PayOnlineOffer, system: string): string[] {
  if (offer.most !== undefined && ids.length > offer.most) {
    throw new ConfigError([`${WHERE}: ${system} takes at most ${offer.most} way${offer.most === 1 ? '' : 's'} of paying online per invoice, and ${ids.length} are asked for (${namesOf(ids, offer).map((n) => `'${n}'`).join(', ')}). Name ${offer.most === 1 ? 'one' : `at most ${offer.most}`} in invoice.payOnline (${describeOffer(offer)}).`]);
  }
  return ids;
}

function unique(ids: string[]): string[] {
  return [...new Set(ids)];
}

function same(a: string, b: string): boolean {
  return a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();
}
