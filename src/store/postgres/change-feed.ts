import pg from 'pg';
import type { Phase } from '../../core/phases.js';
import type { JobChange } from '../types.js';
import type { StoreNames } from './names.js';
import { fixedStatements } from './statements.js';

export interface StoreLog {
  warn(obj: object, msg: string): void;
}

export interface ChangeFeedOptions {
  readonly names: StoreNames;
  /** How to open the dedicated LISTEN connection (never a pooled one: it must stay put). */
  readonly connection: pg.ClientConfig;
  readonly deliver: (change: JobChange) => void;
  /** Called after a reconnect, once the replay of possibly missed changes has been delivered. */
  readonly resynced: () => void;
  readonly log: StoreLog;
  /** How often the connection is checked (and the replay point moved forward). */
  readonly pingMs: number;
  /** How far before the last good check the replay starts (covers commits in flight). */
  readonly replayMarginMs: number;
  /** Longest wait between reconnect attempts. */
  readonly maxBackoffMs: number;
  /** How long deletions are remembered for replays. */
  readonly deletionRetentionMs: number;
}

const REPLAY_PAGE = 1000;

/**
 * Job changes from every node, through LISTEN on one dedicated connection.
 *
 * Losing the connection (database restart, pg_terminate_backend, network) loses the
 * notifications sent meanwhile, so on reconnect the feed replays: after LISTEN is
 * active again, it announces (as 'updated') every job whose changed_at is at or after
 * the last moment the connection was known good, minus a margin for transactions that
 * were in flight, and (as 'deleted') every job deleted since then. A change committed
 * before LISTEN is visible to the replay query; one committed after arrives as a
 * notification; so no wake-up is lost, at the price of some changes arriving twice
 * (listeners re-read the job anyway). After the replay, `resynced` is called.
 */
export class ChangeFeed {
  readonly #o: ChangeFeedOptions;
  readonly #sql: ReturnType<typeof fixedStatements>;
  #client: pg.Client | null = null;
  #stopped = false;
  /** Database time of the last moment the connection was known to be receiving. */
  #lastGood: number | null = null;
  #lastPrune = 0;
  #ping: NodeJS.Timeout | null = null;
  #retry: NodeJS.Timeout | null = null;
  #attempt = 0;
  #connects = 0;

  constructor(options: ChangeFeedOptions) {
    this.#o = options;
    this.#sql = fixedStatements(options.names.s);
  }

  /** Whether the LISTEN connection is up now. */
  get connected(): boolean {
    return this.#client !== null;
  }

  /** How many times LISTEN has been (re)established. */
  get connects(): number {
    return this.#connects;
  }

