import { OPS, summarize, type LatencySummary, type Op, type Recorder } from "./recorder.js";

export interface RssSample {
  atSeconds: number;
  mib: Record<string, number | null>;
}

export interface InstanceReport {
  pid: number;
  requests: number;
  errors: number;
  /** ready: idle, before seeding; start/middle/end: of the load. */
  rssMiB: { ready: number | null; start: number | null; middle: number | null; end: number | null };
  logged: { count: number; first: string[] };
}

export interface SoakSetup {
  instances: number;
  concurrency: number;
  users: number;
  sessionDurationMinutes: number;
  sliceSeconds: number;
  /** Percent of operations. */
  mix: Readonly<Record<string, number>>;
  rateLimits: Record<string, { default: number; soak: number }>;
  database: string;
  buildSeconds: number;
  seedSeconds: number;
  node: string;
}

export interface SoakResult {
  minutes: number;
  durationSeconds: number;
  interrupted: boolean;
  setup: SoakSetup;
  totals: { requests: number; errors: number; errorRate: number; perSecond: number };
  errors: Record<string, number>;
  correctness: { revokedChecks: number; violations: number };
  ops: Record<Op, LatencySummary>;
  slices: { fromSeconds: number; toSeconds: number; requests: number; perSecond: number; errors: number; exchange: LatencySummary; login: LatencySummary; revoke: LatencySummary; rssMiB: Record<string, number | null> }[];
  instances: Record<string, InstanceReport>;
}

export function buildResult(input: {
  minutes: number;
  interrupted: boolean;
  durationSeconds: number;
  recorder: Recorder;
  rss: RssSample[];
  readyRss: Record<string, number | null>;
  setup: SoakSetup;
  instances: { name: string; pid: number; logged: { count: number; first: string[] } }[];
}): SoakResult {
  const { recorder, rss, durationSeconds } = input;
  const sliceSeconds = recorder.sliceMs / 1000;
  const all = (op: Op) => recorder.slices.flatMap((slice) => slice.latencies[op]);
  const requests = recorder.slices.reduce((sum, slice) => sum + slice.requests, 0);
  const errors = recorder.slices.reduce((sum, slice) => sum + slice.errors, 0);
  const kinds = [...recorder.errorKinds.entries()].sort((a, b) => b[1] - a[1]);
  const nearest = (seconds: number) => rss.reduce((best, sample) => (Math.abs(sample.atSeconds - seconds) < Math.abs(best.atSeconds - seconds) ? sample : best), rss[0]!);
  return {
    minutes: input.minutes,
    durationSeconds: round(durationSeconds),
    interrupted: input.interrupted,
    setup: input.setup,
    totals: { requests, errors, errorRate: requests ? errors / requests : 0, perSecond: round(requests / durationSeconds) },
    errors: Object.fromEntries(kinds),
    correctness: {
      revokedChecks: all("revoked_check").length,
      violations: kinds.filter(([kind]) => kind.includes(": violation")).reduce((sum, [, n]) => sum + n, 0),
    },
    ops: Object.fromEntries(OPS.map((op) => [op, summarize(all(op))])) as Record<Op, LatencySummary>,
    slices: recorder.slices.map((slice, index) => {
      const from = index * sliceSeconds;
      const to = Math.min((index + 1) * sliceSeconds, durationSeconds);
      return {
        fromSeconds: round(from),
        toSeconds: round(to),
        requests: slice.requests,
        perSecond: round(slice.requests / Math.max(to - from, 0.001)),
        errors: slice.errors,
        exchange: summarize(slice.latencies.exchange_token, slice.latencies.exchange_jwt),
        login: summarize(slice.latencies.login),
        revoke: summarize(slice.latencies.revoke),
        rssMiB: roundAll(nearest(to).mib),
      };
    }),
    instances: Object.fromEntries(
      input.instances.map((instance) => {
        const counts = recorder.byInstance.get(instance.name) ?? { requests: 0, errors: 0 };
        const at = (sample: RssSample | undefined) => roundOrNull(sample?.mib[instance.name]);
        const rssMiB = { ready: roundOrNull(input.readyRss[instance.name]), start: at(rss[0]), middle: at(nearest(durationSeconds / 2)), end: at(rss.at(-1)) };
        return [instance.name, { pid: instance.pid, ...counts, rssMiB, logged: instance.logged }];
      }),
    ),
  };
}

