/** What the load does; a revoked_check is an exchange of a revoked session, which must be refused. */
export const OPS = ["exchange_token", "exchange_jwt", "login", "revoke", "revoked_check"] as const;
export type Op = (typeof OPS)[number];

/** `ok`, or why not: `http 429 too_many_requests`, `network ECONNRESET`, `violation 200`. */
export type Outcome = "ok" | `http ${string}` | `network ${string}` | `violation ${string}`;

export interface Slice {
  /** Latencies in ms of every completed request, by operation (failures included: a slow 503 is slow). */
  latencies: Record<Op, number[]>;
  requests: number;
  errors: number;
}

/**
 * Every request's outcome and latency, bucketed by the time slice it completed in. All samples are
 * kept (a 10-minute soak is a few hundred thousand numbers), so percentiles are exact, not estimated.
 */
export function createRecorder(sliceMs: number, durationMs: number) {
  // Requests still in flight at the deadline complete a moment later; they belong to the last slice,
  // not to a sliver of a slice whose rate would be meaningless.
  const lastIndex = Math.max(0, Math.ceil(durationMs / sliceMs) - 1);
  let startedAt = performance.now();
  const slices: Slice[] = [];
  const errorKinds = new Map<string, number>();
  const byInstance = new Map<string, { requests: number; errors: number }>();

  const sliceAt = (now: number): Slice => {
    const index = Math.min(lastIndex, Math.max(0, Math.floor((now - startedAt) / sliceMs)));
    while (slices.length <= index) slices.push({ latencies: Object.fromEntries(OPS.map((op) => [op, []])) as unknown as Record<Op, number[]>, requests: 0, errors: 0 });
    return slices[index]!;
  };

  return {
    sliceMs,
    slices,
    errorKinds,
    byInstance,
    start() {
      startedAt = performance.now();
    },
    /** Seconds since start(). */
    elapsedSeconds: () => (performance.now() - startedAt) / 1000,
    record(op: Op, instance: string, latencyMs: number, outcome: Outcome) {
      const slice = sliceAt(performance.now());
      slice.latencies[op].push(latencyMs);
      slice.requests++;
      const perInstance = byInstance.get(instance) ?? { requests: 0, errors: 0 };
      perInstance.requests++;
      byInstance.set(instance, perInstance);
      if (outcome === "ok") return;
      slice.errors++;
      perInstance.errors++;
      const kind = `${op}: ${outcome}`;
      errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
    },
  };
}

export type Recorder = ReturnType<typeof createRecorder>;

export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** Nearest-rank percentiles in ms over the samples of one or more operations (sorted once). */
export function summarize(...sampleSets: readonly number[][]): LatencySummary {
  const sorted = Float64Array.from(sampleSets.flat()).sort();
  const at = (p: number) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!) : null);
  return { count: sorted.length, p50: at(50), p90: at(90), p99: at(99), max: sorted.length ? round(sorted[sorted.length - 1]!) : null };
}

const round = (ms: number) => Math.round(ms * 10) / 10;
