// `relay copy-database --to postgres://…`: moves a relay from its embedded SQLite file (DATABASE_URL) to
// PostgreSQL, so that several relays can share it. The relay must be stopped (its heartbeat says whether it
// runs); the target must be empty. Afterwards: DATABASE_URL=<the PostgreSQL URL>, start the relays.
import { databaseTarget } from '../config/env.js';
import { SEEN_WITHIN_MS } from '../jobs/cluster.js';
import { registerSecret } from '../log.js';
import { copySqliteToPostgres, CopyRefused } from '../store/copy.js';
import { openStore } from '../store/db.js';
import { recentProcesses } from '../store/processes.js';
import { UsageError, type Args } from './args.js';
import type { CliContext } from './context.js';
import { table } from './format.js';

export async function copyDatabase(ctx: CliContext, args: Args): Promise<number> {
  const to = args.options.get('to');
  if (!to || !/^postgres(ql)?:\/\//.test(to)) throw new UsageError('say where to copy to: --to postgres://user:password@host:5432/database');
  const url = new URL(to);
  if (url.password) registerSecret(decodeURIComponent(url.password));
  const where = `${url.hostname}${url.port ? `:${url.port}` : ''}${url.pathname}`;
  const source = await ctx.db();
  if (source.dialect !== 'sqlite') throw new UsageError('DATABASE_URL must be the SQLite file to copy from (sqlite:/data/relay.db); it is already PostgreSQL.');

  const running = await recentProcesses(source.db, SEEN_WITHIN_MS);
  if (running.length) {
    ctx.io.err(`A relay is running on this file (${running.map((p) => p.id).join(', ')}): stop it first, so that nothing is written to the file after the copy.`);
    return 1;
  }
  const target = await openStore(databaseTarget(to));
  try {
    const json = args.flags.has('json');
    const result = await copySqliteToPostgres(source.db, target.db);
    if (json) {
      ctx.io.out(JSON.stringify({ copied: result.tables, to: where }, null, 2));
    } else {
      ctx.io.out([`Copied into the PostgreSQL database at ${where}:`, ...table(result.tables.map((t) => [t.table, `${t.rows} rows`])), '', 'Next: set DATABASE_URL to that PostgreSQL URL for every relay and start them. Keep the SQLite file as a backup.'].join('\n'));
    }
    return 0;
  } catch (err) {
    if (!(err instanceof CopyRefused)) throw err;
    ctx.io.err(err.message);
    return 1;
  } finally {
    await target.close();
  }
}
