/** How sizes and durations read on the pages; the script (assets.ts) formats sizes the same way. */

const UNITS = ['bytes', 'kB', 'MB', 'GB', 'TB'];

/** `1234` -> `1.2 kB (1,234 bytes)`; small sizes just in bytes. */
export function formatSize(bytes: number | null): string {
  if (bytes === null || !Number.isFinite(bytes) || bytes < 0) return 'size unknown';
  const exact = `${bytes.toLocaleString('en-US')} byte${bytes === 1 ? '' : 's'}`;
  if (bytes < 1000) return exact;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${UNITS[unit]} (${exact})`;
}

/** executionDuration in words: 0 is unlimited (OBJ-19). */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return 'unlimited';
  const parts: string[] = [];
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (s || parts.length === 0) parts.push(`${s} s`);
  return `${parts.join(' ')} (${seconds} s)`;
}
