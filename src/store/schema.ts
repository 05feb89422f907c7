// Table types for the query layer. Times are epoch milliseconds (BIGINT); accounting IDs are TEXT; Kommo IDs are
// stored as TEXT too so one column type serves both systems and nothing is ever rounded.
import type { AccountingId } from '../accounting/registry.js';
import type { Generated } from 'kysely';

export interface EventsTable {
  id: Generated<number>;
  source: 'kommo' | AccountingId | 'reconciler' | 'admin';
  dedup_key: string;
  kind: string;
  deal_id: string | null;
  payload: string;
  received_at: number;
}

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'dead';

export interface JobsTable {
  id: Generated<number>;
  kind: string;
  /** Jobs sharing a lane never run at the same time (e.g. `deal:123`). */
  lane: string;
  deal_id: string | null;
  event_id: number | null;
  payload: string;
  state: JobState;
  attempts: number;
  max_attempts: number;
  run_at: number;
  locked_by: string | null;
  locked_until: number | null;
  last_error_code: string | null;
  last_error: string | null;
  result: string | null;
  created_at: number;
  updated_at: number;
}

export interface JobAttemptsTable {
  id: Generated<number>;
  job_id: number;
  attempt: number;
  worker: string;
  started_at: number;
  finished_at: number | null;
  outcome: 'running' | 'done' | 'retry' | 'failed' | 'dead' | 'abandoned' | null;
  error_code: string | null;
  error: string | null;
}

export type DealInvoiceState = 'pending' | 'creating' | 'created' | 'linked';

export interface DealInvoicesTable {
  deal_id: string;
  /** Bumped when a user asks for a new invoice for the same deal; part of the reference number. */
  generation: number;
  state: DealInvoiceState;
  reference: string;
  customer_id: string | null;
  invoice_id: string | null;
  invoice_number: string | null;
  invoice_url: string | null;
  invoice_status: string | null;
  emailed: number;
  /** invoice.review: 'waiting' (a draft for the accountant), 'approved' (approved, being sent), 'sent'; null without review. */
  review: DealInvoiceReview | null;
  /** The draft's version (AccountingInvoiceDetail.version) as the relay last wrote it: another means a person edited it. */
  draft_version: string | null;
  /** What the draft was built from (the deal's amount and products, JSON), to tell what changed on the deal. */
  draft_basis: string | null;
  created_at: number;
  updated_at: number;
}

export type DealInvoiceReview = 'waiting' | 'approved' | 'sent';

export interface CustomersTable {
  /** Normalised email (trimmed, lower case). */
  email_key: string;
  customer_id: string | null;
  currency_code: string | null;
  /** Job that is creating the customer right now; others wait so no duplicate is created. */
  claimed_by: string | null;
  claimed_at: number | null;
  updated_at: number;
}

export interface ContactLinksTable {
  kommo_contact_id: string;
  customer_id: string;
  email_key: string;
  updated_at: number;
}

export interface KvTable {
  key: string;
  value: string;
  updated_at: number;
}

export interface DealNotesTable {
  note_key: string;
  deal_id: string;
  /** 'refused': Kommo answered that it will not add this note (`reason` says why); tried again on the next run. */
  state: 'sending' | 'sent' | 'refused';
  text: string;
  reason: string | null;
  created_at: number;
  updated_at: number;
}

export type DealWriteKind = 'paid_stage' | 'paid_field' | 'invoice_field';
export type DealWriteState = 'pending' | 'done' | 'refused';

/**
 * One write to a deal (a stage move, one field), recorded before it is made so each is done once and one
 * that Kommo refuses is kept with Kommo's reason while the others still happen. `write_key` names the
 * write's purpose (e.g. `paid_field:<invoice>:full`), so running a job again finds it.
 */
export interface DealWritesTable {
  write_key: string;
  deal_id: string;
  kind: DealWriteKind;
  /** What the write does, for a person: "paid field 'Payment status' = 'paid'". */
  label: string;
  /** 'pending': intended, not yet confirmed (a retryable failure keeps it here, with the last error in `reason`). */
  state: DealWriteState;
  reason: string | null;
  attempts: number;
  created_at: number;
  updated_at: number;
}

export interface InvoiceLinksTable {
  invoice_id: string;
  deal_id: string;
  /** The invoice version last handled: `last_modified_time|balance`. */
  version: string | null;
  paid_at: number | null;
  created_at: number;
  updated_at: number;
}

/** Kommo, or the accounting backend (its registry ID). */
export type ConnectionSide = 'kommo' | AccountingId;

