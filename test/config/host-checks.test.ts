// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${NAME} is the command template syntax under test
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { hostWarnings } from '../../src/config/host-checks.js';
import { validateConfig } from '../../src/config/load.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-host-checks-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('hostWarnings', () => {
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'plain'), 'not executable', { mode: 0o644 });
  fs.writeFileSync(path.join(tmp, 'tokens'), 'x');

  const warnings = (jobTypes: { name: string; command: string[] }[], auth: unknown = {}) =>
    hostWarnings(
      validateConfig({ jobTypes, auth }),
      { PATH: `/nonexistent${path.delimiter}${bin}` },
      tmp,
    ).map((w) => `${w.path}: ${w.message}`);

  it('finds programs on PATH and by absolute path; skips programs given by a placeholder', () => {
    assert.deepEqual(
      warnings([
        { name: 'a', command: ['tool', '-x'] },
        { name: 'b', command: [path.join(bin, 'tool')] },
        { name: 'c', command: ['${WORKDIR}/run.sh'] },
      ]),
      [],
    );
  });

  it('warns of missing, non-executable and relative programs', () => {
    assert.deepEqual(
      warnings([
        { name: 'a', command: ['no-such-tool'] },
        { name: 'b', command: ['plain'] },
        { name: 'c', command: [path.join(bin, 'plain')] },
        { name: 'd', command: [path.join(bin, 'missing')] },
        { name: 'e', command: ['bin/tool'] },
      ]),
      [
        'jobTypes[0].command[0]: no-such-tool is not found on PATH',
        'jobTypes[1].command[0]: plain is not found on PATH',
        `jobTypes[2].command[0]: ${path.join(bin, 'plain')}: not executable`,
        `jobTypes[3].command[0]: ${path.join(bin, 'missing')}: no such file`,
        'jobTypes[4].command[0]: bin/tool is relative, so each job would look for it in its own working directory; give an absolute path',
      ],
    );
  });

  it('warns of files named by auth settings that cannot be read, relative to the start directory', () => {
    assert.deepEqual(warnings([], { strategies: ['bearer'], bearer: { tokensFile: 'tokens' } }), []);
    assert.deepEqual(warnings([], { strategies: ['basic'], basic: { passwordFile: 'passwords' } }), [
      'auth.basic.passwordFile: passwords: no such file',
    ]);
  });
});
