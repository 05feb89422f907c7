// The accounting side's reference data (currencies, taxes, items) with the mapping's tax rules resolved
// against it, kept in the store per organization. At start-up the stored copy is used at once and
// refreshed in the background, so a restart calls nothing before it listens; only a first start (or a
// new organization, or tax rules the copy does not match) waits for the accounting side. A tax rule that
// matches nothing in fresh data stops the relay there; so does an `invoice.payOnline` the organization's
// ways of paying online do not meet (sync/pay-online.ts), read only when the mapping asks for it.
// Refreshed now and then (exchange rates and items change); if the accounting side cannot be reached, the
// stored copy is used; with none, invoice jobs wait (retryable) until it can be loaded. With several relays
// on one database the refresh runs under a lease (jobs/singleton.ts): one process reads the accounting side
// once per interval and stores the copy, the others adopt the stored copy when it changes (a look at one
// row's time, no API call), so the calls do not grow with the number of relays.
import { ConfigError } from '../config/config-error.js';
import type { Mapping } from '../config/mapping.js';
import { RelayError, retryable } from '../errors.js';
import type { Singletons, SingletonTask } from '../jobs/singleton.js';
import type { Logger } from '../log.js';
import type { KeyValue } from '../store/kv.js';
import type { DraftSettings } from './invoice-draft.js';
import type { AccountingPort, AccountingReference } from './ports.js';
import { resolvePayOnline, type PayOnlineAsk } from './pay-online.js';
import { resolveTaxRules } from './tax-rules.js';

const CACHE_KEY = 'accounting:reference';
/** The lease of the periodic refresh (`relay status` names it). */
export const REFERENCE_TASK = 'reference';
/** How often a process that does not hold the lease looks whether the stored copy changed (at most). */
const ADOPT_EVERY_MS = 60_000;

/** What the store keeps: the reference data and the organization it was read from. */
interface Stored {
  organizationId: string | null;
  /** Whether the read asked for the tax exemptions too (only when a rule names one). */
  withExemptions?: boolean;
  /** Whether the read asked for the ways of paying online too (only when invoice.payOnline is set). */
  withPayOnline?: boolean;
  reference: AccountingReference;
}

export class BillingSettings {
  private current: DraftSettings | undefined;
  /** The read in progress, and the organization it reads. */
  private loading: { organizationId: string | null; settings: Promise<DraftSettings> } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private task: SingletonTask | undefined;
  private stopped = false;
  /** When the stored copy this process holds was written (kv.updated_at); another one is adopted. */
  private adoptedAt: number | undefined;

  constructor(
    private readonly accounting: AccountingPort,
    private readonly tax: Mapping['tax'],
    private readonly kv: KeyValue,
    private readonly log: Logger,
    /** The organization the accounting calls go to now, if one is chosen. */
    private readonly organization: () => string | undefined,
    private readonly accountCurrency?: string,
    /** The mapping's invoice.payOnline; absent: the offer is not read and invoices carry nothing of it. */
    private readonly payOnline?: PayOnlineAsk,
  ) {}

  /**
   * Start-up: this organization's stored copy if there is one that the tax rules match (read again in the
   * background), else a read now. A copy the rules do not match (the mapping file names a tax created
   * since) is read again too; a bad tax rule is a ConfigError only when fresh data does not match it either.
   */
  async init(opts: { refreshBehind?: boolean } = {}): Promise<void> {
    this.adoptedAt = await this.kv.updatedAt(CACHE_KEY);
    const stored = await this.stored();
    let settings: DraftSettings | undefined;
    try {
      settings = stored && this.resolve(stored);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
    }
    if (!settings) return this.reload();
    this.current = settings;
    // Under a lease (startRefresh with singletons) the refresh runs when it is due, in one process.
    if (opts.refreshBehind === false) return;
    this.load().catch((err: unknown) => {
      if (this.stopped) return;
      if (err instanceof ConfigError) {
        this.log.error({ problems: err.problems }, 'the tax rules or invoice.payOnline do not match the accounting reference data just read: invoices keep the stored copy until the mapping file is fixed');
      } else {
        this.log.warn({ reason: (err as Error).message }, 'accounting reference data could not be read at start-up: using the stored copy');
      }
    });
  }

  /** Reads the data now (a new connection or organization has other currencies, taxes and items). */
  async reload(): Promise<void> {
    try {
      await this.load();
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      // Never another organization's data: without a copy of this one, invoices wait.
      const stored = await this.stored();
      let settings: DraftSettings | undefined;
      try {
        settings = stored && this.resolve(stored);
      } catch {
        settings = undefined; // rules the copy does not match: wait for fresh data
      }
      this.current = settings;
      this.log.warn(
        { reason: (err as Error).message },
        settings ? 'accounting reference data unavailable: using the stored copy' : 'accounting reference data unavailable: invoices wait until it can be loaded',
      );
    }
  }

