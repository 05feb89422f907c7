// The accounting side's reference data (currencies, taxes, items) with the mapping's tax rules resolved
// against it. Loaded at start-up — a tax rule that matches nothing stops the relay there — then refreshed
// now and then (exchange rates and items change). If the accounting side cannot be reached, the last
// copy kept in the store is used; with none, invoice jobs wait (retryable) until it can be loaded.
import { ConfigError } from '../config/env.js';
import type { Mapping } from '../config/mapping.js';
import { resolveTaxRules } from '../config/resolve-taxes.js';
import { RelayError, retryable } from '../errors.js';
import type { Logger } from '../log.js';
import type { KeyValue } from '../store/kv.js';
import type { DraftSettings } from './invoice-draft.js';
import type { AccountingPort, AccountingReference } from './ports.js';

const CACHE_KEY = 'accounting:reference';

export class BillingSettings {
  private current: DraftSettings | undefined;
  private loading: Promise<DraftSettings> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly accounting: AccountingPort,
    private readonly tax: Mapping['tax'],
    private readonly kv: KeyValue,
    private readonly log: Logger,
    private readonly accountCurrency?: string,
  ) {}

  /** Start-up: load, or fall back to the stored copy; a bad tax rule is a ConfigError either way. */
  async init(): Promise<void> {
    try {
      await this.load();
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      const cached = await this.kv.get<AccountingReference>(CACHE_KEY);
      if (cached) {
        this.current = this.resolve(cached);
        this.log.warn({ reason: (err as Error).message }, 'accounting reference data unavailable: using the stored copy');
      } else {
        this.log.warn({ reason: (err as Error).message }, 'accounting reference data unavailable: invoices wait until it can be loaded');
      }
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

  startRefresh(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.load().catch((err: unknown) => this.log.warn({ reason: (err as Error).message }, 'refreshing accounting reference data failed; keeping the previous copy'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private load(): Promise<DraftSettings> {
    this.loading ??= (async () => {
      const reference = await this.accounting.reference({ exemptions: needsExemptions(this.tax) });
      const settings = this.resolve(reference);
      await this.kv.set(CACHE_KEY, reference);
      this.current = settings;
      return settings;
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private resolve(reference: AccountingReference): DraftSettings {
    return { reference, taxRules: resolveTaxRules(this.tax, reference), ...(this.accountCurrency ? { accountCurrency: this.accountCurrency } : {}) };
  }
}

function needsExemptions(tax: Mapping['tax']): boolean {
  return Object.values(tax.rules).some((r) => typeof r === 'object' && 'exemption' in r);
}

