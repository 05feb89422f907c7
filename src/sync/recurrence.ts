// A retainer's schedule as managers write it -> a frequency (days, weeks, months, years) + how many of them.

export type Frequency = 'days' | 'weeks' | 'months' | 'years';
export interface Recurrence {
  frequency: Frequency;
  repeatEvery: number;
}

const WORDS: Record<string, Recurrence> = {
  daily: { frequency: 'days', repeatEvery: 1 },
  weekly: { frequency: 'weeks', repeatEvery: 1 },
  biweekly: { frequency: 'weeks', repeatEvery: 2 },
  fortnightly: { frequency: 'weeks', repeatEvery: 2 },
  monthly: { frequency: 'months', repeatEvery: 1 },
  bimonthly: { frequency: 'months', repeatEvery: 2 },
  quarterly: { frequency: 'months', repeatEvery: 3 },
  'half-yearly': { frequency: 'months', repeatEvery: 6 },
  semiannually: { frequency: 'months', repeatEvery: 6 },
  yearly: { frequency: 'years', repeatEvery: 1 },
  annually: { frequency: 'years', repeatEvery: 1 },
};

const UNITS: Record<string, Frequency> = { day: 'days', week: 'weeks', month: 'months', year: 'years' };

/** undefined for an empty value; throws on a value that is there but not a schedule. */
export function recurrenceFromValue(raw: string | undefined): Recurrence | undefined {
  const value = raw?.trim().toLowerCase();
  if (!value) return undefined;
  const word = WORDS[value.replace(/\s+/g, '')] ?? WORDS[value];
  if (word) return word;
  const m = /^(?:every\s+)?(\d{1,3})?\s*(day|week|month|year)s?$/.exec(value);
  if (m) return { frequency: UNITS[m[2]!]!, repeatEvery: m[1] ? Number(m[1]) : 1 };
  throw new Error(`"${raw!.trim()}" is not a billing schedule (use monthly, quarterly, weekly, "every 2 weeks", …)`);
}

/** A Kommo date (unix seconds) or ISO date -> YYYY-MM-DD, UTC. */
export function dateFromValue(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) throw new Error(`"${value}" is not a date`);
  return new Date(ms).toISOString().slice(0, 10);
}
