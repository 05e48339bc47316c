const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * "90s", "15m", "36h", "2d", "1w", combinations like "1d12h", or plain seconds:
 * returns milliseconds, or null if the text is no such duration.
 */
export function parseDuration(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  if (!/^(\d+[smhdw])+$/.test(t)) return null;
  let seconds = 0;
  for (const [, n, unit] of t.matchAll(/(\d+)([smhdw])/g)) seconds += Number(n) * UNIT_SECONDS[unit!]!;
  return seconds * 1000;
}
