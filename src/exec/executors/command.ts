import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { BadRequestError } from '../../core/errors.js';
import type { ParameterValue } from '../../core/parameters.js';
import { isPlainFileName } from '../../results/file-names.js';
import { canAdoptFiles } from '../../results/result-files.js';
import { openNoFollow } from '../../results/workdirs.js';
import type { ExecutionContext, ExecutionOutcome, Executor, ResultWriter } from '../types.js';
import { abortedOutcome, COMPLETED, errorOutcome } from './outcomes.js';
import { stopProcessGroup } from './process-group.js';

export interface CommandExecutorOptions {
  /**
   * The program and its arguments. `${NAME}` inside an element is replaced by
   * the value of parameter NAME (matched exactly, else case-insensitively), or by
   * `${WORKDIR}`, `${OUTDIR}`, `${JOBID}`. Each element stays one argument: no
   * shell ever sees it. An element that is exactly `${NAME}` of a multi-valued
   * parameter becomes one argument per value; elsewhere several values are
   * joined with newlines. A parameter without a value gives ''. File and upload
   * parameters give the path of their file in the working directory (an upload
   * as `table,path`).
   */
  readonly command: readonly string[];
  /** Extra environment variables; values are templates like the arguments. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Pass the server's whole environment on. Default false: only PATH, HOME,
   * LANG, LC_ALL, LC_CTYPE, TZ and TMPDIR, so the server's secrets stay with it.
   */
  readonly inheritEnv?: boolean;
  /** Media types of out/ files by whole file name or by extension (no dot); added to the defaults. */
  readonly resultMediaTypes?: Readonly<Record<string, string>>;
  /** Time between SIGTERM and SIGKILL when the job is aborted. Default 5000 ms. */
  readonly gracePeriodMs?: number;
  /** Id of the result holding stdout and stderr. Default `log`. */
  readonly logResultId?: string;
  /** The log keeps at most this many bytes; the rest is dropped with a note. Default 16 MiB. */
  readonly maxLogBytes?: number;
  /** Told the pid (also the process group id) of every process started. */
  readonly onSpawn?: (pid: number) => void;
}

export const DEFAULT_GRACE_PERIOD_MS = 5_000;
export const DEFAULT_MAX_LOG_BYTES = 16 * 1024 * 1024;
/** The folder in the working directory whose files become results. */
export const OUT_DIR = 'out';

const DEFAULT_MEDIA_TYPES: Readonly<Record<string, string>> = {
  txt: 'text/plain',
  log: 'text/plain',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  json: 'application/json',
  xml: 'application/xml',
  vot: 'application/x-votable+xml',
  votable: 'application/x-votable+xml',
  fits: 'application/fits',
  fit: 'application/fits',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  html: 'text/html',
  pdf: 'application/pdf',
  gz: 'application/gzip',
  zip: 'application/zip',
  tar: 'application/x-tar',
};
const OCTET_STREAM = 'application/octet-stream';
const PASSED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR'];
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}/g;
const WHOLE_PLACEHOLDER = /^\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}$/;
/** How much of the log's end is kept for /error. */
const TAIL_BYTES = 8 * 1024;
const STDERR_LINES_IN_MESSAGE = 3;
/** After the process group is gone, how long its pipes may take to close (a daemon may hold them). */
const PIPE_CLOSE_WAIT_MS = 1_000;

/**
 * Runs a command per job, as the seed's process-based jobs: parameters become
 * arguments and UWS_PARAM_<NAME> variables, the working directory is the cwd,
 * files left in `out/` become results, stdout and stderr become the `log`
 * result, and the exit code decides between completed and error. Each run gets
 * its own process group, so an abort (SIGTERM, grace period, SIGKILL) reaches
 * every process the command started, and the run ends only when all are gone.
 */
