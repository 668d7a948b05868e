/** ISO-8601 date-time with a mandatory zone (Z or ±hh:mm / ±hhmm). */
const ISO_WITH_ZONE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)$/;
const ISO_NO_ZONE = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?$/;

export type TimestampResult =
  { ok: true; iso: string; ms: number } | { ok: false; zoneless: boolean; message: string };

/** Parses an ISO-8601 timestamp; zone-less values are rejected, never guessed. Pure. */
export function parseTimestamp(value: string): TimestampResult {
  const m = ISO_WITH_ZONE.exec(value);
  if (!m) {
    if (ISO_NO_ZONE.test(value))
      return {
        ok: false,
        zoneless: true,
        message: `"${value}" has no time zone (add Z or an offset such as +02:00)`,
      };
    return { ok: false, zoneless: false, message: `"${value}" is not an ISO-8601 date-time` };
  }
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    return { ok: false, zoneless: false, message: `"${value}" has an out-of-range date or time field` };
  }
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  let offsetMin = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59)
      return { ok: false, zoneless: false, message: `"${value}" has an invalid zone offset` };
    offsetMin = sign * (oh * 60 + om);
  }
  const utc = Date.UTC(Number(y), month - 1, day, hour, minute, second, ms) - offsetMin * 60_000;
  const check = new Date(Date.UTC(Number(y), month - 1, day));
  if (check.getUTCDate() !== day)
    return { ok: false, zoneless: false, message: `"${value}" is not a real calendar date` };
  if (!Number.isFinite(utc)) return { ok: false, zoneless: false, message: `"${value}" is out of range` };
  return { ok: true, iso: new Date(utc).toISOString(), ms: utc };
}
