import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = path.resolve(repoRoot, '..', 'shared');
export const schemaDir = path.join(sharedDir, 'schemas');
const UWS_XSD = path.join(schemaDir, 'UWS-v1.1.xsd');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'xmllint',
      args,
      {
        env: { ...process.env, XML_CATALOG_FILES: path.join(schemaDir, 'catalog.xml') },
        maxBuffer: 64 << 20,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * Validates documents against the official UWS 1.1 XSD with xmllint (one process
 * for the lot). Resolves to the list of failures, each naming the document and
 * xmllint's complaint; empty when every document validates.
 */
export async function uwsSchemaErrors(docs: Record<string, string>): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-xmllint-'));
  try {
    const files: string[] = [];
    for (const [name, text] of Object.entries(docs)) {
      const file = path.join(dir, `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}.xml`);
      fs.writeFileSync(file, text);
      files.push(file);
    }
    if (files.length === 0) return [];
    const { stderr } = await run(['--nonet', '--noout', '--schema', UWS_XSD, ...files]);
    const failures: string[] = [];
    for (const file of files) {
      const lines = stderr.split('\n').filter((l) => l.startsWith(file));
      if (!lines.some((l) => l === `${file} validates`))
        failures.push(lines.join('\n') || `${file}: no verdict`);
    }
    return failures;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether a document is well-formed XML (for VOSI documents, whose schemas are not at hand). */
export async function wellFormedErrors(text: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-xmllint-'));
  try {
    const file = path.join(dir, 'doc.xml');
    fs.writeFileSync(file, text);
    const { code, stderr } = await run(['--nonet', '--noout', file]);
    return code === 0 ? '' : stderr || `xmllint exited ${code}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The string value of an XPath expression over a document, as xmllint computes it. */
export async function xpathString(text: string, expression: string): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uws-xmllint-'));
  try {
    const file = path.join(dir, 'doc.xml');
    fs.writeFileSync(file, text);
    const { code, stdout, stderr } = await run(['--nonet', '--xpath', `string(${expression})`, file]);
    if (code !== 0 && code !== 10) throw new Error(`xmllint --xpath failed: ${stderr}`);
    // xmllint ends the printed string with a newline of its own.
    return stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
