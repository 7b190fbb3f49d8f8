/**
 * How the dashboard shows numbers. Quantities are integers (the API never sends fractions of a unit); money is a
 * decimal string (functions/platform/money.ts) formatted from the string itself, never through a float, so
 * "0.10" + "0.20" style rounding never shows up on a screen.
 */
const quantityFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** An integer quantity with thousands separators; null or undefined is a dash, never "undefined". */
export const formatQuantity = (value: number | null | undefined): string =>
  value === null || value === undefined || !Number.isFinite(value) ? '—' : quantityFormat.format(value);

/** A signed change: "+5", "−3" (a true minus sign), "0". */
export const formatDelta = (value: number): string => (value > 0 ? `+${quantityFormat.format(value)}` : value < 0 ? `−${quantityFormat.format(-value)}` : '0');

const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * A decimal money string in its currency ("1234.5", "USD" → "$1,234.50"). Intl formats the decimal string
 * exactly (no float conversion); something that is not a decimal is shown as a dash rather than as NaN.
 */
export const formatMoney = (amount: string | null | undefined, currency: string | null | undefined): string => {
  if (amount === null || amount === undefined || !DECIMAL.test(amount)) return '—';
  const format = new Intl.NumberFormat('en-US', { style: 'currency', currency: currency && /^[A-Z]{3}$/.test(currency) ? currency : 'USD' });
  // Intl.NumberFormat accepts decimal strings exactly (ECMA-402 NumberFormat v3); the cast is the typings lagging.
  return format.format(amount as unknown as number);
};

/** Days of cover: one decimal, "—" when unknown (no sales), "∞" never: the API sends null for that. */
export const formatDays = (value: number | null | undefined): string =>
  value === null || value === undefined || !Number.isFinite(value) ? '—' : `${value.toFixed(1)} d`;

/** An ISO instant as the reader's local date and time; anything unreadable is a dash. */
export const formatInstant = (iso: string | null | undefined): string => {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '—' : date.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
};

/** snake_case and camelCase words as a label: "below_reorder_point" → "Below reorder point". */
export const humanize = (text: string): string => {
  const words = text.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').trim().toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};