export function commandExecutor(options: CommandExecutorOptions): Executor {
  const program = options.command[0];
  if (!program) throw new Error('commandExecutor: command must name a program');
  const grace = options.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS;
  const logId = options.logResultId ?? 'log';
  if (!isPlainFileName(logId))
    throw new Error(`commandExecutor: log result id '${logId}' is not a plain name`);
  const mediaTypes = { ...DEFAULT_MEDIA_TYPES, ...options.resultMediaTypes };

  return {
    kind: 'command',
    async execute(context: ExecutionContext): Promise<ExecutionOutcome> {
      const { signal } = context;
      if (signal.aborted) return abortedOutcome(signal);
      const outDir = path.join(context.workDir, OUT_DIR);
      let argv: string[];
      let env: Record<string, string>;
      try {
        const expander = new TemplateExpander(context, outDir);
        argv = expander.argv(options.command);
        env = expander.env(options.env ?? {}, options.inheritEnv ?? false);
        await fs.mkdir(outDir, { recursive: true, mode: 0o700 });
      } catch (e) {
        return errorOutcome(message(e));
      }

      const log = new CommandLog(options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES);
      const logWritten = context.results.write(logId, log.stream, 'text/plain').catch((e: unknown) => {
        context.log(`the log result could not be written: ${message(e)}`);
      });
      const run = await runProcess(argv, env, context, log, grace, options.onSpawn);
      log.stream.end();
      await logWritten;
      await collectOutFiles(context, outDir, mediaTypes, logId);

      if (run.kind === 'not-started') {
        return errorOutcome(`command ${argv[0]} could not be started: ${run.reason}`);
      }
      if (!run.gone) context.log(`process group ${run.pid} did not end even after SIGKILL`);
      if (run.aborted) return abortedOutcome(signal);
      if (run.code === 0) return COMPLETED;
      const stderr = log.lastStderrLines(STDERR_LINES_IN_MESSAGE);
      const what =
        run.code !== null
          ? `command exited with code ${run.code}`
          : `command was killed by signal ${run.signal}`;
      return errorOutcome(stderr ? `${what}: ${stderr}` : what, log.tail());
    },
  };
}

type RunEnd =
  | { kind: 'not-started'; reason: string }
  | {
      kind: 'ended';
      pid: number;
      code: number | null;
      signal: NodeJS.Signals | null;
      aborted: boolean;
      gone: boolean;
    };

async function runProcess(
  argv: string[],
  env: Record<string, string>,
  context: ExecutionContext,
  log: CommandLog,
  grace: number,
  onSpawn: ((pid: number) => void) | undefined,
): Promise<RunEnd> {
  // detached: the child leads a new process group (and session), which we can signal as a whole.
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: context.workDir,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const spawnError = await new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', resolve);
  });
  child.on('error', (e) => context.log(`command process: ${e.message}`));
  if (spawnError || child.pid === undefined) {
    const reason = spawnError ? ((spawnError as NodeJS.ErrnoException).code ?? spawnError.message) : 'no pid';
    log.note(`command could not be started: ${spawnError?.message ?? reason}`);
    return { kind: 'not-started', reason };
  }
  const pid = child.pid;
  onSpawn?.(pid);
  context.log(`command ${argv[0]} started as process ${pid}`);

  const stdout = child.stdout as Readable;
  const stderr = child.stderr as Readable;
  const pipesClosed = Promise.all([finished(stdout).catch(() => {}), finished(stderr).catch(() => {})]);
  const pump = (stream: Readable, isStderr: boolean) =>
    stream.on('data', (chunk: Buffer) => {
      if (!log.write(chunk, isStderr)) {
        stdout.pause();
        stderr.pause();
        log.stream.once('drain', () => {
          stdout.resume();
          stderr.resume();
        });
      }
    });
  pump(stdout, false);
  pump(stderr, true);

  let stopping: Promise<boolean> | undefined;
  const onAbort = () => {
    context.log(`aborting: stopping process group ${pid}`);
    stopping ??= stopProcessGroup(pid, grace);
  };
  context.signal.addEventListener('abort', onAbort, { once: true });
  if (context.signal.aborted) onAbort();
  const { code, signal } = await exited;
  context.signal.removeEventListener('abort', onAbort);
  const aborted = context.signal.aborted;
  // The leader is gone, but processes it started may live on in its group
  // (background jobs, or ones that ignore SIGTERM): none may outlive the run.
  const gone = await (stopping ?? stopProcessGroup(pid, Math.min(grace, 1_000)));
  await Promise.race([pipesClosed, delay(PIPE_CLOSE_WAIT_MS)]);
  stdout.destroy();
  stderr.destroy();
  return { kind: 'ended', pid, code, signal, aborted, gone };
}

