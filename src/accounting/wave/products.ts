// Every line of a Wave invoice needs a product (no free-text lines). The relay keeps one Wave product per
// kind of line — per Kommo product, per field option, one for the deal amount (InvoiceDraft.lineSources) —
// found or created once and remembered: in memory, and in the store (deps.kv) per business, so a restart or
// another relay on the same database reuses it. Before creating, the business's products are read and one of
// the same name is adopted: a create whose answer was lost is found that way, not made twice. Creations are
// single-flight per product in the process.
import { createHash } from 'node:crypto';
import type { InvoiceLine } from '../../sync/ports.js';
import type { WaveClient } from './client.js';
import type { WaveProduct } from './documents.js';

export interface ProductStore {
  get<T>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<unknown>;
}

interface Remembered {
  id: string;
  name: string;
}

/** Wave's product names: the line's name, trimmed and capped. */
const MAX_NAME = 255;
/** The one product of deal-amount lines (the deal's name goes into the line's description). */
export const DEAL_PRODUCT_NAME = 'Kommo deal';

export class WaveProducts {
  private readonly memory = new Map<string, Remembered>();
  private readonly inflight = new Map<string, Promise<Remembered>>();
  /** Products created by this process (for its tests and logs). */
  created = 0;

  constructor(
    private readonly client: WaveClient,
    private readonly store: ProductStore,
  ) {}

  /**
   * The product of a line: the one named by `itemId` (a Wave product matched by name in the reference data),
   * else the one remembered for its source, else one of the same name in Wave, else a new one.
   */
  async forLine(line: InvoiceLine, source: string | undefined, incomeAccountId: string): Promise<{ productId: string; deal: boolean }> {
    if (line.itemId) return { productId: line.itemId, deal: false };
    const deal = source === 'deal';
    const name = (deal ? DEAL_PRODUCT_NAME : line.name.trim() || DEAL_PRODUCT_NAME).slice(0, MAX_NAME);
    const key = this.key(source ?? `name:${name.toLowerCase()}`);
    const known = this.memory.get(key) ?? (await this.store.get<Remembered>(key));
    if (known) {
      this.memory.set(key, known);
      return { productId: known.id, deal };
    }
    let pending = this.inflight.get(key);
    if (!pending) {
      // The deal-amount product is shared by every deal: its own price means nothing (each line carries one).
      pending = this.findOrCreate(key, name, deal ? 0 : line.rate, incomeAccountId).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return { productId: (await pending).id, deal };
  }

  /** Forgets what is remembered in memory (the business changed). */
  reset(): void {
    this.memory.clear();
  }

  private async findOrCreate(key: string, name: string, rate: number, incomeAccountId: string): Promise<Remembered> {
    const wanted = normal(name);
    const existing = (await this.client.products()).find((p: WaveProduct) => normal(p.name) === wanted && !p.isArchived && p.isSold);
    const product = existing ?? (await this.client.createProduct({ name, unitPrice: decimal(rate), incomeAccountId }));
    if (!existing) this.created++;
    const remembered = { id: product.id, name: product.name };
    await this.store.set(key, remembered);
    this.memory.set(key, remembered);
    return remembered;
  }

  /** Per business: another business has other products. */
  private key(source: string): string {
    const digest = createHash('sha256').update(source).digest('hex').slice(0, 32);
    return `wave:product:${this.client.business()}:${digest}`;
  }
}

/** Names compared as a person reads them: case and runs of spaces ignored. */
export const normal = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();

/** A Decimal as Wave takes it: a string, without float noise. */
export function decimal(n: number, minDigits = 2, maxDigits = 8): string {
  if (!Number.isFinite(n)) throw new Error(`not a number: ${n}`);
  let text = n.toFixed(maxDigits);
  const point = text.indexOf('.');
  while (text.length - point - 1 > minDigits && text.endsWith('0')) text = text.slice(0, -1);
  return minDigits === 0 && text.endsWith('.') ? text.slice(0, -1) : text;
}
