import fs from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { errorCode } from '../../results/workdirs.js';

/** How long to wait for a group to vanish after SIGKILL before giving up on it. */
const KILL_WAIT_MS = 5_000;

/**
 * Stops every process of the process group `pgid`: SIGTERM (and SIGCONT, so a
 * stopped process sees it), up to `graceMs` for them to exit, then SIGKILL.
 * Resolves true once no process of the group runs any more, false if some
 * survived even SIGKILL for KILL_WAIT_MS (a process stuck in the kernel).
 */
export async function stopProcessGroup(pgid: number, graceMs: number): Promise<boolean> {
  if (!(await groupAlive(pgid))) return true;
  signalGroup(pgid, 'SIGTERM');
  signalGroup(pgid, 'SIGCONT');
  if (await waitUntilGone(pgid, graceMs)) return true;
  signalGroup(pgid, 'SIGKILL');
  return waitUntilGone(pgid, KILL_WAIT_MS);
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone, which is what we want.
  }
}

/** Whether any process of the group still runs (zombies do not count: they run nothing). */
export async function groupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    return errorCode(e) === 'EPERM';
  }
  // kill() also finds zombies, which only their parent can reap; a child orphaned
  // under an init that does not reap would otherwise look alive forever.
  if (process.platform !== 'linux') return true;
  return linuxGroupHasLiveMember(pgid);
}

async function linuxGroupHasLiveMember(pgid: number): Promise<boolean> {
  let entries: string[];
  try {
    entries = await fs.readdir('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = await fs.readFile(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (Number(fields[2]) === pgid && state !== 'Z' && state !== 'X') return true;
  }
  return false;
}

async function waitUntilGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  let pause = 5;
  for (;;) {
    if (!(await groupAlive(pgid))) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await delay(Math.min(pause, left));
    pause = Math.min(pause * 2, 100);
  }
}
