// A user's clone has nothing beside it: the repository's files, copied into an empty temporary folder
// (so ../shared does not exist), run `npm run demo` to its end, and the demo against the fake Xero and the fake Wave too. Anything that reads outside the
// repository (the vendors' documents in ../shared, say) makes this fail. node_modules is linked from this
// checkout rather than installed, which keeps the test to one TypeScript build and one demo run.
import { execFile, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
let outer: string | undefined;
afterAll(async () => {
  if (outer) await rm(outer, { recursive: true, force: true });
});

/** Tracked files and untracked ones git does not ignore: what a commit of this work tree would hold. */
async function repositoryFiles(): Promise<string[]> {
  const { stdout } = await promisify(execFile)('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, maxBuffer: 64 << 20 });
  return [...new Set(stdout.split('\0').filter(Boolean))].filter((f) => existsSync(path.join(root, f)));
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

it('a copy of the repository with nothing beside it runs `npm run demo` to its end', async () => {
  outer = await mkdtemp(path.join(tmpdir(), 'fresh-clone-'));
  const clone = path.join(outer, 'repo');
  for (const file of await repositoryFiles()) {
    await mkdir(path.dirname(path.join(clone, file)), { recursive: true });
    await copyFile(path.join(root, file), path.join(clone, file));
  }
  await symlink(realpathSync(path.join(root, 'node_modules')), path.join(clone, 'node_modules'), 'dir');
  expect(await readdir(outer)).toEqual(['repo']); // nothing beside the clone: no ../shared
  expect(existsSync(path.join(clone, 'contract', 'zoho-books'))).toBe(true);

  // The Node running this test comes first on PATH, so npm and its scripts use it too.
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`, LOG_LEVEL: 'warn' };
  delete env.OAS_SOURCE_DIR;
  const { code, output } = await run('npm', ['run', 'demo'], clone, env);

  expect(output).not.toMatch(/ENOENT|\.\.\/shared/);
  expect(code, output).toBe(0);
  expect(output).toMatch(/3\. Invoice INV-\d+ \(\d{19}\), reference KOMMO-\d+, status sent\./);
  expect(output).toMatch(/5\. Deal fields in Kommo: Invoice ID = \d{19}/);
  expect(output).toMatch(/broke Zoho's published contract: 0\./);

  // The same loop against the fake Xero (its contract is the repository's contract/xero), built already.
  const xero = await run('node', ['dist/sandbox/demo.js', '--backend', 'xero'], clone, env);
  expect(xero.output).not.toMatch(/ENOENT|\.\.\/shared/);
  expect(xero.code, xero.output).toBe(0);
  expect(xero.output).toMatch(/3\. Invoice INV-\d+ \([0-9a-f-]{36}\), reference KOMMO-\d+, status AUTHORISED\./);
  expect(xero.output).toMatch(/4\. Emailed to anna\.schmidt@example\.de\./);
  expect(xero.output).toMatch(/5\. Deal fields in Kommo: Invoice ID = [0-9a-f-]{36}\n +Invoice URL = https:\/\/in\.xero\.com\//);
  expect(xero.output).toMatch(/broke Xero's published contract: 0\./);

  // And against the fake Wave (its schema is the repository's contract/wave).
  const wave = await run('node', ['dist/sandbox/demo.js', '--backend', 'wave'], clone, env);
  expect(wave.output).not.toMatch(/ENOENT|\.\.\/shared/);
  expect(wave.code, wave.output).toBe(0);
  expect(wave.output).toMatch(/3\. Invoice KOMMO-\d+ \(\S+\), reference KOMMO-\d+, status SENT\./);
  expect(wave.output).toMatch(/4\. Emailed to anna\.schmidt@example\.de\./);
  expect(wave.output).toMatch(/broke Wave's published contract: 0\./);
}, 300_000);
