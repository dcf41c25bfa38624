/** Small load helpers for the fault suite: parallel clients that record what every request got. */
export interface Outcome {
  name: string;
  status: number;
  errorType: string | null;
  ms: number;
  /** When it was sent, ms since the load started. */
  at: number;
}

export interface Call {
  name: string;
  send(): Promise<Response>;
}

/** Runs `workers` clients, each sending the calls round-robin, until `until()` says stop. */
export async function runLoad(calls: Call[], options: { workers: number; until: () => boolean }): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const started = performance.now();
  let turn = 0;
  await Promise.all(
    Array.from({ length: options.workers }, async () => {
      while (!options.until()) {
        const call = calls[turn++ % calls.length]!;
        const sent = performance.now();
        let status = 0;
        let errorType: string | null = null;
        try {
          const response = await call.send();
          status = response.status;
          const text = await response.text();
          if (status >= 400) errorType = (JSON.parse(text) as { error_type?: string }).error_type ?? null;
        } catch (error) {
          errorType = `network: ${(error as Error).message}`;
        }
        outcomes.push({ name: call.name, status, errorType, ms: performance.now() - sent, at: sent - started });
      }
    }),
  );
  return outcomes;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** "503 service_unavailable × 120, 200 × 3" — what a failing assertion should show. */
export function tally(outcomes: Outcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = `${o.name} ${o.status}${o.errorType ? ` ${o.errorType}` : ""}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
