/**
 * Number formatting for the report. Written out rather than left to toLocaleString so that the
 * same results give the same text on every machine, whatever its locale.
 */

/** `value` with `decimals` decimals and commas between thousands: 12345.678, 1 → "12,345.7". */
export function formatNumber(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return value > 0 ? '∞' : value < 0 ? '-∞' : '-';
  const fixed = value.toFixed(decimals);
  // toFixed keeps the sign of a negative value that rounds to zero ("-0.0"): that is noise.
  const unsigned = Number(fixed) === 0 ? fixed.replace(/^-/, '') : fixed;
  const [whole = '', fraction] = unsigned.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

export function formatInteger(value: number): string {
  return formatNumber(value, 0);
}

/** `digits` significant digits without exponent notation: 0.015259 → "0.0153", 664.5 → "665". */
export function formatSignificant(value: number, digits: number): string {
  if (value === 0 || !Number.isFinite(value)) return formatNumber(value, 0);
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  return formatNumber(value, Math.max(0, digits - 1 - magnitude));
}

/** A share (0..1) as a percentage: 0.4375 → "43.8%". */
export function formatPercent(share: number, decimals = 1): string {
  return `${formatNumber(share * 100, decimals)}%`;
}

/** A figure that may not apply to a run ("-" then). */
export function formatOptional(value: number | undefined, decimals: number): string {
  return value === undefined ? '-' : formatNumber(value, decimals);
}

/** A change with its sign: +1.5, -2.0, 0.0. */
export function formatSigned(value: number, decimals: number): string {
  const text = formatNumber(value, decimals);
  return value > 0 && text !== formatNumber(0, decimals) ? `+${text}` : text;
}
