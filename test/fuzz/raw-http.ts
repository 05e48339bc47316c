import net from 'node:net';

/** A response as it came off the wire: status, lower-case headers (repeats kept), decoded body. */
export interface RawResponse {
  readonly status: number;
  readonly headers: ReadonlyMap<string, string[]>;
  readonly body: Buffer;
  /** The status line and headers as sent, for failure reports. */
  readonly head: string;
}

export function header(res: RawResponse, name: string): string | undefined {
  return res.headers.get(name.toLowerCase())?.join(', ');
}

/**
 * Sends `request` (the exact bytes of an HTTP/1.1 request, which should say
 * Connection: close) to host:port and reads the answer until the server closes.
 * Nothing is checked or escaped on the way out: that is the point.
 */
export function rawRequest(port: number, request: Buffer, timeoutMs = 15_000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => {
      // A reset after the answer was sent is fine; without one it is a failure.
      if (chunks.length === 0) {
        clearTimeout(timer);
        reject(err);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
    // No half-close: clients keep their side open until the answer, and Node drops a request whose client ended first.
    socket.write(request);
  });
}

function parseResponse(data: Buffer): RawResponse {
  // Interim answers (100 Continue) come before the real one.
  while (/^HTTP\/1\.[01] 1\d\d /.test(data.subarray(0, 16).toString('latin1'))) {
    data = data.subarray(data.indexOf('\r\n\r\n') + 4);
  }
  const end = data.indexOf('\r\n\r\n');
  if (end < 0)
    throw new Error(
      `no complete response head in ${data.length} bytes: ${data.subarray(0, 200).toString('latin1')}`,
    );
  const head = data.subarray(0, end).toString('latin1');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) throw new Error(`bad status line: ${statusLine}`);
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  let body = data.subarray(end + 4);
  if (headers.get('transfer-encoding')?.join(',').toLowerCase().includes('chunked')) body = dechunk(body);
  return { status: Number(match[1]), headers, body, head };
}

function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) throw new Error('chunked body cut short');
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) throw new Error('bad chunk size');
    if (size === 0) return Buffer.concat(out);
    out.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** Builds the bytes of a request; `target` and header values go out as latin1 bytes, unchecked. */
export function buildRequest(
  method: string,
  target: Buffer | string,
  headers: readonly [string, Buffer | string][],
  body: Buffer,
): Buffer {
  const parts: Buffer[] = [
    Buffer.from(`${method} `, 'latin1'),
    asBytes(target),
    Buffer.from(' HTTP/1.1\r\n', 'latin1'),
  ];
  for (const [name, value] of headers) {
    parts.push(Buffer.from(`${name}: `, 'latin1'), asBytes(value), Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from(`Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`, 'latin1'), body);
  return Buffer.concat(parts);
}

function asBytes(v: Buffer | string): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
}
