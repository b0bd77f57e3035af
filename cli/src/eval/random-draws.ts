/** Random draws shared by the eval corpora (request traffic and metric series), from one uniform source. */

export type Uniform = () => number;

/** Standard normal (Box–Muller). */
export function gaussian(random: Uniform): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Poisson count (Knuth for small means, normal approximation above). */
export function poisson(random: Uniform, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(random)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random();
  while (p > limit) {
    k++;
    p *= random();
  }
  return k;
}
