// Exact decimal arithmetic for invoice totals. Amounts are parsed from their decimal text into scaled
// bigints, multiplied exactly, and rounded once (half away from zero) to the currency's minor unit, so
// a total is never a float sum nobody rounded on purpose.

/** value = units / 10^scale */
interface Scaled {
  units: bigint;
  scale: number;
}

const pow10 = (n: number) => 10n ** BigInt(n);

export function parseDecimal(value: number | string): Scaled {
  let text = typeof value === 'number' ? numberText(value) : value.trim();
  const match = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || (match[2] === '' && !match[3])) throw new Error(`not a decimal number: ${String(value)}`);
  const frac = match[3] ?? '';
  text = `${match[2] || '0'}${frac}`;
  const units = BigInt(text) * (match[1] === '-' ? -1n : 1n);
  return { units, scale: frac.length };
}

/** Plain decimal text for a JS number, also for ones String() renders in exponent form (1e-7). */
function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
  const s = String(n);
  if (!/e/i.test(s)) return s;
  return n.toFixed(20).replace(/\.?0+$/, '');
}

/** Rounds units/10^from to an integer count of 10^-to, half away from zero. */
function rescale(units: bigint, from: number, to: number): bigint {
  if (from <= to) return units * pow10(to - from);
  const divisor = pow10(from - to);
  const negative = units < 0n;
  const abs = negative ? -units : units;
  let q = abs / divisor;
  if ((abs % divisor) * 2n >= divisor) q += 1n;
  return negative ? -q : q;
}

/** An amount in the currency's minor units (cents for precision 2). */
export function toMinor(value: number | string, precision: number): bigint {
  const d = parseDecimal(value);
  return rescale(d.units, d.scale, precision);
}

/** rate × quantity, rounded once to minor units. */
export function productMinor(rate: number | string, quantity: number | string, precision: number): bigint {
  const a = parseDecimal(rate);
  const b = parseDecimal(quantity);
  return rescale(a.units * b.units, a.scale + b.scale, precision);
}

/** base × percent / 100, rounded to minor units. */
export function percentOfMinor(baseMinor: bigint, percent: number | string): bigint {
  const p = parseDecimal(percent);
  // base × p.units / (100 × 10^p.scale): keep 6 extra digits so the single rounding is exact enough.
  const extra = 6;
  const scaled = (baseMinor * p.units * pow10(extra)) / (100n * pow10(p.scale));
  return rescale(scaled, extra, 0);
}

/** The tax contained in a tax-inclusive amount: base × p / (100 + p), rounded to minor units. */
export function includedTaxMinor(grossMinor: bigint, percent: number | string): bigint {
  const p = parseDecimal(percent);
  const extra = 6;
  const scaled = (grossMinor * p.units * pow10(extra)) / (100n * pow10(p.scale) + p.units);
  return rescale(scaled, extra, 0);
}

/** Minor units back to the JSON number Zoho shows (e.g. 1234n, 2 -> 12.34). */
export function fromMinor(minor: bigint | number, precision: number): number {
  const m = BigInt(minor);
  if (precision === 0) return Number(m);
  const negative = m < 0n;
  const digits = (negative ? -m : m).toString().padStart(precision + 1, '0');
  const text = `${negative ? '-' : ''}${digits.slice(0, -precision)}.${digits.slice(-precision)}`;
  return Number(text);
}

export function isNumeric(value: unknown): value is number | string {
  if (typeof value === 'number') return Number.isFinite(value);
  return typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)\s*$/.test(value);
}