/** Turns every regular file in out/ into a result named after it; skips (and logs) anything else. */
async function collectOutFiles(
  context: ExecutionContext,
  outDir: string,
  mediaTypes: Readonly<Record<string, string>>,
  logId: string,
): Promise<void> {
  const st = await fs.lstat(outDir).catch(() => null);
  if (!st?.isDirectory()) {
    if (st) context.log(`${OUT_DIR} is not a directory: no results taken from it`);
    return;
  }
  const entries = await fs.readdir(outDir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const where = `${OUT_DIR}/${entry.name}`;
    if (!entry.isFile()) {
      context.log(`${where} skipped: not a regular file`);
      continue;
    }
    if (!isPlainFileName(entry.name) || entry.name === logId) {
      context.log(`${where} skipped: its name cannot be a result id`);
      continue;
    }
    try {
      await makeResult(
        context.results,
        entry.name,
        path.join(outDir, entry.name),
        mediaTypeOf(entry.name, mediaTypes),
      );
    } catch (e) {
      context.log(`${where} could not become a result: ${message(e)}`);
    }
  }
}

async function makeResult(results: ResultWriter, id: string, file: string, mediaType: string): Promise<void> {
  if (canAdoptFiles(results)) {
    await results.adoptFile(id, file, mediaType);
    return;
  }
  const handle = await openNoFollow(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  await results.write(id, handle.createReadStream(), mediaType);
  await fs.rm(file, { force: true });
}

function mediaTypeOf(fileName: string, mediaTypes: Readonly<Record<string, string>>): string {
  const byName = Object.hasOwn(mediaTypes, fileName) ? mediaTypes[fileName] : undefined;
  if (byName) return byName;
  const dot = fileName.lastIndexOf('.');
  if (dot <= 0) return OCTET_STREAM;
  const ext = fileName.slice(dot + 1).toLowerCase();
  return (Object.hasOwn(mediaTypes, ext) ? mediaTypes[ext] : undefined) ?? OCTET_STREAM;
}

/** Fills `${NAME}` placeholders from the job's parameters and the run's directories. */
class TemplateExpander {
  private readonly context: ExecutionContext;
  private readonly outDir: string;

  constructor(context: ExecutionContext, outDir: string) {
    this.context = context;
    this.outDir = outDir;
  }

  argv(template: readonly string[]): string[] {
    const out: string[] = [];
    for (const element of template) {
      const whole = WHOLE_PLACEHOLDER.exec(element);
      const values = whole ? this.values(whole[1]!) : undefined;
      if (values?.multiple) out.push(...values.texts);
      else out.push(this.fill(element));
    }
    for (const arg of out) checkNoNul(arg, 'an argument');
    return out;
  }

  env(templates: Readonly<Record<string, string>>, inherit: boolean): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined && (inherit || PASSED_ENV.includes(name))) env[name] = value;
    }
    env['UWS_JOB_ID'] = this.context.job.jobId;
    env['UWS_WORKDIR'] = this.context.workDir;
    env['UWS_OUTDIR'] = this.outDir;
    for (const name of Object.keys(this.context.parameters)) {
      env[`UWS_PARAM_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`] = this.values(name).texts.join('\n');
    }
    for (const [name, template] of Object.entries(templates)) env[name] = this.fill(template);
    for (const [name, value] of Object.entries(env)) checkNoNul(value, `environment variable ${name}`);
    return env;
  }

  private fill(template: string): string {
    return template.replace(PLACEHOLDER, (_, name: string) => this.values(name).texts.join('\n'));
  }

  private values(name: string): { texts: string[]; multiple: boolean } {
    if (name === 'WORKDIR') return { texts: [this.context.workDir], multiple: false };
    if (name === 'OUTDIR') return { texts: [this.outDir], multiple: false };
    if (name === 'JOBID') return { texts: [this.context.job.jobId], multiple: false };
    const params = this.context.parameters;
    const key = Object.hasOwn(params, name)
      ? name
      : Object.keys(params).find((k) => k.toLowerCase() === name.toLowerCase());
    const value = key === undefined ? undefined : params[key];
    if (value === undefined) return { texts: [], multiple: false };
    if (Array.isArray(value)) return { texts: value.map((v) => this.text(key!, v)), multiple: true };
    return { texts: [this.text(key!, value)], multiple: false };
  }

  private text(name: string, value: ParameterValue): string {
    if (typeof value !== 'object') return String(value);
    if (value.path) return value.kind === 'upload' ? `${value.name},${value.path}` : value.path;
    // No path attached by the caller: look the stored file up in the job record.
    const lower = name.toLowerCase();
    const stored = this.context.job.parameters.filter((p) => p.file && p.name.toLowerCase() === lower);
    if (value.kind === 'file') {
      const file = stored[0]?.file;
      return file ? path.join(this.context.workDir, file.fileName) : value.uri;
    }
    const upload = stored.find((p) => p.value.slice(0, p.value.indexOf(',')).trim() === value.name)?.file;
    return `${value.name},${upload ? path.join(this.context.workDir, upload.fileName) : value.uri}`;
  }
}

