/** A numeric knob from the environment (HELIOS_BENCH_*), the fallback when unset or empty. */
export function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name}: expected a number, got ${JSON.stringify(raw)}`);
  return value;
}
