import type { AccountingNames } from '../../sync/ports.js';

export const WAVE_NAMES: AccountingNames = { id: 'wave', system: 'Wave', short: 'Wave', organization: 'business', cancelVerb: 'delete' };
