import type { AccountingNames } from '../../sync/ports.js';

export const ZOHO_NAMES: AccountingNames = { id: 'zoho', system: 'Zoho Books', short: 'Zoho', organization: 'Books organization' };
