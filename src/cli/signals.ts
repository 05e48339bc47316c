/**
 * Waits for SIGINT or SIGTERM, then calls `stop` once and exits 0 (1 if stopping
 * failed). A second signal while stopping exits at once: an operator pressing
 * Ctrl-C twice means it.
 */
export function stopOnSignal(name: string, stop: () => Promise<void>): Promise<never> {
  return new Promise<never>(() => {
    // A worker's timers are unref'd and its store has no socket: without this the
    // process would find nothing left to do and quit (exit code 13) before any signal.
    // It lives until process.exit below, so a slow stop is not cut short either.
    setInterval(() => {}, 1 << 30);
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const force = (again: NodeJS.Signals) => {
        process.stderr.write(`ivoa-uws: ${again} again, ${name} exits without finishing its stop\n`);
        process.exit(again === 'SIGINT' ? 130 : 143);
      };
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      process.stderr.write(`ivoa-uws: ${signal} received, stopping the ${name}\n`);
      stop().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`ivoa-uws: the ${name} did not stop cleanly: ${(err as Error).message}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
