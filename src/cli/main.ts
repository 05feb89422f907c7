#!/usr/bin/env node
// The operator's command line: `relay <command>` (npm bin), or `node dist/src/cli/main.js <command>` in the
// container. Reads the same settings (.env and the environment) and mapping as the relay, works on the
// same database and talks to Kommo and the accounting backend through the same clients. Exit code 0: done / all good;
// 1: a problem was found or the action was refused; 2: wrong usage or settings.
import dotenv from 'dotenv';
import { ConfigError } from '../config/env.js';
import { RelayError } from '../errors.js';
import { scrubSecrets } from '../log.js';
import { parseArgs, UsageError, type Args } from './args.js';
import { check } from './check.js';
import { CliContext, type Io } from './context.js';
import { copyDatabase } from './copy-database.js';
import { deal } from './deal.js';
import { discover } from './discover.js';
import { problemsOf } from './format.js';
import { retry } from './retry.js';
import { status } from './status.js';
import { webhooks } from './webhooks.js';

interface Command {
  run(ctx: CliContext, args: Args): Promise<number>;
  usage: string;
  summary: string;
  flags: readonly string[];
  options: readonly string[];
}

const COMMON = ['json', 'verbose', 'help'];

const COMMANDS: Record<string, Command> = {
  discover: { run: discover, usage: 'discover [--out mapping.json [--force]] [--json]', summary: 'list Kommo stages and fields and the accounting organizations, taxes and currencies, with IDs; print a starter mapping', flags: [...COMMON, 'force'], options: ['out'] },
  check: { run: check, usage: 'check [--json]', summary: 'check the settings, the mapping and both connections; exit 1 on any problem', flags: COMMON, options: [] },
  webhooks: { run: webhooks, usage: 'webhooks [--url https://relay.example.com] [--no-register] [--json]', summary: "register the Kommo webhook and print the accounting backend's webhook set-up", flags: [...COMMON, 'no-register'], options: ['url'] },
  deal: { run: deal, usage: 'deal <deal id> [--json]', summary: "a deal's state, accounting IDs and timeline", flags: COMMON, options: [] },
  retry: { run: retry, usage: 'retry job <job id> | retry deal <deal id> [--wait [--timeout 60]] [--json]', summary: 're-run a failed or dead job', flags: [...COMMON, 'wait'], options: ['timeout'] },
  status: { run: status, usage: 'status [--json]', summary: 'queue depth, failures, last reconcile', flags: COMMON, options: [] },
  'copy-database': { run: copyDatabase, usage: 'copy-database --to postgres://user:password@host:5432/db [--json]', summary: 'copy the relay\'s SQLite database (DATABASE_URL) into an empty PostgreSQL one, to run several relays', flags: COMMON, options: ['to'] },
};

function help(): string {
  return [
    'Usage: relay <command> [options]   (in the container: node dist/src/cli/main.js <command>)',
    '',
    ...Object.values(COMMANDS).flatMap((c) => [`  relay ${c.usage}`, `      ${c.summary}`]),
    '',
    'Settings come from the environment and .env, as for the relay. --verbose shows the clients\' log lines on stderr.',
  ].join('\n');
}

async function runCli(argv: string[], io: Io, env: Record<string, string | undefined>): Promise<number> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    if (name && name !== 'help' && name !== '--help' && name !== '-h') io.err(`Unknown command '${name}'.\n`);
    io.out(help());
    return name && name !== 'help' && name !== '--help' && name !== '-h' ? 2 : 0;
  }
  let ctx: CliContext | undefined;
  try {
    const args = parseArgs(rest, command);
    if (args.flags.has('help')) {
      io.out(`Usage: relay ${command.usage}\n  ${command.summary}`);
      return 0;
    }
    ctx = new CliContext(io, env, args.flags.has('verbose'));
    return await command.run(ctx, args);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\nUsage: relay ${command.usage}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      io.err(`${err.message}\nSee .env.example for every setting.`);
      return 2;
    }
    // A RelayError's message says what happened and what to do; anything else is a bug worth its stack.
    io.err(err instanceof RelayError ? problemsOf(err).join('\n') : err instanceof Error ? (err.stack ?? err.message) : String(err));
    return 1;
  } finally {
    await ctx?.close();
  }
}

// quiet: the answer goes to stdout (often into a file or a pipe), nothing else may.
dotenv.config({ quiet: true });
// stderr (errors, log lines) is scrubbed of every known secret; stdout is the answer the operator asked for.
const code = await runCli(process.argv.slice(2), { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${scrubSecrets(t)}\n`) }, process.env);
// Let stdout drain into a pipe before leaving; open sockets (keep-alive) must not hold the process.
process.exitCode = code;
setImmediate(() => process.exit(code));
