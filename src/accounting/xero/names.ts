import type { AccountingNames } from '../../sync/ports.js';

export const XERO_NAMES: AccountingNames = { id: 'xero', system: 'Xero', short: 'Xero', organization: 'organisation' };
