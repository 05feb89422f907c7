// The intake path shared by every webhook source: each item becomes an event stored once (deduplicated
// by a key derived from it) and, when it calls for work, a job enqueued in the same transaction. Only
// after the commit is the sender answered, so an acknowledged event is never lost.
import type { Insertable } from 'kysely';
import type { AccountingId } from '../accounting/registry.js';
import { postgresPool, withSqlite, type Db } from '../store/db.js';
import type { EventsTable, JobsTable } from '../store/schema.js';
import type { EnqueueInput, JobQueue } from './queue.js';

/** The columns the intake writes, in the order its prepared statements take them (SQLite and PostgreSQL). */
const EVENT_COLUMNS = ['source', 'dedup_key', 'kind', 'deal_id', 'payload', 'received_at'] as const satisfies ReadonlyArray<keyof Insertable<EventsTable>>;
const JOB_COLUMNS = [
  'kind', 'lane', 'deal_id', 'event_id', 'payload', 'state', 'attempts', 'max_attempts', 'run_at',
  'locked_by', 'locked_until', 'last_error_code', 'last_error', 'result', 'created_at', 'updated_at',
] as const satisfies ReadonlyArray<keyof Insertable<JobsTable>>;

export interface InboxItem {
  source: 'kommo' | AccountingId | 'reconciler' | 'admin';
  dedupKey: string;
  kind: string;
  dealId?: string | null;
  payload: unknown;
  job?: Omit<EnqueueInput, 'eventId' | 'dealId'>;
}

export interface InboxResult {
  stored: number;
  duplicates: number;
  jobIds: number[];
}

export async function acceptEvents(db: Db, queue: JobQueue, items: InboxItem[], now = Date.now()): Promise<InboxResult> {
  if (items.length === 0) return { stored: 0, duplicates: 0, jobIds: [] };
  const [result] = await storeBatch(db, queue, [items], now);
  return result!;
}

/**
 * Group commit: the webhooks that arrive while the previous batch is being stored (or in the same turn of the
 * event loop) are stored together in the next one, and each is answered only after its commit. One fsync and
 * one round trip then cover many webhooks, which is where the time and the CPU of a durable intake go. One
 * batch is on its way at a time: more would only split the webhooks into more, smaller commits, each a round
 * trip of its own on PostgreSQL (SQLite's one connection ran them one after the other anyway).
 */
