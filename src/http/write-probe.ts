// /readyz must say "not ready" when the intake could not store a webhook: a database that answers reads
// but refuses writes (disk full, a read-only file or mount, a read-only PostgreSQL replica). The probe is
// a real write — one tiny upsert of a kv row — cached briefly, so /readyz polled in a loop (or by anyone:
// it needs no token) costs at most one write per interval.
import { KeyValue } from '../store/kv.js';
import type { Db } from '../store/db.js';

const PROBE_KEY = 'readyz:write_probe';

export class WriteProbe {
  private last: { at: number; problem: string | undefined } | undefined;
  private inflight: Promise<string | undefined> | undefined;
  private readonly kv: KeyValue;

  constructor(
    db: Db,
    private readonly cacheMs = 1500,
    private readonly now: () => number = Date.now,
  ) {
    this.kv = new KeyValue(db);
  }

  /** Why the database cannot be written right now, or undefined when it can. */
  async problem(): Promise<string | undefined> {
    if (this.last && this.now() - this.last.at < this.cacheMs) return this.last.problem;
    this.inflight ??= this.kv
      .set(PROBE_KEY, this.now())
      .then(
        () => undefined,
        (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 300),
      )
      .then((problem) => {
        this.last = { at: this.now(), problem };
        this.inflight = undefined;
        return problem;
      });
    return this.inflight;
  }
}
