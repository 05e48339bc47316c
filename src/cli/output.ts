import { once } from 'node:events';

/**
 * Writes to stdout and waits when the pipe is full, so that listing a million
 * jobs into `less` holds a few pages in memory, not the whole list.
 */
export async function print(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

/**
 * `ivoa-uws jobs list | head` closes the pipe early: that is the reader's choice,
 * not an error, so the command ends quietly instead of with a stack trace.
 */
export function exitQuietlyOnClosedPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}
