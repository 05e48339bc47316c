import type { JobStore } from '../store/types.js';
import type { SchedulerLogger } from './scheduler.js';

export interface ReaperOptions {
  readonly store: JobStore;
  /** Destroys (or archives) one job whose destruction time has come. */
  readonly expire: (jobId: string) => Promise<unknown>;
  /** Working directories on disk, with their last change, for the orphan cleaner. */
  readonly listDirectories?: () => Promise<{ jobId: string; mtimeMs: number }[]>;
  readonly removeDirectory?: (jobId: string) => Promise<void>;
  /** Backstop sweep period; the timer for the next due job fires sooner when one is due. */
  readonly sweepMs?: number;
  /** A directory younger than this is never taken for an orphan (it may belong to a job being created). */
  readonly orphanGraceMs?: number;
  readonly now?: () => number;
  readonly log?: SchedulerLogger;
}

const NOOP_LOG: SchedulerLogger = { info() {}, warn() {}, error() {} };
// setTimeout cannot wait longer than this.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Destroys jobs at their destruction time (OBJ-22): a timer for the next due job,
 * a periodic sweep as a backstop, and a cleaner for working directories that no
 * job owns any more.
 */
export class Reaper {
  private readonly options: ReaperOptions;
  private readonly now: () => number;
  private readonly log: SchedulerLogger;
  private readonly sweepMs: number;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Number.POSITIVE_INFINITY;
  private sweeping: Promise<void> | null = null;
  private stopped = true;

  constructor(options: ReaperOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.log = options.log ?? NOOP_LOG;
    this.sweepMs = options.sweepMs ?? 300_000;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.arm(this.now());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.sweeping;
  }

  /** Tells the reaper that some job is now due at `destruction`, so it wakes in time. */
  noteDestruction(destruction: number | null): void {
    if (this.stopped || destruction === null || destruction >= this.timerDue) return;
    this.arm(destruction);
  }

  /** One pass: destroys every due job; returns how many. */
  async sweep(): Promise<number> {
    let destroyed = 0;
    for (;;) {
      const due = await this.options.store.dueForDestruction(this.now(), 200);
      if (due.length === 0) return destroyed;
      for (const { jobId } of due) {
        try {
          await this.options.expire(jobId);
          destroyed++;
        } catch (err) {
          this.log.error({ err, jobId }, 'destroying an expired job failed; it will be retried');
          return destroyed;
        }
      }
    }
  }

  /** Removes working directories of jobs the store no longer has; returns their ids. */
  async cleanOrphans(): Promise<string[]> {
    const { listDirectories, removeDirectory } = this.options;
    if (!listDirectories || !removeDirectory) return [];
    const grace = this.options.orphanGraceMs ?? 3_600_000;
    const cutoff = this.now() - grace;
    const candidates = (await listDirectories()).filter((d) => d.mtimeMs < cutoff);
    const removed: string[] = [];
    for (const dir of candidates) {
      if (await this.options.store.get(dir.jobId)) continue;
      await removeDirectory(dir.jobId);
      removed.push(dir.jobId);
    }
    if (removed.length > 0) this.log.info({ count: removed.length }, 'removed orphaned working directories');
    return removed;
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.min(Math.max(0, at - this.now()), this.sweepMs, MAX_TIMER_MS);
    this.timerDue = this.now() + delay;
    this.timer = setTimeout(() => void this.tick(), delay);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = null;
    this.timerDue = Number.POSITIVE_INFINITY;
    if (this.stopped) return;
    const run = (async () => {
      try {
        await this.sweep();
        await this.cleanOrphans();
      } catch (err) {
        this.log.error({ err }, 'destruction sweep failed');
      }
    })();
    this.sweeping = run;
    await run;
    this.sweeping = null;
    if (this.stopped) return;
    const next = await this.options.store.nextDestruction().catch(() => null);
    this.arm(next ?? this.now() + this.sweepMs);
  }
}