export class InboxWriter {
  private pending: Array<{ items: InboxItem[]; resolve: (r: InboxResult) => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;
  private flushing = false;

  constructor(
    private readonly db: Db,
    private readonly queue: JobQueue,
    private readonly maxBatch = 200,
  ) {}

  accept(items: InboxItem[]): Promise<InboxResult> {
    if (items.length === 0) return Promise.resolve({ stored: 0, duplicates: 0, jobIds: [] });
    return new Promise((resolve, reject) => {
      this.pending.push({ items, resolve, reject });
      // While a batch is on its way, the flush in progress takes these next.
      if (!this.scheduled && !this.flushing) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, this.maxBatch);
        try {
          const results = await storeBatch(this.db, this.queue, batch.map((b) => b.items), Date.now());
          batch.forEach((b, i) => b.resolve(results[i]!));
        } catch (err) {
          // Nothing of the batch was committed: every sender gets an error and delivers again.
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}

async function storeBatch(db: Db, queue: JobQueue, batches: InboxItem[][], now: number): Promise<InboxResult[]> {
  const pool = postgresPool(db);
  const results =
    (await withSqlite(db, (sqlite) => storeBatchSqlite(sqlite, queue, batches, now))) ??
    (pool ? await storeBatchPostgres(pool, queue, batches, now) : await db.transaction().execute((trx) => storeBatchInRows(trx, queue, batches, now)));
  if (results.some((r) => r.jobIds.length)) queue.notify();
  return results;
}

function eventRow(item: InboxItem, now: number): Insertable<EventsTable> {
  return {
    source: item.source,
    dedup_key: item.dedupKey,
    kind: item.kind,
    deal_id: item.dealId ?? null,
    payload: JSON.stringify(item.payload),
    received_at: now,
  };
}

function jobInput(item: InboxItem, eventId: number): EnqueueInput {
  return { ...item.job!, dealId: item.dealId ?? null, eventId };
}

// The PostgreSQL path: the whole batch in ONE statement, prepared once per connection (a named statement of
// constant text: the rows travel as one array per column, the bodies as one JSON array, unnest()ed). The
// events are inserted, their jobs inserted from the events' RETURNING in the same statement, and a statement outside a transaction is its own
// transaction: one round trip per batch, where BEGIN, two INSERTs and COMMIT through Kysely took four, each
// compiled anew (their text changed with the number of rows) and parsed anew by the server. Measured with
// `npm run bench -- --only=multi-intake` (README: Several relays). The events go in in dedup-key order: two
// relays storing the same deliveries at once (a sender's retry reaching another relay) then wait for each other
// key by key instead of each holding a key the other needs (a deadlock, which failed both batches).
type PgPool = NonNullable<ReturnType<typeof postgresPool>>;

const PG_EVENT_TYPES: Record<(typeof EVENT_COLUMNS)[number], string> = {
  source: 'text', dedup_key: 'text', kind: 'text', deal_id: 'text', payload: 'text', received_at: 'bigint',
};
const PG_JOB_TYPES: Record<(typeof JOB_COLUMNS)[number], string> = {
  kind: 'text', lane: 'text', deal_id: 'text', event_id: 'bigint', payload: 'text', state: 'text', attempts: 'integer', max_attempts: 'integer', run_at: 'bigint',
  locked_by: 'text', locked_until: 'bigint', last_error_code: 'text', last_error: 'text', result: 'text', created_at: 'bigint', updated_at: 'bigint',
};
/** The job columns sent as arrays: all but event_id, which comes from the event just inserted. */
const PG_JOB_SENT = JOB_COLUMNS.filter((c) => c !== 'event_id');

const PG_INTAKE = {
  name: 'relay_intake_batch',
  text: (() => {
    let n = 0;
    const arrays = (columns: readonly string[], types: Record<string, string>) =>
      columns
        .map((c) => (c === 'payload' && types === PG_EVENT_TYPES ? `array(select p from json_array_elements_text($${++n}::json) with ordinality as t(p, i) order by i)` : `$${++n}::${types[c]}[]`))
        .join(', ');
    const events = arrays(EVENT_COLUMNS, PG_EVENT_TYPES);
    const jobs = arrays(['dedup_key', ...PG_JOB_SENT], { dedup_key: 'text', ...PG_JOB_TYPES });
    return `with ev as (
  insert into events (${EVENT_COLUMNS.join(', ')})
  select * from unnest(${events}) as e(${EVENT_COLUMNS.join(', ')}) order by dedup_key
  on conflict (dedup_key) do nothing returning id, dedup_key
), jb as (
  insert into jobs (${JOB_COLUMNS.join(', ')})
  select ${JOB_COLUMNS.map((c) => (c === 'event_id' ? 'ev.id' : `j.${c}`)).join(', ')}
  from unnest(${jobs}) as j(dedup_key, ${PG_JOB_SENT.join(', ')}) join ev on ev.dedup_key = j.dedup_key
  returning id, event_id
)
select ev.dedup_key, ev.id as event_id, jb.id as job_id from ev left join jb on jb.event_id = ev.id`;
  })(),
};

async function storeBatchPostgres(pool: PgPool, queue: JobQueue, batches: InboxItem[][], now: number): Promise<InboxResult[]> {
  const items = batches.flat();
  // The first item with a dedup key is the one stored; a later one in the same commit is a duplicate.
  const firstOfKey = new Map<string, InboxItem>();
  for (const item of items) if (!firstOfKey.has(item.dedupKey)) firstOfKey.set(item.dedupKey, item);
  const events = EVENT_COLUMNS.map(() => [] as unknown[]);
  const jobs = ['dedup_key', ...PG_JOB_SENT].map(() => [] as unknown[]);
  for (const item of firstOfKey.values()) {
    const event = eventRow(item, now);
    EVENT_COLUMNS.forEach((c, i) => events[i]!.push(event[c]));
    if (!item.job) continue;
    const job = queue.newJobRow(jobInput(item, 0));
    jobs[0]!.push(item.dedupKey);
    PG_JOB_SENT.forEach((c, i) => jobs[i + 1]!.push(job[c]));
  }
  // The webhooks' bodies travel as one JSON array (JSON.stringify, native) rather than a PostgreSQL array
  // literal, which pg escapes character by character in JavaScript: ~9 µs against ~1.3 µs per 1 KB body.
  const payloads = EVENT_COLUMNS.indexOf('payload');
  events[payloads] = JSON.stringify(events[payloads]) as unknown as unknown[];
  const { rows } = await pool.query<{ dedup_key: string; event_id: number; job_id: number | null }>({ ...PG_INTAKE, values: [...events, ...jobs] });
  const stored = new Map<string, number | null>();
  for (const r of rows) stored.set(r.dedup_key, r.job_id === null ? null : Number(r.job_id));
  return batches.map((batch) => {
    const out: InboxResult = { stored: 0, duplicates: 0, jobIds: [] };
    for (const item of batch) {
      if (firstOfKey.get(item.dedupKey) !== item || !stored.has(item.dedupKey)) {
        out.duplicates++;
        continue;
      }
      out.stored++;
      const jobId = stored.get(item.dedupKey);
      if (item.job && jobId != null) out.jobIds.push(jobId);
    }
    return out;
  });
}

// A caller's transaction (PostgreSQL): the whole batch in two multi-row INSERTs (events, then their jobs), so a commit costs
// a few round trips however many webhooks it holds. An INSERT statement per item cost ~0.9 ms of the relay's
// CPU per webhook; relays sharing one database each commit smaller batches, so that cost would grow with them.
const ROWS_PER_INSERT = 1000;

async function storeBatchInRows(trx: Db, queue: JobQueue, batches: InboxItem[][], now: number): Promise<InboxResult[]> {
  const items = batches.flat();
  // The first item with a dedup key is the one stored; a later one in the same commit is a duplicate.
  const firstOfKey = new Map<string, InboxItem>();
  for (const item of items) if (!firstOfKey.has(item.dedupKey)) firstOfKey.set(item.dedupKey, item);
  const eventIds = new Map<string, number>();
  for (const chunk of chunks([...firstOfKey.values()], ROWS_PER_INSERT)) {
    const rows = await trx
      .insertInto('events')
      .values(chunk.map((item) => eventRow(item, now)))
      .onConflict((oc) => oc.column('dedup_key').doNothing())
      .returning(['id', 'dedup_key'])
      .execute();
    for (const r of rows) eventIds.set(r.dedup_key, Number(r.id));
  }
  const stored = items.filter((item) => firstOfKey.get(item.dedupKey) === item && eventIds.has(item.dedupKey));
  const jobIds = new Map<number, number>();
  for (const chunk of chunks(stored.filter((item) => item.job), ROWS_PER_INSERT)) {
    const rows = await trx
      .insertInto('jobs')
      .values(chunk.map((item) => queue.newJobRow(jobInput(item, eventIds.get(item.dedupKey)!))))
      .returning(['id', 'event_id'])
      .execute();
    for (const r of rows) jobIds.set(Number(r.event_id), Number(r.id));
  }
  const storedSet = new Set(stored);
  return batches.map((batch) => {
    const out: InboxResult = { stored: 0, duplicates: 0, jobIds: [] };
    for (const item of batch) {
      if (!storedSet.has(item)) {
        out.duplicates++;
        continue;
      }
      out.stored++;
      if (item.job) out.jobIds.push(jobIds.get(eventIds.get(item.dedupKey)!)!);
    }
    return out;
  });
}

function chunks<T>(all: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < all.length; i += size) out.push(all.slice(i, i + size));
  return out;
}

// The SQLite path: the same two INSERTs as `storeItems`, as prepared statements run synchronously in one
// transaction. Building and compiling each query through Kysely, and a promise per statement, cost
// about twice what SQLite itself spends on a webhook (measured in batches of 25: ~170 µs CPU per event
// through Kysely, ~55 µs this way), and the intake is the one place where that is paid at the senders'
// rate. PostgreSQL (and a caller's transaction) keep the Kysely path above (multi-row, storeBatchInRows).

type Sqlite = Parameters<Parameters<typeof withSqlite>[1]>[0];
type Statement = ReturnType<Sqlite['prepare']>;


const statements = new WeakMap<Sqlite, { event: Statement; job: Statement }>();

function insertText(table: string, columns: readonly string[], tail: string): string {
  return `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')}) ${tail}`;
}

function prepared(sqlite: Sqlite): { event: Statement; job: Statement } {
  let s = statements.get(sqlite);
  if (!s) {
    s = {
      event: sqlite.prepare(insertText('events', EVENT_COLUMNS, 'on conflict (dedup_key) do nothing returning id')),
      job: sqlite.prepare(insertText('jobs', JOB_COLUMNS, 'returning id')),
    };
    statements.set(sqlite, s);
  }
  return s;
}

function storeBatchSqlite(sqlite: Sqlite, queue: JobQueue, batches: InboxItem[][], now: number): InboxResult[] {
  const { event: insertEvent, job: insertJob } = prepared(sqlite);
  return sqlite.transaction(() =>
    batches.map((items) => {
      const out: InboxResult = { stored: 0, duplicates: 0, jobIds: [] };
      for (const item of items) {
        const event = eventRow(item, now);
        const inserted = insertEvent.get(EVENT_COLUMNS.map((c) => event[c])) as { id: number } | undefined;
        if (!inserted) {
          out.duplicates++;
          continue;
        }
        out.stored++;
        if (item.job) {
          const job = queue.newJobRow(jobInput(item, Number(inserted.id)));
          const row = insertJob.get(JOB_COLUMNS.map((c) => job[c])) as { id: number };
          out.jobIds.push(Number(row.id));
        }
      }
      return out;
    }),
  )();
}
