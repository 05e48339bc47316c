import type { ExecutionContext, ExecutionOutcome, Executor } from '../types.js';
import { abortedOutcome, COMPLETED, closableWriter, errorOutcome, thrownOutcome } from './outcomes.js';

/** What a handler may return to report a failure without throwing. */
export interface InProcessFailure {
  readonly errorSummary?: { readonly message: string; readonly type?: 'transient' | 'fatal' };
  /** Longer text for /error (a log, a trace). */
  readonly detail?: string;
}

// biome-ignore lint/suspicious/noConfusingVoidType: lets a plain `async () => {}` be a handler
export type InProcessHandler = (context: ExecutionContext) => Promise<void | InProcessFailure>;

/**
 * Runs job code as an async function in the server's own thread. The handler
 * gets `context.signal` and should stop when it fires. A thrown error ends the
 * job in ERROR with its message (the stack goes to /error).
 *
 * JavaScript cannot be stopped from outside: a handler that ignores the signal
 * keeps running in the background. The executor does not wait for it; it
 * reports 'aborted' as soon as the signal fires, and from then on refuses the
 * handler's results. CPU-bound or untrusted code belongs in the thread or
 * command executor, which can really be stopped.
 */
export function inProcessExecutor(handler: InProcessHandler): Executor {
  return {
    kind: 'in-process',
    async execute(context: ExecutionContext): Promise<ExecutionOutcome> {
      const { signal } = context;
      if (signal.aborted) return abortedOutcome(signal);
      const results = closableWriter(context.results);
      let onAbort: (() => void) | undefined;
      const abortedEarly = new Promise<ExecutionOutcome>((resolve) => {
        onAbort = () => resolve(abortedOutcome(signal));
        signal.addEventListener('abort', onAbort, { once: true });
      });
      const run = (async (): Promise<ExecutionOutcome> => {
        try {
          const returned = await handler({ ...context, results: results.writer });
          if (signal.aborted) return abortedOutcome(signal);
          if (returned?.errorSummary) {
            const outcome = errorOutcome(returned.errorSummary.message, returned.detail);
            return outcome.status === 'error' && returned.errorSummary.type === 'transient'
              ? { ...outcome, summary: { ...outcome.summary, type: 'transient' } }
              : outcome;
          }
          return COMPLETED;
        } catch (e) {
          // An error thrown because of the abort (an AbortError, say) is the abort.
          if (signal.aborted) return abortedOutcome(signal);
          return thrownOutcome(e);
        }
      })();
      try {
        return await Promise.race([run, abortedEarly]);
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
        results.close();
      }
    },
  };
}
