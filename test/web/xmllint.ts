import { spawnSync } from 'node:child_process';

/**
 * The pages are polyglot markup, so an XML parser checks them strictly: every
 * element closed, every attribute quoted, nothing a client stored turned into
 * markup. xmllint reads the page from standard input.
 */
export function wellFormednessErrors(page: string): string {
  // The HTML doctype is not an XML one with a system id, which is fine for a non-validating parse.
  const r = spawnSync('xmllint', ['--noout', '--nonet', '-'], { input: page, encoding: 'utf8' });
  return r.status === 0 ? '' : `${r.stderr}`;
}

/** The string value of an XPath 1.0 expression over the page. */
export function xpath(page: string, expression: string): string {
  const r = spawnSync('xmllint', ['--nonet', '--xpath', expression, '-'], { input: page, encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 10) throw new Error(`xmllint --xpath failed: ${r.stderr}`);
  return r.stdout.trim();
}

export function count(page: string, path: string): number {
  return Number(xpath(page, `count(${path})`));
}
