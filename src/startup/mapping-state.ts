// The mapping's stage and field names resolved to Kommo IDs, and when that can happen.
// - Kommo connected at start-up: resolve through the API. While Kommo is unreachable, retry with backoff;
//   if it stays down, use the last resolution of the same mapping file (kept in kv).
// - Kommo not connected (or its connection lost): use that cached resolution when there is one, so a
//   relay whose Kommo token was revoked keeps taking webhooks exactly as before.
// - Not connected and nothing cached: the relay starts anyway ("pending") so /connect can be reached; the
//   mapping is resolved as soon as Kommo is connected (the callback asks, and a timer looks for a
//   connection made by another process). Listeners then start the work that needs the mapping.
import { createHash } from 'node:crypto';
import { ConfigError } from '../config/env.js';
import type { Mapping } from '../config/mapping.js';
import { catalogueNeeds, resolveMapping, type ResolvedMapping } from '../config/resolve-mapping.js';
import { RelayError } from '../errors.js';
import type { KommoClient } from '../kommo/client.js';
import type { KommoAccount } from '../kommo/types.js';
import type { Logger } from '../log.js';
import type { KeyValue } from '../store/kv.js';

export interface MappingResolution {
  mapping: ResolvedMapping;
  account?: KommoAccount;
  /** 'cache': Kommo could not be asked; the last resolution of this same mapping file is used. */
  from: 'kommo' | 'cache';
}

export interface MappingStateDeps {
  file: Mapping;
  kommo: KommoClient;
  kv: KeyValue;
  log: Logger;
  /** Retry budget for reaching Kommo at start-up. */
  attempts: number;
  /** True when Kommo credentials exist (long-lived token, or a stored connection that is not lost). */
  kommoConnected: () => Promise<boolean>;
}

const CACHE_KEY = 'mapping:resolved';
type Cached = { hash: string; mapping: ResolvedMapping; account?: KommoAccount };

export class MappingState {
  current: MappingResolution | undefined;
  private readonly hash: string;
  private readonly listeners: Array<(r: MappingResolution) => void | Promise<void>> = [];
  private timer: NodeJS.Timeout | undefined;
  private resolving: Promise<boolean> | undefined;

  constructor(private readonly deps: MappingStateDeps) {
    this.hash = createHash('sha256').update(JSON.stringify(deps.file)).digest('hex');
  }

  /** Resolves (or falls back) once at start-up; never leaves the relay unable to reach /connect. */
  async atStartup(): Promise<void> {
    if (!(await this.deps.kommoConnected())) {
      await this.fallBack('Kommo is not connected');
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        this.current = await this.resolveThroughKommo();
        return;
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        if (err instanceof RelayError && err.code === 'kommo_not_connected') {
          await this.fallBack(err.message);
          return;
        }
        const retryable = err instanceof RelayError && err.retryable;
        if (retryable && attempt < this.deps.attempts) {
          this.deps.log.warn({ attempt, reason: (err as Error).message }, 'cannot reach Kommo to resolve the mapping; retrying');
          await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
          continue;
        }
        const cached = await this.cached();
        if (retryable && cached) {
          this.deps.log.warn({ reason: (err as Error).message }, 'Kommo unreachable: using the last resolved mapping');
          this.current = cached;
          return;
        }
        throw new ConfigError([`KOMMO_BASE_URL / Kommo credentials: cannot read pipelines and fields from Kommo to resolve the mapping: ${(err as Error).message}`]);
      }
    }
  }

  /** Registers work to start once the mapping is known (at once if it already is). */
  async onResolved(listener: (r: MappingResolution) => void | Promise<void>): Promise<void> {
    this.listeners.push(listener);
    if (this.current) await listener(this.current);
  }

  /** Kommo was just connected: resolve now if still pending. True when a mapping is available. */
  resolveNow(): Promise<boolean> {
    if (this.current) return Promise.resolve(true);
    this.resolving ??= this.tryResolve().finally(() => {
      this.resolving = undefined;
    });
    return this.resolving;
  }

  /** While pending, looks every `intervalMs` for a Kommo connection (another process may make it). */
  watch(intervalMs: number): void {
    if (this.current || this.timer || intervalMs <= 0) return;
    this.timer = setInterval(() => {
      void (async () => {
        if (this.current) return this.stop();
        if (await this.deps.kommoConnected().catch(() => false)) await this.resolveNow();
      })();
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async tryResolve(): Promise<boolean> {
    try {
      this.current = await this.resolveThroughKommo();
    } catch (err) {
      this.deps.log.error({ reason: (err as Error).message }, 'cannot resolve the mapping through Kommo yet');
      return false;
    }
    this.stop();
    this.deps.log.info({ stages: this.current.mapping.invoiceStages.map((s) => s.label) }, 'mapping resolved through Kommo');
    for (const listener of this.listeners) {
      try {
        await listener(this.current);
      } catch (err) {
        // e.g. a tax rule of the mapping that matches nothing in the accounting system: the same error would stop a start-up.
        this.deps.log.error({ err, problems: (err as ConfigError).problems }, 'the mapping is resolved, but starting the work that needs it failed: fix the configuration and restart');
      }
    }
    return true;
  }

  private async resolveThroughKommo(): Promise<MappingResolution> {
    const { kommo, file } = this.deps;
    const needs = catalogueNeeds(file);
    const [account, pipelines, leadFields] = [await kommo.getAccount(), await kommo.getPipelines(), await kommo.getCustomFields('leads')];
    const contactFields = needs.contact ? await kommo.getCustomFields('contacts') : undefined;
    const companyFields = needs.company ? await kommo.getCustomFields('companies') : undefined;
    const productsCatalog = needs.products ? (await kommo.catalogs()).find((c) => c.type === 'products') : undefined;
    const productFields = productsCatalog ? await kommo.catalogFields(productsCatalog.id) : undefined;
    const mapping = resolveMapping(file, { pipelines, leadFields, contactFields, companyFields, productFields });
    await this.deps.kv.set(CACHE_KEY, { hash: this.hash, mapping, account } satisfies Cached);
    return { mapping, account, from: 'kommo' };
  }

  private async cached(): Promise<MappingResolution | undefined> {
    const cached = await this.deps.kv.get<Cached>(CACHE_KEY);
    return cached?.hash === this.hash ? { mapping: cached.mapping, ...(cached.account ? { account: cached.account } : {}), from: 'cache' } : undefined;
  }

  private async fallBack(reason: string): Promise<void> {
    this.current = await this.cached();
    if (this.current) {
      this.deps.log.warn({ reason }, 'Kommo cannot be asked: using the last resolution of this mapping file');
    } else {
      this.deps.log.warn({ reason }, 'the mapping will be resolved once Kommo is connected; Kommo webhooks are stored meanwhile and processed then');
    }
  }
}
