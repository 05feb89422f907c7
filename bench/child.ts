// A server under test as a child process, so the load generator (and the sandbox) never share its event
// loop or heap: its latency and its memory are its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

export interface Child {
  pid: number;
  port: number;
  /** Resident memory now and its peak so far, in MiB, from /proc (Linux only; undefined elsewhere). */
  memory(): { rss: number; peak: number } | undefined;
  /** CPU time used so far by all its threads, in ms (Linux /proc; undefined elsewhere). */
  cpuMs(): number | undefined;
  /** Bytes it has caused to be written to storage so far (Linux /proc/<pid>/io write_bytes). */
  diskWrites(): number | undefined;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGKILL now (a crash: no shutdown code runs); resolves once the process is gone. */
  kill(): Promise<void>;
  /** The tail of its stdout and stderr, for reports of what went wrong. */
  output(): string;
}

export interface ChildOptions {
  script: URL;
  env: Record<string, string>;
  cwd: string;
  port: number;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}

/**
 * The node flags `npm start` runs the relay with (package.json's start script, `node <flags> dist/src/main.js`),
 * so a relay child in a benchmark runs exactly as it does in production (and in the image: a test keeps the
 * Dockerfile's CMD equal to the start script).
 */
export function relayNodeArgs(): string[] {
  // From dist/bench/ (npm run bench) or bench/ (the chaos tests run this file from source).
  const here = import.meta.url;
  const file = new URL(here.endsWith('.ts') ? '../package.json' : '../../package.json', here);
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { scripts: { start: string } };
  const m = /^node((?: --[^ ]+)*) dist\/src\/main\.js$/.exec(pkg.scripts.start);
  if (!m) throw new Error(`package.json's start script is not "node [flags] dist/src/main.js": ${pkg.scripts.start}`);
  return m[1]!.trim().split(' ').filter(Boolean);
}

/** A port free right now (the OS picks it; closed again before the child binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function startChild(opts: ChildOptions): Promise<Child> {
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), fileURLToPath(opts.script)], {
    cwd: opts.cwd,
    // PATH only from our own environment: the child's settings are exactly `env`.
    env: { PATH: process.env.PATH ?? '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Keep the tail of its output for the error message if it dies or never listens.
  let output = '';
  const keep = (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-4000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  const child: Child = {
    pid: proc.pid!,
    port: opts.port,
    memory: () => readMemory(proc.pid!),
    cpuMs: () => readCpuMs(proc.pid!),
    diskWrites: () => readDiskWrites(proc.pid!),
    stop: (graceMs = 10_000) => stopProcess(proc, exited, graceMs),
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    output: () => output,
  };
  try {
    await waitListening(opts.port, exited, opts.readyTimeoutMs ?? 20_000);
  } catch (err) {
    await child.stop(1000);
    throw new Error(`${fileURLToPath(opts.script)} did not start: ${(err as Error).message}\n--- its output ---\n${output}`);
  }
  return child;
}

/** Any HTTP answer (a 404 too) means the server is accepting connections. */
async function waitListening(port: number, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone !== undefined) throw new Error(`exited with code ${gone}`);
    const answered = await new Promise<boolean>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
        res.resume();
        resolve(true);
      });
      req.on('error', () => resolve(false));
    });
    if (answered) return;
    if (Date.now() > deadline) throw new Error(`not listening on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stopProcess(proc: ChildProcess, exited: Promise<number | null>, graceMs: number): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return exited;
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

function readMemory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Sum of the first field of /proc/<pid>/task/<tid>/schedstat (ns on CPU): exact, unlike tick-based stat. */
function readCpuMs(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return ns / 1e6;
  } catch {
    return undefined;
  }
}

function readDiskWrites(pid: number): number | undefined {
  try {
    const m = /^write_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}
