// Command-line arguments: positionals, `--flag`, and `--name value` / `--name=value` for the options that
// take one. Unknown options are an error, so a typo never silently does something else.
export interface Args {
  positionals: string[];
  flags: Set<string>;
  options: Map<string, string>;
}

export class UsageError extends Error {}

export function parseArgs(argv: string[], spec: { flags: readonly string[]; options: readonly string[] }): Args {
  const out: Args = { positionals: [], flags: new Set(), options: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--') || arg === '--') {
      out.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (spec.options.includes(name)) {
      const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
      if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
      out.options.set(name, value);
    } else if (spec.flags.includes(name) && eq === -1) {
      out.flags.add(name);
    } else {
      throw new UsageError(`unknown option ${arg}`);
    }
  }
  return out;
}