  async get(): Promise<DraftSettings> {
    if (this.current) return this.current;
    try {
      return await this.load();
    } catch (err) {
      if (err instanceof RelayError) throw err;
      throw retryable('accounting_settings_unavailable', `Currencies and taxes could not be read from the accounting system: ${(err as Error).message}`);
    }
  }

  /**
   * Reads the data again every `intervalMs`. With `singletons` (the relay), in one process of all those on the
   * database, when due: an interval after the last read by any of them (or after the stored copy was written,
   * when none ran yet); every process adopts the copy the holder stores.
   */
  startRefresh(intervalMs: number, singletons?: Singletons): void {
    if (intervalMs <= 0 || this.timer || this.task) return;
    const refresh = () =>
      this.load().then(
        () => undefined,
        (err: unknown) => this.log.warn({ reason: (err as Error).message }, 'refreshing accounting reference data failed; keeping the previous copy'),
      );
    if (!singletons) {
      this.timer = setInterval(() => void refresh(), intervalMs);
      this.timer.unref();
      return;
    }
    // The first read is due an interval after the stored copy was written (by this process or another).
    const firstDelayMs = this.adoptedAt === undefined ? 0 : Math.max(0, this.adoptedAt + intervalMs - Date.now());
    this.task = singletons.every(REFERENCE_TASK, intervalMs, firstDelayMs, refresh);
    this.timer = setInterval(() => {
      this.adoptStored().catch((err: unknown) => this.log.warn({ reason: (err as Error).message }, 'could not look at the stored accounting reference data'));
    }, Math.min(intervalMs, ADOPT_EVERY_MS));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.task?.stop();
    this.task = undefined;
  }

  /** Another process stored a newer copy (the lease holder's refresh): use it. */
  private async adoptStored(): Promise<void> {
    const at = await this.kv.updatedAt(CACHE_KEY);
    if (at === undefined || at === this.adoptedAt || this.loading) return;
    const stored = await this.stored();
    if (!stored) return; // another organization's, or without the exemptions the rules need: the holder reads again
    try {
      this.current = this.resolve(stored);
      this.adoptedAt = at;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      this.adoptedAt = at;
      this.log.error({ problems: err.problems }, 'the tax rules or invoice.payOnline do not match the accounting reference data another relay stored: invoices keep the previous copy');
    }
  }

  private load(): Promise<DraftSettings> {
    const organizationId = this.organization() ?? null;
    // A read of another organization (the connection changed meanwhile) is not joined.
    if (this.loading?.organizationId === organizationId) return this.loading.settings;
    const exemptions = needsExemptions(this.tax);
    const payOnline = this.payOnline !== undefined;
    const settings = (async () => {
      const reference = await this.accounting.reference(payOnline ? { exemptions, payOnline } : { exemptions });
      if ((this.organization() ?? null) !== organizationId) {
        throw retryable('accounting_settings_unavailable', `The ${this.accounting.names.short} ${this.accounting.names.organization} changed while its currencies and taxes were read; they are read again.`);
      }
      const resolved = this.resolve(reference);
      const stored: Stored = { organizationId, withExemptions: exemptions, ...(payOnline ? { withPayOnline: true } : {}), reference };
      this.adoptedAt = await this.kv.set(CACHE_KEY, stored);
      this.current = resolved;
      return resolved;
    })().finally(() => {
      if (this.loading?.settings === settings) this.loading = undefined;
    });
    this.loading = { organizationId, settings };
    return settings;
  }

  private async stored(): Promise<AccountingReference | undefined> {
    const stored = await this.kv.get<Stored | AccountingReference>(CACHE_KEY);
    // A copy from before the organization was kept with it, or of another organization, is not used; nor
    // one read without tax exemptions when the rules now name one, or without the ways of paying online
    // when invoice.payOnline now asks for them.
    if (!stored || !('reference' in stored) || stored.organizationId === null) return undefined;
    if (needsExemptions(this.tax) && !stored.withExemptions) return undefined;
    if (this.payOnline !== undefined && !stored.withPayOnline) return undefined;
    return stored.organizationId === this.organization() ? stored.reference : undefined;
  }

  private resolve(reference: AccountingReference): DraftSettings {
    const system = this.accounting.names.system;
    // Every problem at once: a bad tax rule and a bad invoice.payOnline are both said.
    const problems: string[] = [];
    const attempt = <T>(resolve: () => T): T | undefined => {
      try {
        return resolve();
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(...err.problems);
        return undefined;
      }
    };
    const taxRules = attempt(() => resolveTaxRules(this.tax, reference, system));
    const payOnline = attempt(() => resolvePayOnline(this.payOnline, reference, system));
    if (problems.length || !taxRules) throw new ConfigError(problems);
    return { system, reference, taxRules, ...(this.accountCurrency ? { accountCurrency: this.accountCurrency } : {}), ...(payOnline ? { payOnline } : {}) };
  }
}

function needsExemptions(tax: Mapping['tax']): boolean {
  return Object.values(tax.rules).some((r) => typeof r === 'object' && 'exemption' in r);
}

