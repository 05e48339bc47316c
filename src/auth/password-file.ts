import { createHash } from 'node:crypto';
import argon2 from 'argon2';
import bcrypt from 'bcryptjs';
import { ownerIdProblem } from './types.js';

/** One user of the Basic password file and the hash of their password. */
export interface PasswordEntry {
  readonly ownerId: string;
  readonly hash: string;
  readonly scheme: 'bcrypt' | 'argon2';
}

const BCRYPT = /^\$2[abxy]\$\d\d\$[./A-Za-z0-9]{53}$/;
const ARGON2 = /^\$argon2(id|i|d)\$/;

/**
 * Parses a password file: one `owner:hash` per line (htpasswd's layout), the
 * hash a bcrypt (`$2b$...`, e.g. from `htpasswd -B`) or argon2 (`$argon2id$...`)
 * string. Blank lines and lines starting with `#` are skipped. Every bad line
 * is reported with its number; a plain-text or unknown hash is refused rather
 * than compared.
 */
export function parsePasswordFile(text: string, file = 'password file'): Map<string, PasswordEntry> {
  const out = new Map<string, PasswordEntry>();
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const at = `${file} line ${i + 1}`;
    if (colon <= 0) {
      problems.push(`${at}: expected owner:hash with a bcrypt or argon2 hash`);
      return;
    }
    const ownerId = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const problem = ownerIdProblem(ownerId);
    if (problem) problems.push(`${at}: the owner is not usable: ${problem}`);
    else if (out.has(ownerId)) problems.push(`${at}: ${ownerId} is listed twice`);
    else if (BCRYPT.test(hash)) out.set(ownerId, { ownerId, hash, scheme: 'bcrypt' });
    else if (ARGON2.test(hash)) out.set(ownerId, { ownerId, hash, scheme: 'argon2' });
    else problems.push(`${at}: the hash is neither bcrypt ($2b$...) nor argon2 ($argon2id$...)`);
  });
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return out;
}

/** Whether `password` matches the entry's hash. Never throws on a malformed hash: that is a mismatch. */
export async function verifyPassword(entry: PasswordEntry, password: string): Promise<boolean> {
  try {
    return entry.scheme === 'bcrypt'
      ? await bcrypt.compare(password, entry.hash)
      : await argon2.verify(entry.hash, password);
  } catch {
    return false;
  }
}

/** A hash no password matches, compared for unknown users so that their answers take as long. */
export const DECOY: PasswordEntry = {
  ownerId: '',
  hash: bcrypt.hashSync(createHash('sha256').update(String(Math.random())).digest('hex'), 10),
  scheme: 'bcrypt',
};
