// This process among the relays on one database: its heartbeat row, the leases of the periodic tasks that
// run in one process at a time, and (PostgreSQL) the NOTIFY wake-ups of other processes' workers.
import type { DatabaseTarget } from '../config/env.js';
import type { Logger } from '../log.js';
import type { Store } from '../store/db.js';
import { Leases } from '../store/leases.js';
import { newProcessId, ProcessHeartbeat } from '../store/processes.js';
import type { JobQueue } from './queue.js';
import { Singletons } from './singleton.js';
import { JobWakeups } from './wakeups.js';

/** How often each process says it is alive; /readyz and `relay status` list those seen within 3 beats. */
export const HEARTBEAT_MS = 5000;
export const SEEN_WITHIN_MS = 3 * HEARTBEAT_MS;

export interface ClusterOptions {
  store: Store;
  target: DatabaseTarget;
  queue: JobQueue;
  /** 'intake+worker', or 'intake' for WORKER_CONCURRENCY=0. */
  role: string;
  leaseMs: number;
  log: Logger;
}

export interface Cluster {
  id: string;
  singletons: Singletons;
  stop(): Promise<void>;
}

export async function joinCluster(o: ClusterOptions): Promise<Cluster> {
  const id = newProcessId();
  const log = o.log.child({ component: 'cluster' });
  const heartbeat = new ProcessHeartbeat(o.store.db, id, o.role);
  await heartbeat.start(HEARTBEAT_MS, (err) => log.warn({ err }, 'heartbeat failed'));
  const singletons = new Singletons(new Leases(o.store.db, id), o.leaseMs, log);
  const wakeups = o.target.dialect === 'postgres' ? await JobWakeups.start(o.target.location, id, o.queue, log) : undefined;
  log.info({ process: id, role: o.role }, 'joined the relays on this database');
  return {
    id,
    singletons,
    stop: async () => {
      await singletons.stopAll();
      await wakeups?.stop();
      await heartbeat.stop().catch(() => undefined);
    },
  };
}