  /** The backend process id of the LISTEN connection (for tests that cut it). */
  get backendPid(): number | null {
    return (this.#client as unknown as { processID?: number } | null)?.processID ?? null;
  }

  /** The first connection must succeed: a store that cannot listen fails init(). */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#retry) clearTimeout(this.#retry);
    this.#retry = null;
    const client = this.#client;
    this.#drop(client);
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    // keepAlive and a connect timeout: a silent network loss must end in a retry, not a hang.
    const client = new pg.Client({
      connectionTimeoutMillis: 10_000,
      ...this.#o.connection,
      keepAlive: true,
    });
    // Until LISTEN is set up, an error just fails the attempt.
    client.on('error', () => {});
    await client.connect();
    try {
      client.on('notification', (message) => {
        if (message.channel !== this.#o.names.channel || message.payload === undefined) return;
        const change = parsePayload(message.payload);
        if (change) this.#o.deliver(change);
      });
      await client.query(`LISTEN "${this.#o.names.channel}"`);
      const now = await this.#now(client);
      const since = this.#lastGood === null ? null : this.#lastGood - this.#o.replayMarginMs;
      if (this.#stopped) throw new Error('change feed stopped while connecting');
      this.#client = client;
      client.removeAllListeners('error');
      client.on('error', (err) => this.#lost(client, err));
      client.on('end', () => this.#lost(client, new Error('connection ended')));
      // The replay point moves only once the replay is done: if the connection drops
      // half way, the next replay starts from the same point again.
      if (since !== null) await this.#replay(client, since);
      this.#lastGood = now;
      this.#connects += 1;
      this.#attempt = 0;
      this.#ping = setInterval(() => void this.#check(client), this.#o.pingMs);
      this.#ping.unref();
    } catch (err) {
      if (this.#client === client) this.#drop(client);
      await client.end().catch(() => {});
      throw err;
    }
  }

  async #now(client: pg.Client): Promise<number> {
    const result = await client.query<{ now: string | number }>(this.#sql.now);
    return Number(result.rows[0]!.now);
  }

  /** Moves the replay point forward; a check that fails or hangs drops the connection. */
  async #check(client: pg.Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('LISTEN connection check timed out')), this.#o.pingMs);
    });
    try {
      const now = await Promise.race([this.#now(client), hung]);
      if (this.#client === client) this.#lastGood = now;
      if (now - this.#lastPrune > Math.min(3_600_000, this.#o.deletionRetentionMs)) {
        this.#lastPrune = now;
        await client.query(this.#sql.pruneDeleted, [this.#o.deletionRetentionMs]);
      }
    } catch (err) {
      this.#lost(client, err as Error);
    } finally {
      clearTimeout(timer);
    }
  }

  async #replay(client: pg.Client, since: number): Promise<void> {
    let after: [number, string] = [since - 1, '\uffff'];
    for (;;) {
      const page = await client.query<{ job_id: string; phase: Phase; version: number; changed_at: string }>(
        this.#sql.changedSince,
        [after[0], after[1], REPLAY_PAGE],
      );
      for (const row of page.rows) {
        this.#o.deliver({ jobId: row.job_id, phase: row.phase, version: row.version, kind: 'updated' });
      }
      if (page.rows.length < REPLAY_PAGE) break;
      const tail = page.rows[page.rows.length - 1]!;
      after = [Number(tail.changed_at), tail.job_id];
    }
    const deleted = await client.query<{ job_id: string; version: number }>(this.#sql.deletedSince, [since]);
    for (const row of deleted.rows) {
      this.#o.deliver({ jobId: row.job_id, phase: null, version: row.version, kind: 'deleted' });
    }
    this.#o.resynced();
  }

  #lost(client: pg.Client, err: Error): void {
    if (this.#client !== client) return;
    this.#drop(client);
    void client.end().catch(() => {});
    if (this.#stopped) return;
    this.#o.log.warn({ err: err.message }, 'job change feed: LISTEN connection lost; reconnecting');
    this.#scheduleReconnect();
  }

  #drop(client: pg.Client | null): void {
    if (this.#ping) clearInterval(this.#ping);
    this.#ping = null;
    if (client && this.#client === client) this.#client = null;
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#retry) return;
    // Exponential backoff with jitter, so nodes do not reconnect in lockstep after a restart.
    const base = Math.min(this.#o.maxBackoffMs, 100 * 2 ** Math.min(this.#attempt, 16));
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.#attempt += 1;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      if (this.#stopped) return;
      const attempts = this.#attempt;
      this.#connect().then(
        () => this.#o.log.warn({ attempts }, 'job change feed: reconnected and replayed'),
        (err: Error) => {
          if (this.#stopped) return;
          if (this.#attempt === 1 || this.#attempt % 10 === 0) {
            this.#o.log.warn(
              { err: err.message, attempt: this.#attempt },
              'job change feed: reconnect failed',
            );
          }
          this.#scheduleReconnect();
        },
      );
    }, delay);
    this.#retry.unref();
  }
}

const KINDS = new Set(['created', 'updated', 'deleted']);

/** '<jobId> <phase> <version> <kind>', read from the right so a job id may hold spaces. */
export function parsePayload(payload: string): JobChange | null {
  const parts = payload.split(' ');
  if (parts.length < 4) return null;
  const kind = parts.pop()!;
  const version = Number(parts.pop());
  const phase = parts.pop()!;
  const jobId = parts.join(' ');
  if (!KINDS.has(kind) || !Number.isInteger(version) || jobId === '') return null;
  return {
    jobId,
    phase: phase === '-' ? null : (phase as Phase),
    version,
    kind: kind as JobChange['kind'],
  };
}
