// The only file that lists the accounting backends. ACCOUNTING (default zoho) chooses one per relay;
// adding a backend is its folder plus one line here.
import type { AccountingBackend } from './backend.js';
import { waveBackend } from './wave/index.js';
import { xeroBackend } from './xero/index.js';
import { zohoBackend } from './zoho/index.js';

// Each backend has its own settings and mapping-section types; here only their shape is checked.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyBackend = AccountingBackend<any, any>;

const BACKENDS = {
  zoho: zohoBackend,
  xero: xeroBackend,
  wave: waveBackend,
} satisfies Record<string, AnyBackend>;

/** The ID of a backend: a label of metrics, errors and stored connections. */
export type AccountingId = keyof typeof BACKENDS;

export const DEFAULT_ACCOUNTING = 'zoho';
export const ACCOUNTING_IDS = Object.keys(BACKENDS) as Array<keyof typeof BACKENDS>;

export function accountingBackend(id: string): AccountingBackend | undefined {
  return Object.hasOwn(BACKENDS, id) ? (BACKENDS[id as keyof typeof BACKENDS] as AccountingBackend) : undefined;
}

export const allAccountingBackends = (): AccountingBackend[] => Object.values(BACKENDS) as AccountingBackend[];
