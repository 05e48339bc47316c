import type { IncomingMessage } from 'node:http';
import { BadRequestError } from '../core/errors.js';

/**
 * Watches a request whose body is being parsed (multipart) for a parser that
 * stopped: no byte read from the connection for `stallMs` while bytes wait
 * unread, or while the whole body is in and parsing still has not ended. The
 * multipart parser (@fastify/busboy 3.2) stops like that on a part that has no
 * header block and more than 16 KiB of content, and the request would hang
 * until the client gave up. A client that merely sends slowly leaves nothing
 * unread and is not taken for a stall (Node's requestTimeout is for those).
 */
export function watchBodyStall(
  raw: IncomingMessage,
  stallMs = 10_000,
): { stalled: Promise<never>; stop(): void } {
  let last = raw.socket?.bytesRead ?? 0;
  let since = Date.now();
  let fail!: (err: Error) => void;
  const stalled = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // Raced against the parsing; when parsing wins nobody awaits this one.
  stalled.catch(() => {});
  const timer = setInterval(
    () => {
      const read = raw.socket?.bytesRead ?? last;
      const waiting = raw.readableLength > 0 || raw.complete;
      if (read !== last || !waiting) {
        last = read;
        since = Date.now();
        return;
      }
      if (Date.now() - since < stallMs) return;
      clearInterval(timer);
      fail(
        new BadRequestError(
          'the multipart body cannot be read: the parser stopped (a part without headers?)',
        ),
      );
    },
    Math.max(10, Math.min(1000, stallMs / 4)),
  );
  timer.unref();
  return { stalled, stop: () => clearInterval(timer) };
}
