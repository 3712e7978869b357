const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `15m`, `30d`, `2s`, `500ms` (or a bare number of seconds) into milliseconds; null if invalid. */
export function parseDuration(value: string): number | null {
  const match = /^(\d{1,9})(ms|s|m|h|d)?$/.exec(value.trim());
  if (!match) return null;
  const amount = Number(match[1]);
  const ms = amount * UNITS[match[2] ?? 's'];
  return ms > 0 ? ms : null;
}
