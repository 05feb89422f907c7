// What a log line must be for a machine to read it: one JSON object per line, each top-level key once
// (JSON parsers keep only the last of a repeated key, so `"service":"kommo-zoho-relay",...,"service":"kommo"`
// loses the application's name), and `service` naming the application.
export const APPLICATION = 'kommo-zoho-relay';

/** The top-level keys of a JSON object text, in order, repeats included. */
export function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i];
    if (c === '"') {
      const start = i + 1;
      for (i++; json[i] !== '"'; i++) if (json[i] === '\\') i++;
      if (depth === 1 && expectKey) keys.push(JSON.parse(json.slice(start - 1, i + 1)) as string);
      expectKey = false;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = depth === 1 && c === '{';
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',' && depth === 1) {
      expectKey = true;
    }
  }
  return keys;
}

/** Every problem found in the lines, e.g. `line 3: "deal_id" twice`; empty when all are well formed. */
export function logLineProblems(lines: string[]): string[] {
  const problems: string[] = [];
  lines.forEach((raw, n) => {
    const line = raw.trim();
    if (!line) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      problems.push(`line ${n + 1}: not JSON: ${line.slice(0, 120)}`);
      return;
    }
    const seen = new Set<string>();
    for (const key of topLevelKeys(line)) {
      if (seen.has(key)) problems.push(`line ${n + 1}: "${key}" twice: ${line.slice(0, 200)}`);
      seen.add(key);
    }
    const service = (parsed as { service?: unknown }).service;
    if (service !== APPLICATION) problems.push(`line ${n + 1}: service is ${JSON.stringify(service)}, not "${APPLICATION}"`);
  });
  return problems;
}
