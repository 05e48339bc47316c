import { BadRequestError } from './errors.js';

/**
 * The one serialisation of an instant used everywhere (TIME-2, TIME-4): UTC,
 * millisecond precision, `Z`. The XML documents and the text endpoints share it,
 * so they are string-identical.
 */
export function formatInstant(ms: number): string {
  return new Date(ms).toISOString();
}

export function formatOptionalInstant(ms: number | null): string {
  return ms === null ? '' : formatInstant(ms);
}

// YYYY[-MM[-DD]] or YYYY[MM[DD]], then optional [T or space]hh:mm[:ss[.f{1,9}]], then Z or ±hh[:]mm.
const INSTANT =
  /^(\d{4})(?:-?(\d{2})(?:-?(\d{2}))?)?(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses a client-supplied instant leniently (TIME-3, DS-5, DALI-7): partial dates,
 * 0 to 9 fraction digits, no zone (UTC, as DALI says), `Z` or an offset. Returns
 * epoch milliseconds, or throws a BadRequestError naming `parameter`.
 */
export function parseInstant(text: string, parameter: string): number {
  const m = INSTANT.exec(text.trim());
  if (!m) {
    throw new BadRequestError(
      `${parameter}: '${truncate(text)}' is not an ISO 8601 instant (expected e.g. 2026-01-31T12:00:00Z)`,
      parameter,
    );
  }
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const millis = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysIn(year, month) ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new BadRequestError(`${parameter}: '${truncate(text)}' is not a valid date and time`, parameter);
  }
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 18 || om > 59) {
      throw new BadRequestError(
        `${parameter}: '${truncate(text)}' has an invalid time zone offset`,
        parameter,
      );
    }
    offsetMinutes = sign * (oh * 60 + om);
  }
  return utc(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
}

function daysIn(year: number, month: number): number {
  return new Date(utc(year, month, 0)).getUTCDate();
}

/** Date.UTC without its quirk of reading years 0..99 as 1900..1999. */
function utc(year: number, monthIndex: number, day: number, h = 0, mi = 0, s = 0, ms = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, monthIndex, day);
  d.setUTCHours(h, mi, s, ms);
  return d.getTime();
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