/** One row per side connected through OAuth. Token columns hold AES-256-GCM ciphertext (security/crypto.ts). */
export interface ConnectionsTable {
  side: ConnectionSide;
  /** 'lost': the provider refused the refresh token; only a reconnect helps. */
  status: 'connected' | 'lost';
  access_token: string | null;
  refresh_token: string | null;
  access_expires_at: number | null;
  refresh_expires_at: number | null;
  /** Bumped by every rotation and every reconnect: the compare-and-swap key between processes. */
  generation: number;
  /** A process refreshing right now holds this lease, so no other spends the same single-use refresh token. */
  refresh_lease_until: number | null;
  refresh_lease_owner: string | null;
  /** Where the backend has them: the accounts server that issued the refresh token, its data centre and api_domain. */
  accounts_server: string | null;
  data_centre: string | null;
  api_domain: string | null;
  /** The organization (tenant) chosen for this connection, and the ones to choose from (JSON). */
  organization_id: string | null;
  organization_name: string | null;
  organizations: string | null;
  /** The account (Kommo) or user (accounting side) the tokens belong to, for the connection page. */
  account_id: string | null;
  account_name: string | null;
  /** sha256 of the KOMMO_REFRESH_TOKEN that seeded this row: the same value is never used twice. */
  env_seed_hash: string | null;
  last_error: string | null;
  last_error_at: number | null;
  connected_at: number;
  refreshed_at: number | null;
  updated_at: number;
}

/** OAuth `state` values between the redirect and the callback: single use, expiring, stored hashed. */
export interface OAuthStatesTable {
  state_hash: string;
  side: ConnectionSide;
  expires_at: number;
  created_at: number;
}

export interface Schema {
  events: EventsTable;
  jobs: JobsTable;
  job_attempts: JobAttemptsTable;
  deal_invoices: DealInvoicesTable;
  customers: CustomersTable;
  contact_links: ContactLinksTable;
  kv: KvTable;
  deal_notes: DealNotesTable;
  invoice_links: InvoiceLinksTable;
  connections: ConnectionsTable;
  oauth_states: OAuthStatesTable;
  deal_recurring: DealRecurringTable;
  deal_writes: DealWritesTable;
  admin_sessions: AdminSessionsTable;
  relay_processes: RelayProcessesTable;
  leases: LeasesTable;
  rate_budgets: RateBudgetsTable;
  rate_calls: RateCallsTable;
  day_budgets: DayBudgetsTable;
  deal_lost: DealLostTable;
}

/** A relay process on this database, refreshed by its heartbeat. */
export interface RelayProcessesTable {
  id: string;
  host: string;
  pid: number;
  /** 'intake+worker', 'intake' (WORKER_CONCURRENCY=0), or 'cli'. */
  role: string;
  started_at: number;
  seen_at: number;
}

/** A periodic task run by one process at a time: the holder renews before `expires_at`. */
export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: number;
  acquired_at: number;
  last_run_at: number | null;
}

/** One API limit shared by every process: `max_calls` in any `window_ms`, counted from each call's answer. */
export interface RateBudgetsTable {
  name: string;
  max_calls: number;
  window_ms: number;
  /** A 429 said "not before": every process waits until then. */
  paused_until: Generated<number>;
}

/** An API day quota shared by every process: calls counted in `day` (a date in the quota's time zone). */
export interface DayBudgetsTable {
  name: string;
  /** YYYY-MM-DD in the quota's time zone: a take on another day starts the count afresh. */
  day: string;
  used: number;
  /** The limit the processes count against; null: only counted (no limit set). */
  max_calls: number | null;
  /** When `day` ends (epoch ms): the next day's count starts then. */
  resets_at: number;
  /** The server said the quota is used up: no call before then (epoch ms). */
  paused_until: Generated<number>;
}

/** A call's place in its budget's window: `answered_at` null while the call is on its way. */
export interface RateCallsTable {
  id: Generated<number>;
  budget: string;
  holder: string;
  started_at: number;
  answered_at: number | null;
}

/** A browser's admin login: the cookie holds a random ID, the store only its HMAC under ADMIN_TOKEN. */
export interface AdminSessionsTable {
  id_hash: string;
  expires_at: number;
  created_at: number;
}

export interface DealRecurringTable {
  deal_id: string;
  state: 'creating' | 'active' | 'stopped';
  name: string;
  customer_id: string | null;
  recurrence_id: string | null;
  created_at: number;
  updated_at: number;
}

/** What `invoice.onLost` did with a lost deal's invoice (sync/lost-deal.ts). `state` 'voiding' / 'deleting' is the intent,
 *  written before the call, so a retry after a lost answer reads the invoice before acting again. */
export type DealLostAction = 'noted' | 'voided' | 'deleted' | 'kept_partly_paid' | 'kept_paid' | 'already_void' | 'no_invoice';
export interface DealLostTable {
  deal_id: string;
  invoice_id: string | null;
  invoice_number: string | null;
  state: 'voiding' | 'deleting' | 'done';
  action: DealLostAction | null;
  /** One line for a person: what was done and why. */
  detail: string | null;
  /** 1: an invoice still open, shown on /admin until the deal leaves the lost stage or the invoice is settled. */
  attention: number;
  /** 1: the deal's recurring invoice was stopped because the deal was lost. */
  recurring_stopped: number;
  lost_at: number;
  updated_at: number;
}
