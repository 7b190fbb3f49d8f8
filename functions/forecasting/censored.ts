/**
 * Stock-out days in a demand series (issue 10, scope item 1): on a day the level held no stock
 * the sales are what could be sold, not what was wanted, so reading them as demand teaches a
 * forecast that the item sells less than it does, and the next order is smaller, and the next
 * stock-out comes sooner. Pure.
 *
 * uncensor(demand, stockedOut, period):
 * - The leading run of stocked-out days is dropped (the item was listed before it was ever in
 *   stock: there is nothing to learn from those days).
 * - Every later stocked-out day becomes max(observed, estimate), the estimate being the mean of
 *   the same weekday's in-stock days among the previous `LOOKBACK_PERIODS` periods, else of the
 *   in-stock days among the previous `period * LOOKBACK_PERIODS` days, else the observed value
 *   (no in-stock day to learn from). max: what was sold on a day it ran out is a floor of demand.
 */
export const LOOKBACK_PERIODS = 4;

export interface Uncensored {
  /** The series to fit, from the first in-stock day. */
  demand: number[];
  /** How many leading days were dropped. */
  dropped: number;
  /** Stock-out days estimated (after the leading ones). */
  estimated: number;
}

export const uncensor = (demand: readonly number[], stockedOut: readonly boolean[], period = 7): Uncensored => {
  let first = 0;
  while (first < demand.length && stockedOut[first] === true) first++;
  const out: number[] = demand.slice(first);
  const censored = stockedOut.slice(first);
  const lag = Math.max(1, period);
  let estimated = 0;
  for (let i = 0; i < out.length; i++) {
    if (!censored[i]) continue;
    let sum = 0;
    let n = 0;
    for (let k = 1; k <= LOOKBACK_PERIODS && i - k * lag >= 0; k++) {
      const j = i - k * lag;
      if (!censored[j]) {
        sum += out[j] as number;
        n++;
      }
    }
    if (n === 0) {
      for (let j = Math.max(0, i - lag * LOOKBACK_PERIODS); j < i; j++) {
        if (!censored[j]) {
          sum += out[j] as number;
          n++;
        }
      }
    }
    if (n > 0) {
      out[i] = Math.max(out[i] as number, sum / n);
      estimated++;
    }
  }
  return { demand: out, dropped: first, estimated };
};
