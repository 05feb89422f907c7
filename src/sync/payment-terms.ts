// A deal's payment terms as managers write them -> payment terms (days + label) or a due date.

export type Terms = { paymentTerms: number; paymentTermsLabel: string } | { dueDate: string };

/** undefined: nothing usable in `raw` (empty). Throws on a value that is there but unreadable. */
export function termsFromValue(raw: string | undefined, fieldType?: string): Terms | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  if (fieldType === 'date' || fieldType === 'date_time' || /^\d{9,11}$/.test(value) || /^\d{4}-\d{2}-\d{2}/.test(value)) {
    const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value);
    if (!Number.isFinite(ms)) throw new Error(`"${value}" is not a date`);
    return { dueDate: new Date(ms).toISOString().slice(0, 10) };
  }
  if (/^(due\s+)?(on|upon)\s+receipt$|^immediately$|^net\s*0$/i.test(value)) return days(0);
  const net = /^(?:net\s*)?(\d{1,4})(?:\s*(?:days?|d))?$/i.exec(value);
  if (net) return days(Number(net[1]));
  throw new Error(`"${value}" is not payment terms (use days such as 30, "Net 15", "Due on receipt", or a due date)`);
}

export function days(n: number): Terms {
  return { paymentTerms: n, paymentTermsLabel: n === 0 ? 'Due on receipt' : `Net ${n}` };
}
