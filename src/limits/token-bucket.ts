/**
 * Per-key token buckets in this process's memory: `perMinute` tokens a minute,
 * at most `burst` saved up. With several nodes each keeps its own buckets, so
 * the effective rate is up to the number of nodes times the configured one.
 */
export class RateLimiter {
  private readonly perMs: number;
  private readonly burst: number;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly maxKeys: number;

  constructor(perMinute: number, burst: number, maxKeys = 100_000) {
    this.perMs = perMinute / 60_000;
    this.burst = Math.max(1, burst);
    this.maxKeys = maxKeys;
  }

  /** Takes one token for `key`: 0 if there was one, else the seconds until there is (for Retry-After). */
  take(key: string, now: number = Date.now()): number {
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    bucket.tokens = Math.min(this.burst, bucket.tokens + Math.max(0, now - bucket.at) * this.perMs);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.remember(key, bucket, now);
      return 0;
    }
    this.remember(key, bucket, now);
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }

  /** Like take, but consumes nothing: 0 if a token is there, else the seconds until there is one. */
  peek(key: string, now: number = Date.now()): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return 0;
    const tokens = Math.min(this.burst, bucket.tokens + Math.max(0, now - bucket.at) * this.perMs);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000));
  }

  private remember(key: string, bucket: { tokens: number; at: number }, now: number): void {
    if (!this.buckets.has(key) && this.buckets.size >= this.maxKeys) this.prune(now);
    this.buckets.set(key, bucket);
  }

  /** Forgets buckets that have filled up again (they equal a new one); if none has, the oldest half. */
  private prune(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs >= this.burst) this.buckets.delete(key);
    }
    if (this.buckets.size < this.maxKeys) return;
    let n = Math.floor(this.buckets.size / 2);
    for (const key of this.buckets.keys()) {
      if (n-- <= 0) break;
      this.buckets.delete(key);
    }
  }
}

/** At most `limit` at once per key, in this process (blocking WAITs). */
export class ConcurrencyLimiter {
  private readonly limit: number;
  private readonly counts = new Map<string, number>();

  constructor(limit: number) {
    this.limit = limit;
  }

  /** A release function if a slot was free, else null. Releasing twice is harmless. */
  acquire(key: string): (() => void) | null {
    const n = this.counts.get(key) ?? 0;
    if (n >= this.limit) return null;
    this.counts.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.counts.get(key) ?? 1) - 1;
      if (left <= 0) this.counts.delete(key);
      else this.counts.set(key, left);
    };
  }

  /** How many are held for `key` now (for tests and metrics). */
  held(key: string): number {
    return this.counts.get(key) ?? 0;
  }
}
