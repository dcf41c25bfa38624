export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median of several runs with their spread: one run alone on a shared machine says little. */
export interface Measured {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function measured(runs: number[]): Measured {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs };
}

/** The value at `p` (0–100) of already sorted values, nearest rank (as wrk and HdrHistogram report). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Runs `work` from `concurrency` loops for `ms`; returns completions per second of the time it took (the last ones included). */
export async function runFor(ms: number, concurrency: number, work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const end = started + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await work();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}