const round = (n: number) => Math.round(n * 10) / 10;
const roundOrNull = (n: number | null | undefined) => (n === null || n === undefined ? null : round(n));
const roundAll = (mib: Record<string, number | null>) => Object.fromEntries(Object.entries(mib).map(([name, n]) => [name, roundOrNull(n)]));
const ms = (value: number | null) => (value === null ? "-" : value.toFixed(value < 100 ? 1 : 0));
const mib = (value: number | null | undefined) => (value === null || value === undefined ? "-" : value.toFixed(0));
const clock = (seconds: number) => `${Math.floor(seconds / 60)}:${String(Math.round(seconds % 60)).padStart(2, "0")}`;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].map((l) => `  ${l}`).join("\n");
}

/** The human-readable report: totals, the p99-over-time table, per-operation latencies, errors, memory. */
export function formatReport(result: SoakResult): string {
  const names = Object.keys(result.instances);
  const { totals, correctness } = result;
  const out: string[] = [];
  out.push(`\nsoak: ${clock(result.durationSeconds)} of load${result.interrupted ? " (interrupted)" : ""}, ${totals.requests} requests, ${totals.perSecond}/s, errors ${totals.errors} (${(totals.errorRate * 100).toFixed(3)}%)`);
  out.push(`revoked sessions checked ${correctness.revokedChecks} times on both instances, violations ${correctness.violations}`);
  const { setup } = result;
  out.push(`${setup.instances} instances, ${setup.concurrency} requests in flight, ${setup.users} users; mix % ${Object.entries(setup.mix).map(([op, n]) => `${op} ${n}`).join(", ")}`);
  out.push(`rate limits raised for the soak project (the soak measures the work, not the limiter): ${Object.entries(setup.rateLimits).map(([name, l]) => `${name} ${l.default} → ${l.soak}`).join(", ")}\n`);
  out.push(`over time (latencies in ms, RSS in MiB at the slice's end; exchange = by token and by JWT)`);
  out.push(
    table(
      ["slice", "req/s", "errors", "exch p50", "exch p99", "login p50", "login p99", "revoke p99", ...names.map((n) => `RSS ${n}`)],
      result.slices.map((s) => [`${clock(s.fromSeconds)}-${clock(s.toSeconds)}`, s.perSecond.toFixed(0), String(s.errors), ms(s.exchange.p50), ms(s.exchange.p99), ms(s.login.p50), ms(s.login.p99), ms(s.revoke.p99), ...names.map((n) => mib(s.rssMiB[n]))]),
    ),
  );
  out.push(`\nper operation (ms)`);
  out.push(table(["operation", "count", "p50", "p90", "p99", "max"], Object.entries(result.ops).map(([op, s]) => [op, String(s.count), ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)])));
  out.push(`\nerrors by kind`);
  const kinds = Object.entries(result.errors);
  out.push(kinds.length ? table(["kind", "count"], kinds.map(([kind, n]) => [kind, String(n)])) : "  none");
  out.push(`\ninstances (RSS in MiB: ready = idle before seeding; start, middle, end of the load)`);
  out.push(
    table(
      ["instance", "pid", "requests", "errors", "RSS ready", "RSS start", "RSS middle", "RSS end", "log lines ≥ warn"],
      names.map((n) => {
        const i = result.instances[n]!;
        return [n, String(i.pid), String(i.requests), String(i.errors), mib(i.rssMiB.ready), mib(i.rssMiB.start), mib(i.rssMiB.middle), mib(i.rssMiB.end), String(i.logged.count)];
      }),
    ),
  );
  for (const n of names) for (const line of result.instances[n]!.logged.first) out.push(`  ${n}: ${line}`);
  return out.join("\n");
}
