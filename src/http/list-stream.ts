import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** How a list document is put together from its items. */
export interface ListFormat<T> {
  readonly head: string;
  readonly item: (value: T, index: number) => string;
  readonly tail: string;
}

/** Items per chunk: big enough to make few writes, small enough to keep memory flat. */
const BATCH = 256;

/**
 * The first item is read before anything is sent, so that a failure to start
 * the listing (a bad filter, a refused caller, a store that is down) still gets
 * an error status instead of a truncated 200.
 */
export async function startList<T>(
  items: AsyncIterable<T>,
): Promise<AsyncIterator<T> & { first: IteratorResult<T> }> {
  const iterator = items[Symbol.asyncIterator]();
  const first = await iterator.next();
  return Object.assign(iterator, { first });
}

/**
 * Renders a list as a stream of text chunks (JL-GET-3: however many jobs). Only
 * one batch is held at a time, the stream's back-pressure paces the reads, and
 * the loop gives the event loop a turn after every batch, so that a million
 * jobs neither sit in memory nor hold up other requests.
 */
export function listStream<T>(
  started: AsyncIterator<T> & { first: IteratorResult<T> },
  format: ListFormat<T>,
): Readable {
  async function* chunks(): AsyncGenerator<string> {
    let batch = format.head;
    let index = 0;
    let step = started.first;
    try {
      while (!step.done) {
        batch += format.item(step.value, index++);
        if (index % BATCH === 0) {
          yield batch;
          batch = '';
          await nextTurn();
        }
        step = await started.next();
      }
      yield batch + format.tail;
    } finally {
      // Client gone or a failure: let the store release its cursor.
      if (!step.done) await started.return?.();
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: 64 * 1024 });
}
