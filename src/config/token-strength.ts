// ADMIN_TOKEN guards the admin pages, /metrics and the OAuth connect buttons: a value a person typed
// ("admin-admin-admin…", "abc123abc123…") can be guessed long before any rate limit matters. The checks are
// cheap and certain rather than clever: length, variety, no runs or sequences, no repeated stretch. A value
// from `openssl rand -hex 32` (64 random hex characters) passes them all but with vanishing probability.

export const ADMIN_TOKEN_MIN_LENGTH = 32;
const MIN_DISTINCT = 10;
const REPEAT_SPAN = 8;

/** Why `token` is too weak to be ADMIN_TOKEN, or undefined when it is not. Linear in its length. */
export function adminTokenWeakness(token: string): string | undefined {
  if (token.length < ADMIN_TOKEN_MIN_LENGTH) return `must be at least ${ADMIN_TOKEN_MIN_LENGTH} characters`;
  if (new Set(token).size < MIN_DISTINCT) return `is too repetitive: it uses fewer than ${MIN_DISTINCT} different characters`;
  // A character is predictable when it repeats the one before or continues a step of ±1 (aaa, abc, 987).
  let predictable = 0;
  for (let i = 2; i < token.length; i++) {
    const a = token.charCodeAt(i - 2);
    const b = token.charCodeAt(i - 1);
    const c = token.charCodeAt(i);
    if (c - b === b - a && Math.abs(c - b) <= 1) predictable++;
  }
  if (predictable * 4 > token.length) return 'is too repetitive: runs or sequences (aaa, abc, 123) make up more than a quarter of it';
  const seen = new Set<string>();
  for (let i = 0; i + REPEAT_SPAN <= token.length; i++) {
    const span = token.slice(i, i + REPEAT_SPAN);
    if (seen.has(span)) return `is too repetitive: the same ${REPEAT_SPAN} characters appear twice in it`;
    seen.add(span);
  }
  return undefined;
}
