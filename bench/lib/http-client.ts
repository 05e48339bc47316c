import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** A small keep-alive HTTP/1.1 client: node:http, so the client costs little next to the server. */
export interface Reply {
  readonly status: number;
  readonly location: string | undefined;
  readonly body: string;
}

export function keepAliveAgent(sockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
}

export interface Target {
  readonly host: string;
  readonly port: number;
}

export function targetOf(url: string): Target {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

export function request(
  agent: http.Agent | false,
  target: Target,
  method: string,
  path: string,
  body?: string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.host,
        port: target.port,
        method,
        path,
        agent,
        headers: body === undefined ? {} : { ...FORM, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: text }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Streams a response and counts occurrences of `marker` in it without keeping the
 * body: for job lists of a million entries.
 */
export function countInStream(
  agent: http.Agent | false,
  target: Target,
  path: string,
  marker: string,
): Promise<{ status: number; count: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: target.host, port: target.port, path, agent }, (res) => {
      let count = 0;
      let bytes = 0;
      let carry = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        bytes += chunk.length;
        const text = carry + chunk;
        let at = text.indexOf(marker);
        let last = -1;
        while (at !== -1) {
          count++;
          last = at;
          at = text.indexOf(marker, at + marker.length);
        }
        // Keep a tail that may hold the start of a marker split across chunks.
        const keepFrom = Math.max(last + marker.length, text.length - marker.length + 1);
        carry = text.slice(Math.max(0, keepFrom));
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, count, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** What a closed-loop run did: operations, their latencies (ms) and the wall time. */
export interface LoadResult {
  readonly ops: number;
  readonly seconds: number;
  readonly latencies: number[];
  readonly perSecond: number;
}

/**
 * `clients` loops, each running `op` back to back until `seconds` pass (closed
 * loop: a new operation starts when the last one ended). `op` throws on a wrong answer.
 */
export async function closedLoop(
  clients: number,
  seconds: number,
  op: (client: number) => Promise<void>,
): Promise<LoadResult> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < end) {
        const t = performance.now();
        await op(client);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { ops: latencies.length, seconds: elapsed, latencies, perSecond: latencies.length / elapsed };
}
