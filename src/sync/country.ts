// Country names and codes as people type them into a CRM -> ISO 3166-1 alpha-2. Built from the ICU data
// Node ships (every region name in a handful of languages), plus the aliases no table has.

const LOCALES = ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt', 'pl', 'ru', 'uk', 'sv', 'da', 'fi', 'cs', 'tr'];

const ALIASES: Record<string, string> = {
  uk: 'GB',
  'great britain': 'GB',
  britain: 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  usa: 'US',
  'u s a': 'US',
  'u s': 'US',
  america: 'US',
  'united states of america': 'US',
  holland: 'NL',
  'the netherlands': 'NL',
  uae: 'AE',
  ksa: 'SA',
  'south korea': 'KR',
  'czech republic': 'CZ',
  russia: 'RU',
  'россия': 'RU',
  'рф': 'RU',
};

/** Lower case, accents and punctuation gone, spaces single: "Deutschland " -> "deutschland". */
function key(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[.'’()]/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

let table: Map<string, string> | undefined;

function buildTable(): Map<string, string> {
  const map = new Map<string, string>();
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const names = LOCALES.map((l) => new Intl.DisplayNames([l], { type: 'region', fallback: 'none' }));
  for (const a of letters) {
    for (const b of letters) {
      const code = a + b;
      const english = names[0]!.of(code);
      // ICU answers only for assigned codes; skip pseudo-regions, "Unknown Region", and retired codes
      // that canonicalise to a current one (DD -> DE), so "Germany" means DE.
      if (!english || english === code || /pseudo|unknown/i.test(english)) continue;
      if (Intl.getCanonicalLocales(`und-${code}`)[0] !== `und-${code}`) continue;
      for (const dn of names) {
        const name = dn.of(code);
        if (name && !map.has(key(name))) map.set(key(name), code);
      }
    }
  }
  for (const [alias, code] of Object.entries(ALIASES)) map.set(key(alias), code);
  return map;
}

/** ISO alpha-2 code for a country code or name, or undefined when it is not recognisable. */
export function normaliseCountry(raw: string | undefined | null): string | undefined {
  if (!raw) return undefined;
  const trimmed = raw.trim();
  if (!trimmed) return undefined;
  table ??= buildTable();
  const k = key(trimmed);
  if (/^[a-z]{2}$/.test(k)) {
    const upper = k.toUpperCase();
    if (upper === 'UK') return 'GB';
    return new Set(table.values()).has(upper) ? upper : undefined;
  }
  return table.get(k);
}
