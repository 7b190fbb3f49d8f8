/**
 * The last N days including today, as the report routes take a window (YYYY-MM-DD, UTC): `from` inclusive, `to`
 * exclusive, so `to` is tomorrow (today's movements are in the window).
 */
export const lastDays = (days: number, now = new Date()): { from: string; to: string } => ({
  from: new Date(now.getTime() - (days - 1) * 86_400_000).toISOString().slice(0, 10),
  to: new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10),
});

/** Every day of a report window (YYYY-MM-DD, `from` inclusive, `to` exclusive), so a daily chart shows the days nothing moved as zero. */
export const daysIn = ({ from, to }: { from: string; to: string }): string[] => {
  const days: string[] = [];
  for (let at = Date.parse(`${from}T00:00:00Z`), end = Date.parse(`${to}T00:00:00Z`); at < end && days.length < 3_660; at += 86_400_000) {
    days.push(new Date(at).toISOString().slice(0, 10));
  }
  return days;
};
