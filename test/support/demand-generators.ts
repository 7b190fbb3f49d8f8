/**
 * Seeded demand generators shared by the forecast selection tests (test/unit/forecast-select.test.ts)
 * and the forecast bench (test/bench/forecast.ts), so both judge the methods on the same series:
 * steady with noise, weekly seasonal, trend, intermittent Bernoulli-Poisson and lumpy.
 */
export const mulberry32 = (seed: number) => {
  let a = seed;
  return (): number => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};
export type Rng = () => number;
export const normal = (r: Rng): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
export const poisson = (r: Rng, lambda: number): number => {
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= r();
  } while (p > limit);
  return k - 1;
};
const WEEK = [0, 2, 4, 6, 10, -8, -14];
export const GENERATORS = {
  steady: (r: Rng, n: number) => Array.from({ length: n }, () => Math.max(0, 20 + 3 * normal(r))),
  seasonal: (r: Rng, n: number) => Array.from({ length: n }, (_, t) => Math.max(0, 20 + (WEEK[t % 7] as number) + 2 * normal(r))),
  trend: (r: Rng, n: number) => Array.from({ length: n }, (_, t) => Math.max(0, 10 + 0.1 * t + 2 * normal(r))),
  // Bernoulli(0.3) demand occurrence, size 1 + Poisson(2).
  intermittent: (r: Rng, n: number) => Array.from({ length: n }, () => (r() < 0.3 ? 1 + poisson(r, 2) : 0)),
  // Bernoulli(0.2) occurrence, log-normal sizes (CV² well above 0.49).
  lumpy: (r: Rng, n: number) => Array.from({ length: n }, () => (r() < 0.2 ? Math.round(Math.exp(1 + 1.2 * normal(r))) : 0)),
};
export type Generator = keyof typeof GENERATORS;
