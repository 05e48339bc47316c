import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { startServer } from '../../src/app.js';
import { validateConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/tmp.js';

/** One request as the server saw it: method and the raw URL (path and query). */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
}

export interface InteropServer {
  /** Absolute URL of the server root, e.g. http://127.0.0.1:40123. */
  readonly url: string;
  /** Every request the server received, in order of arrival. */
  readonly requests: SeenRequest[];
  stop(): Promise<void>;
}

/**
 * A real `ivoa-uws serve` as a user starts it (config defaults, built-in job types,
 * scheduler on), on a fresh SQLite file and work directory, listening on a free port.
 */
export async function startInteropServer(name: string): Promise<InteropServer> {
  const tmp = tempDir(`interop-${name}`);
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    store: { url: `sqlite:${path.join(tmp.dir, 'uws.db')}` },
    workDir: path.join(tmp.dir, 'jobs'),
    log: { level: 'silent' },
  });
  const server = await startServer(config);
  const requests: SeenRequest[] = [];
  // Observe the raw node server: Fastify takes no hooks once it listens.
  server.http.server.on('request', (req) => requests.push({ method: req.method ?? '', url: req.url ?? '' }));
  return {
    url: server.url,
    requests,
    async stop() {
      await server.stop();
      tmp.cleanup();
    },
  };
}

/** The reason a client program cannot run here, or null when it can. */
export function missingProgram(file: string): string | null {
  try {
    accessSync(file, constants.X_OK);
    return null;
  } catch {
    return `${file} is not installed`;
  }
}

/**
 * Whether to skip when a client is missing: on a developer's machine yes (with the
 * reason), in CI no, since .ci/run installs the clients and a skip there would hide
 * a broken install.
 */
export function skipUnlessInstalled(reason: string | null): string | false {
  if (reason === null) return false;
  if (process.env.CI) throw new Error(`${reason}, but CI must run this test (.ci/run installs it)`);
  return reason;
}

export interface StepReport {
  readonly step: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly [detail: string]: unknown;
}

/** Runs a client program that prints one JSON step report per line; collects them and its exit. */
export function runClient(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; steps: StepReport[]; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const steps = stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as StepReport);
      resolve({ code, steps, stderr, stdout });
    });
  });
}

/** A readable account of failed steps, for assertion messages. */
export function describeFailures(steps: StepReport[], stderr: string): string {
  const failed = steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.error}`);
  return [...failed, stderr.slice(-2000)].join('\n');
}

/** Rows of the catalogue VOTable as numbers, read with a regular expression (no VOTable library). */
export function votableRows(xml: string): number[][] {
  return [...xml.matchAll(/<TR>(.*?)<\/TR>/g)].map((m) =>
    [...(m[1] ?? '').matchAll(/<TD>(.*?)<\/TD>/g)].map((td) => Number(td[1])),
  );
}