function checkNoNul(text: string, what: string): void {
  if (text.includes('\0')) {
    throw new BadRequestError(
      `${what} of the command would contain a NUL character, which cannot be passed on`,
    );
  }
}

/** stdout and stderr interleaved as they come, bounded, with the end kept for /error. */
class CommandLog {
  readonly stream = new PassThrough();
  private readonly limit: number;
  private written = 0;
  private truncated = false;
  private readonly tailChunks: Buffer[] = [];
  private readonly stderrChunks: Buffer[] = [];

  constructor(limit: number) {
    this.limit = limit;
    // A failed log write is reported by the writer; here it only stops further writes.
    this.stream.on('error', () => {});
  }

  /** Appends a chunk; false when the caller should pause until 'drain'. */
  write(chunk: Buffer, isStderr: boolean): boolean {
    keepTail(this.tailChunks, chunk);
    if (isStderr) keepTail(this.stderrChunks, chunk);
    if (this.stream.destroyed || this.stream.writableEnded) return true;
    if (this.written + chunk.length > this.limit) {
      if (!this.truncated) {
        this.truncated = true;
        const room = Math.max(0, this.limit - this.written);
        this.stream.write(chunk.subarray(0, room));
        this.stream.write(`\n[log truncated at ${this.limit} bytes]\n`);
      }
      return true;
    }
    this.written += chunk.length;
    return this.stream.write(chunk);
  }

  note(text: string): void {
    this.write(Buffer.from(`${text}\n`), true);
  }

  /** The end of the log, for /error. */
  tail(): string {
    return decodeTail(this.tailChunks);
  }

  lastStderrLines(count: number): string {
    const lines = decodeTail(this.stderrChunks)
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const text = lines.slice(-count).join(' | ');
    return text.length > 500 ? `...${text.slice(-497)}` : text;
  }
}

function keepTail(chunks: Buffer[], chunk: Buffer): void {
  chunks.push(chunk);
  let total = chunks.reduce((n, c) => n + c.length, 0);
  while (chunks.length > 1 && total - chunks[0]!.length >= TAIL_BYTES) total -= chunks.shift()!.length;
}

function decodeTail(chunks: Buffer[]): string {
  let bytes = Buffer.concat(chunks);
  if (bytes.length > TAIL_BYTES) bytes = bytes.subarray(bytes.length - TAIL_BYTES);
  // Cut before a partial UTF-8 character at the start.
  let start = 0;
  while (start < bytes.length && start < 4 && (bytes[start]! & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString('utf8');
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
