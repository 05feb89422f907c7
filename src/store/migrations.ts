// Schema migrations, written with the schema builder so the same code creates SQLite and PostgreSQL tables.
import { sql, type Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import { TAKE_CALL_FUNCTION } from './budget-function.js';
import type { Dialect } from './db.js';

function migrations(dialect: Dialect): Record<string, Migration> {
  // The one dialect difference: an auto-incrementing integer key.
  const idColumn = (db: Kysely<unknown>, table: string) =>
    dialect === 'postgres'
      ? db.schema.createTable(table).addColumn('id', 'bigserial', (c) => c.primaryKey())
      : db.schema.createTable(table).addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  return {
    '0001_core': {
      async up(db: Kysely<unknown>) {
        await idColumn(db, 'events')
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('dedup_key', 'text', (c) => c.notNull().unique())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('deal_id', 'text')
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('received_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('events_deal').on('events').column('deal_id').execute();

        await idColumn(db, 'jobs')
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('lane', 'text', (c) => c.notNull())
          .addColumn('deal_id', 'text')
          .addColumn('event_id', 'bigint')
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('max_attempts', 'integer', (c) => c.notNull())
          .addColumn('run_at', 'bigint', (c) => c.notNull())
          .addColumn('locked_by', 'text')
          .addColumn('locked_until', 'bigint')
          .addColumn('last_error_code', 'text')
          .addColumn('last_error', 'text')
          .addColumn('result', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('jobs_ready').on('jobs').columns(['state', 'run_at']).execute();
        await db.schema.createIndex('jobs_lane').on('jobs').columns(['lane', 'state']).execute();
        await db.schema.createIndex('jobs_deal').on('jobs').column('deal_id').execute();

        await idColumn(db, 'job_attempts')
          .addColumn('job_id', 'bigint', (c) => c.notNull())
          .addColumn('attempt', 'integer', (c) => c.notNull())
          .addColumn('worker', 'text', (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('finished_at', 'bigint')
          .addColumn('outcome', 'text')
          .addColumn('error_code', 'text')
          .addColumn('error', 'text')
          .execute();
        await db.schema.createIndex('job_attempts_job').on('job_attempts').column('job_id').execute();

        await db.schema
          .createTable('deal_invoices')
          .addColumn('deal_id', 'text', (c) => c.primaryKey())
          .addColumn('generation', 'integer', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('reference', 'text', (c) => c.notNull())
          .addColumn('customer_id', 'text')
          .addColumn('invoice_id', 'text')
          .addColumn('invoice_number', 'text')
          .addColumn('invoice_url', 'text')
          .addColumn('invoice_status', 'text')
          .addColumn('emailed', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('deal_invoices_invoice').on('deal_invoices').column('invoice_id').execute();

        await db.schema
          .createTable('customers')
          .addColumn('email_key', 'text', (c) => c.primaryKey())
          .addColumn('customer_id', 'text')
          .addColumn('claimed_by', 'text')
          .addColumn('claimed_at', 'bigint')
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('contact_links')
          .addColumn('kommo_contact_id', 'text', (c) => c.primaryKey())
          .addColumn('customer_id', 'text', (c) => c.notNull())
          .addColumn('email_key', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('kv')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0002_payments': {
      async up(db: Kysely<unknown>) {
        // One row per note the relay means to add: written before the POST, so a retry after a lost
        // answer checks the deal's notes instead of adding a second one.
        await db.schema
          .createTable('deal_notes')
          .addColumn('note_key', 'text', (c) => c.primaryKey())
          .addColumn('deal_id', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('text', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('deal_notes_deal').on('deal_notes').column('deal_id').execute();
        // Every accounting invoice the relay has tied to a deal, with the version last handled and when the
        // deal was marked paid (so the stage moves once, however many webhooks arrive).
        await db.schema
          .createTable('invoice_links')
          .addColumn('invoice_id', 'text', (c) => c.primaryKey())
          .addColumn('deal_id', 'text', (c) => c.notNull())
          .addColumn('version', 'text')
          .addColumn('paid_at', 'bigint')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('invoice_links_deal').on('invoice_links').column('deal_id').execute();
      },
    },
    '0003_connections': {
      async up(db: Kysely<unknown>) {
        // OAuth connections of both sides (tokens encrypted), and the OAuth states waiting for a callback.
        await db.schema
          .createTable('connections')
          .addColumn('side', 'text', (c) => c.primaryKey())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('access_token', 'text')
          .addColumn('refresh_token', 'text')
          .addColumn('access_expires_at', 'bigint')
          .addColumn('refresh_expires_at', 'bigint')
          .addColumn('generation', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('refresh_lease_until', 'bigint')
          .addColumn('refresh_lease_owner', 'text')
          .addColumn('accounts_server', 'text')
          .addColumn('data_centre', 'text')
          .addColumn('api_domain', 'text')
          .addColumn('organization_id', 'text')
          .addColumn('organization_name', 'text')
          .addColumn('organizations', 'text')
          .addColumn('account_id', 'text')
          .addColumn('account_name', 'text')
          .addColumn('env_seed_hash', 'text')
          .addColumn('last_error', 'text')
          .addColumn('last_error_at', 'bigint')
          .addColumn('connected_at', 'bigint', (c) => c.notNull())
          .addColumn('refreshed_at', 'bigint')
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('oauth_states')
          .addColumn('state_hash', 'text', (c) => c.primaryKey())
          .addColumn('side', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0004_retainers_and_currency': {
      async up(db: Kysely<unknown>) {
        // One recurring profile per retainer deal, started, stopped and resumed with the deal's stage.
        await db.schema
          .createTable('deal_recurring')
          .addColumn('deal_id', 'text', (c) => c.primaryKey())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('customer_id', 'text')
          .addColumn('recurrence_id', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('deal_recurring_recurrence').on('deal_recurring').column('recurrence_id').execute();
        // A repeat customer costs no search, so its currency is remembered to catch a deal in another one.
        await db.schema.alterTable('customers').addColumn('currency_code', 'text').execute();
      },
    },
    '0005_deal_writes': {
      async up(db: Kysely<unknown>) {
        // Each write to a deal (stage move, paid field, invoice fields) as its own recorded step, so a field
        // Kommo refuses is kept with Kommo's reason and never takes the stage move or a note down with it.
        await db.schema
          .createTable('deal_writes')
          .addColumn('write_key', 'text', (c) => c.primaryKey())
          .addColumn('deal_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('label', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('deal_writes_deal').on('deal_writes').column('deal_id').execute();
        // A note Kommo refuses is kept as 'refused' with Kommo's reason instead of being forgotten.
        await db.schema.alterTable('deal_notes').addColumn('reason', 'text').execute();
      },
    },
    '0006_jobs_claim_by_kind': {
      async up(db: Kysely<unknown>) {
        // Claims take the oldest due job of each kind in turn (fairness): one index step per kind, however
        // long another kind's backlog is.
        await db.schema.createIndex('jobs_kind_ready').on('jobs').columns(['kind', 'state', 'run_at', 'id']).execute();
      },
    },
    // 0007: it follows 0005_deal_writes and 0006_jobs_claim_by_kind, made on other branches at the same time.
    '0007_admin_sessions_and_retention': {
      async up(db: Kysely<unknown>) {
        // Admin logins, so logging out ends a session on the server. Only a keyed hash of the session ID
        // is kept: the table alone cannot be turned into a working cookie.
        await db.schema
          .createTable('admin_sessions')
          .addColumn('id_hash', 'text', (c) => c.primaryKey())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('admin_sessions_expiry').on('admin_sessions').column('expires_at').execute();
        // The retention sweep looks for settled jobs and old events by age.
        await db.schema.createIndex('jobs_settled').on('jobs').columns(['state', 'updated_at']).execute();
        await db.schema.createIndex('events_received').on('events').column('received_at').execute();
        await db.schema.createIndex('jobs_event').on('jobs').column('event_id').execute();
      },
    },
    // 0008: several relays on one database (see README "Several relays").
    '0008_processes_leases_budgets': {
      async up(db: Kysely<unknown>) {
        // One row per relay process, refreshed every few seconds: who is alive, for /readyz and `relay status`.
        await db.schema
          .createTable('relay_processes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('host', 'text', (c) => c.notNull())
          .addColumn('pid', 'integer', (c) => c.notNull())
          .addColumn('role', 'text', (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('seen_at', 'bigint', (c) => c.notNull())
          .execute();
        // A periodic task that must run in one process at a time holds its row until `expires_at`; `last_run_at`
        // lets a new holder keep the interval the old one was keeping.
        await db.schema
          .createTable('leases')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('acquired_at', 'bigint', (c) => c.notNull())
          .addColumn('last_run_at', 'bigint')
          .execute();
        // API budgets shared by every process (PostgreSQL): one row per limit, one row per call in its window.
        await db.schema
          .createTable('rate_budgets')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('max_calls', 'integer', (c) => c.notNull())
          .addColumn('window_ms', 'bigint', (c) => c.notNull())
          .addColumn('paused_until', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
        await idColumn(db, 'rate_calls')
          .addColumn('budget', 'text', (c) => c.notNull())
          .addColumn('holder', 'text', (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('answered_at', 'bigint')
          .execute();
        await db.schema.createIndex('rate_calls_budget').on('rate_calls').columns(['budget', 'answered_at']).execute();
        if (dialect === 'postgres') await sql.raw(TAKE_CALL_FUNCTION).execute(db);
      },
    },
    // 0009: API day quotas (a backend's calls per day per organization), counted in the store on both dialects, so
    // that every relay on the database spends one count and a restart does not forget the day's calls.
    '0009_day_budgets': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('day_budgets')
          .addColumn('name', 'text', (c) => c.primaryKey())
          .addColumn('day', 'text', (c) => c.notNull())
          .addColumn('used', 'integer', (c) => c.notNull())
          .addColumn('max_calls', 'integer')
          .addColumn('resets_at', 'bigint', (c) => c.notNull())
          .addColumn('paused_until', 'bigint', (c) => c.notNull().defaultTo(0))
          .execute();
      },
    },
    // 0010: what `invoice.onLost` did with each lost deal's invoice (issue 18), for the deal page and /admin.
    '0010_deal_lost': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('deal_lost')
          .addColumn('deal_id', 'text', (c) => c.primaryKey())
          .addColumn('invoice_id', 'text')
          .addColumn('invoice_number', 'text')
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('action', 'text')
          .addColumn('detail', 'text')
          .addColumn('attention', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('recurring_stopped', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('lost_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('deal_lost_attention').on('deal_lost').column('attention').execute();
      },
    },
    // 0011: invoice.review (issue 18): the review state of a deal's draft, its version as the relay wrote it, and
    // what it was built from. Null on every existing row: invoices made without review.
    '0011_invoice_review': {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('deal_invoices').addColumn('review', 'text').execute();
        await db.schema.alterTable('deal_invoices').addColumn('draft_version', 'text').execute();
        await db.schema.alterTable('deal_invoices').addColumn('draft_basis', 'text').execute();
        await db.schema.createIndex('deal_invoices_review').on('deal_invoices').column('review').execute();
      },
    },
  };
}

export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) };
  // Kysely looks for its own tables by name in every schema unless told which: on a PostgreSQL database where
  // another schema (another relay, a test) already has them, it would skip creating them in ours and fail.
  const schema = dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema : undefined;
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'schema_migrations',
    migrationLockTableName: 'schema_migrations_lock',
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    const failed = results?.find((r) => r.status === 'Error');
    if (!error && !failed) return;
    // Kysely looks for its tables by reading the catalog of every schema; a schema dropped meanwhile (another
    // installation's, a test's) fails that read. Nothing ran yet then: look again.
    if (!failed && dialect === 'postgres' && attempt < 4 && /^schema ".*" does not exist$/.test((error as Error)?.message ?? '')) {
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      continue;
    }
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
}
