// The CLI runs in the container (`node dist/src/cli/main.js check`): the image keeps dist/src and the
// production dependencies only, so everything the CLI loads must come from there — no dev dependency, no
// file outside dist/src. Checked on the built JavaScript (npm test builds first).
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const dist = resolve(root, 'dist/src');
const entry = resolve(dist, 'cli/main.js');

/** Every module reachable from `start` through static imports: local files and bare package names. */
function staticImports(start: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const code = readFileSync(file, 'utf8');
    // Static forms only: `import x from '…'`, `import '…'`, `export … from '…'`. Dynamic import() is left
    // out on purpose: the relay uses it for optional drivers (pg) and development tools (pino-pretty).
    for (const m of code.matchAll(/^\s*(?:import|export)\s(?:[^'"]*?\sfrom\s)?['"]([^'"]+)['"]/gm)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  visit(start);
  return { files, packages };
}

describe('the CLI in the container image', () => {
  it('loads only files under dist/src and production dependencies', () => {
    expect(existsSync(entry)).toBe(true);
    const { files, packages } = staticImports(entry);
    const outside = [...files].filter((f) => relative(dist, f).startsWith('..'));
    expect(outside).toEqual([]);
    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; bin: Record<string, string> };
    const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
    const missing = [...packages].filter((p) => !builtins.has(p) && !(p in pkg.dependencies));
    expect(missing).toEqual([]);
    expect(packages.has('dotenv')).toBe(true);
    expect(pkg.bin).toEqual({ relay: 'dist/src/cli/main.js' });
    expect(readFileSync(entry, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('the runtime image copies dist/src, the pruned node_modules and package.json', () => {
    const docker = readFileSync(resolve(root, 'Dockerfile'), 'utf8');
    expect(docker).toContain('RUN npm run build && npm prune --omit=dev');
    expect(docker).toContain('COPY --from=build /app/dist/src ./dist/src');
    expect(docker).toContain('COPY --from=build /app/node_modules ./node_modules');
    expect(docker).toContain('COPY --from=build /app/package.json ./');
  });
});
