// The documentation stays true to the code: every setting the relay and its accounting backends read is in .env.example and in the
// README's configuration table, and nothing is documented that the relay does not read.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allSettingNames } from '../../src/config/env.js';
import { mappingSchema } from '../../src/config/mapping.js';

const root = resolve(import.meta.dirname, '../..');
const read = (f: string) => readFileSync(resolve(root, f), 'utf8');
const settings = allSettingNames().sort();

describe('documentation', () => {
  it('.env.example lists exactly the settings the relay reads', () => {
    const documented = [...read('.env.example').matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]!).sort();
    expect(documented).toEqual(settings);
  });

  it("the README's configuration table lists exactly the same settings", () => {
    const readme = read('README.md');
    const table = [...readme.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!).sort();
    expect(table).toEqual(settings);
  });

  it("the README's mapping example is mapping.example.json, and it is a valid mapping", () => {
    const example = JSON.parse(read('mapping.example.json'));
    expect(mappingSchema.safeParse(example).success).toBe(true);
    const block = /```json\n([\s\S]*?)\n```/.exec(read('README.md'));
    expect(block && JSON.parse(block[1]!)).toEqual(example);
  });

  it('the Dockerfile builds with the README commands and runs the relay as a non-root user with a health check', () => {
    const docker = read('Dockerfile');
    expect(docker).toMatch(/^FROM node:24-slim/m);
    expect(docker).toContain('RUN npm ci');
    expect(docker).toContain('npm run build');
    expect(docker).toMatch(/^USER node$/m);
    expect(docker).toMatch(/^VOLUME \["\/data"\]$/m);
    expect(docker).toMatch(/^HEALTHCHECK .*\n.*\/healthz/m);
  });

  it('the image runs the relay with the same node flags as npm start (and so as the benchmarks)', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(read('Dockerfile'));
    const start = JSON.parse(read('package.json')).scripts.start as string;
    expect(cmd && (JSON.parse(cmd[1]!) as string[]).join(' ')).toBe(start);
    expect(start).toMatch(/^node (--[^ ]+ )*dist\/src\/main\.js$/);
  });
});
