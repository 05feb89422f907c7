// Money as integer minor units. Accounting APIs send amounts as JSON numbers (1234.5); we convert once, on purpose,
// and add and compare only integers.

/** Minor-unit digits of a currency (ISO 4217 via Intl): EUR 2, JPY 0, KWD 3. Unknown codes: 2. */
export function currencyDigits(code: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

export function toMinor(amount: number, digits: number): bigint {
  return BigInt(Math.round(amount * 10 ** digits));
}

/** "1,234.50 EUR" */
export function formatMinor(minor: bigint, digits: number, code: string): string {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  const scale = 10n ** BigInt(digits);
  const whole = (abs / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = digits > 0 ? `.${(abs % scale).toString().padStart(digits, '0')}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}${code ? ` ${code}` : ''}`;
}

export function formatAmount(amount: number, code: string): string {
  const digits = currencyDigits(code);
  return formatMinor(toMinor(amount, digits), digits, code);
}
