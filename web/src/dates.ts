/**
 * The last N days including today, as the report routes take a window (YYYY-MM-DD, UTC): `from` inclusive, `to`
 * exclusive, so `to` is tomorrow (today's movements are in the window).
 */
export const lastDays = (days: number, now = new Date()): { from: string; to: string } => ({
  from: new Date(now.getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10),
  to: new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10),
});
