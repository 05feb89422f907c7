// Exact amounts for the fake Wave: Decimal strings ("150.00") as scaled BigInts, sums in each currency's minor
// unit, and Wave's Money ({value, minorUnitValue, raw, currency}). Nothing here uses floating point, so the
// totals the relay reads are what a careful accountant would compute (half away from zero at the minor unit).

/** Decimals the fake accepts: an optional sign, up to 15 digits, up to 10 decimals (no exponent, bounded). */
const DECIMAL = /^-?\d{1,15}(\.\d{1,10})?$/;
/** The fixed scale every parsed decimal is brought to: 10^10. */
export const SCALE_DIGITS = 10;
const SCALE = 10n ** BigInt(SCALE_DIGITS);

export function isDecimal(value: unknown): value is string {
  return typeof value === 'string' && DECIMAL.test(value);
}

/** "150.5" → 1505000000000n (scaled by 10^10). Throws on anything else (callers check isDecimal first). */
export function scaled(value: string): bigint {
  if (!DECIMAL.test(value)) throw new Error(`not a decimal: ${value.slice(0, 40)}`);
  const negative = value.startsWith('-');
  const [whole, frac = ''] = (negative ? value.slice(1) : value).split('.');
  const n = BigInt(whole!) * SCALE + BigInt(frac.padEnd(SCALE_DIGITS, '0'));
  return negative ? -n : n;
}

/** a / b rounded half away from zero (b > 0). */
export function divRound(a: bigint, b: bigint): bigint {
  const q = a / b;
  const r = a % b;
  if (r === 0n) return q;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice >= b) return a < 0n ? q - 1n : q + 1n;
  return q;
}

/** A scaled decimal (10^10) as minor units of a currency with `exponent` decimals. */
export function toMinor(scaledValue: bigint, exponent: number): bigint {
  return divRound(scaledValue * 10n ** BigInt(exponent), SCALE);
}

/** quantity × unitPrice (both scaled) in minor units. */
export function productMinor(quantity: bigint, unitPrice: bigint, exponent: number): bigint {
  return divRound(quantity * unitPrice * 10n ** BigInt(exponent), SCALE * SCALE);
}

/** minor × rate (rate scaled), rounded to the minor unit. */
export function applyRate(minor: bigint, rate: bigint): bigint {
  return divRound(minor * rate, SCALE);
}

/** A scaled decimal as Wave writes a Decimal: trailing zeros dropped, at least `minDecimals` decimals. */
export function decimalString(scaledValue: bigint, minDecimals = 0): string {
  const negative = scaledValue < 0n;
  const abs = negative ? -scaledValue : scaledValue;
  const whole = abs / SCALE;
  let frac = (abs % SCALE).toString().padStart(SCALE_DIGITS, '0').replace(/0+$/, '');
  if (frac.length < minDecimals) frac = frac.padEnd(minDecimals, '0');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** Minor units as the major-unit string Wave's Money.value carries ("120.00"). */
export function majorString(minor: bigint, exponent: number): string {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  if (exponent === 0) return `${negative ? '-' : ''}${abs}`;
  const unit = 10n ** BigInt(exponent);
  return `${negative ? '-' : ''}${abs / unit}.${(abs % unit).toString().padStart(exponent, '0')}`;
}

export interface CurrencyInfo {
  code: string;
  symbol: string;
  name: string;
  plural: string;
  exponent: number;
}

const KNOWN: Record<string, Omit<CurrencyInfo, 'code'>> = {
  USD: { symbol: '$', name: 'United States dollar', plural: 'United States dollars', exponent: 2 },
  CAD: { symbol: '$', name: 'Canadian dollar', plural: 'Canadian dollars', exponent: 2 },
  EUR: { symbol: '€', name: 'Euro', plural: 'Euros', exponent: 2 },
  GBP: { symbol: '£', name: 'Pound sterling', plural: 'Pounds sterling', exponent: 2 },
  AUD: { symbol: '$', name: 'Australian dollar', plural: 'Australian dollars', exponent: 2 },
  JPY: { symbol: '¥', name: 'Yen', plural: 'Yen', exponent: 0 },
  KWD: { symbol: 'KD', name: 'Kuwaiti dinar', plural: 'Kuwaiti dinars', exponent: 3 },
  BHD: { symbol: 'BD', name: 'Bahraini dinar', plural: 'Bahraini dinars', exponent: 3 },
};

/** ISO 4217 exponents that are not 2, for currencies outside KNOWN. */
const EXPONENT: Record<string, number> = { BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0, IQD: 3, JOD: 3, LYD: 3, OMR: 3, TND: 3 };

export function currencyInfo(code: string): CurrencyInfo {
  const known = KNOWN[code];
  if (known) return { code, ...known };
  return { code, symbol: code, name: code, plural: code, exponent: EXPONENT[code] ?? 2 };
}

/** Wave's Money object for an amount in minor units. */
export function money(minor: bigint, currency: string) {
  const info = currencyInfo(currency);
  return {
    raw: Number(minor),
    minorUnitValue: minor.toString(),
    value: majorString(minor, info.exponent),
    currency: info,
  };
}
