import type { JobChange } from '../types.js';

interface Floor {
  readonly version: number;
  readonly deleted: boolean;
  readonly at: number;
}

/**
 * Keeps watch() in step per job: the newest version of each job this store has
 * passed on, so that nothing older or equal is passed on again.
 *
 * The store announces its own changes itself, at once (as SQLite does), and the
 * NOTIFY echo of each then arrives with a version already seen: it is dropped, so
 * own changes come once, in order, with no round trip. NOTIFY is asynchronous, so a
 * node may also claim a job (version 2) before the job's 'created QUEUED'
 * (version 1) from another node reaches it; a listener that believed that stale
 * change would think the job had been queued again under its feet. It is dropped
 * too. After a deletion only a new 'created' passes (an id may be used again).
 * Entries are forgotten after `ttlMs`: echoes and stale notifications trail by
 * milliseconds, and the map must not grow with every job ever seen (a replay after a
 * long outage may then repeat changes, which listeners tolerate).
 */
export class VersionFloor {
  readonly #ttlMs: number;
  readonly #floors = new Map<string, Floor>();
  #nextSweep = 0;

  constructor(ttlMs = 60_000) {
    this.#ttlMs = ttlMs;
  }

  /** Whether a change may be passed on; if so, it becomes the job's floor. */
  admit(change: JobChange, now = Date.now()): boolean {
    this.#sweep(now);
    const floor = this.#floors.get(change.jobId);
    if (floor && now - floor.at <= this.#ttlMs && !newer(change, floor)) return false;
    this.#floors.set(change.jobId, { version: change.version, deleted: change.kind === 'deleted', at: now });
    return true;
  }

  get size(): number {
    return this.#floors.size;
  }

  #sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + this.#ttlMs;
    for (const [jobId, floor] of this.#floors) {
      if (now - floor.at > this.#ttlMs) this.#floors.delete(jobId);
    }
  }
}

function newer(change: JobChange, floor: Floor): boolean {
  if (floor.deleted) return change.kind === 'created';
  if (change.kind === 'deleted') return change.version >= floor.version;
  return change.version > floor.version;
}
