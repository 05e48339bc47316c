#!/usr/bin/env node
import { reportError } from './errors.js';
import { exitQuietlyOnClosedPipe } from './output.js';
import { buildProgram } from './program.js';

exitQuietlyOnClosedPipe();

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err);
}
