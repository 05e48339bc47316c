import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

/**
 * A small text file (passwords, tokens, keys) parsed once at start and again
 * when it changes, so that an operator can add a user without a restart. The
 * file is looked at no more often than every `checkMs`. A change that does
 * not parse keeps the previous content: a typo must not lock everyone out.
 */
export class WatchedFile<T> {
  readonly path: string;
  private readonly parse: (text: string) => T;
  private readonly checkMs: number;
  private current: T;
  private mtimeMs: number;
  private size: number;
  private checkedAt = 0;
  private checking: Promise<void> | null = null;
  /** Why the last change was not taken, for the operator (null when it was). */
  lastError: string | null = null;

  /** Reads and parses the file now; throws (a start-up error) if it is missing or does not parse. */
  constructor(path: string, parse: (text: string) => T, checkMs = 5000) {
    this.path = path;
    this.parse = parse;
    this.checkMs = checkMs;
    const st = statSync(path);
    this.current = parse(readFileSync(path, 'utf8'));
    this.mtimeMs = st.mtimeMs;
    this.size = st.size;
  }

  /** The content, re-read first if the file changed since it was last looked at. */
  async value(now: number = Date.now()): Promise<T> {
    if (now - this.checkedAt >= this.checkMs) {
      this.checkedAt = now;
      this.checking ??= this.reload().finally(() => {
        this.checking = null;
      });
    }
    if (this.checking) await this.checking;
    return this.current;
  }

  private async reload(): Promise<void> {
    try {
      const st = await stat(this.path);
      if (st.mtimeMs === this.mtimeMs && st.size === this.size) return;
      const parsed = this.parse(await readFile(this.path, 'utf8'));
      this.current = parsed;
      this.mtimeMs = st.mtimeMs;
      this.size = st.size;
      this.lastError = null;
    } catch (err) {
      this.lastError = err instanceof Error ? err.message : String(err);
    }
  }
}
