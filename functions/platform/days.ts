/** UTC calendar days as the lake, the close and forecasting count them: `YYYY-MM-DD` text. */
export const DAY_MS = 86_400_000;

/** The UTC day of an instant. */
export const dayOf = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 10);

/** The day `days` after `day` (negative: before). */
export const addDays = (day: string, days: number): string => dayOf(Date.parse(day) + days * DAY_MS);

export const nextDay = (day: string): string => addDays(day, 1);
