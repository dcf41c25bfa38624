import type { Alg, LoadResult } from "./scenarios.js";
import type { Measured } from "./stats.js";
import type { ServerRefusals } from "./target.js";

export interface AlgResults {
  /** The signing key the project's exchange used (made by `tessera keys rotate --now`). */
  kid: string;
  jose?: { concurrency: number; sign: Measured; verify: Measured };
  verify?: { concurrency: number; ours: Measured; bare: Measured };
  exchangeToken?: LoadResult;
  exchangeJwt?: LoadResult;
  login?: LoadResult;
  storm?: { exchange: LoadResult; logins: LoadResult };
  /** The exchange on one process and on WEB_CONCURRENCY=`workers`, runs in turn; or why it did not run. */
  cluster?: { workers: number; one: LoadResult; cluster: LoadResult; warnings: { count: number; first: string[] } } | { skipped: string };
}

export interface Ratio {
  name: "exchange/healthz" | "exchange/bare-jose-sign" | "verify/bare-jose-verify" | "storm/unloaded" | "cluster/one-process";
  alg: Alg;
  value: number;
}

export interface BenchReport {
  startedAt: string;
  seconds: number;
  machine: { cores: number; cpu: string; node: string; platform: string; loadAverageAtStart: number };
  commit: string;
  setup: {
    server: string;
    storage: string;
    runtime: string;
    loadTool: string;
    connections: number;
    warmupSeconds: number;
    runs: number;
    runSeconds: number;
    quick: boolean;
    sessions: { users: number; perUser: number; total: number } | null;
    /** setting → [default, bench]: raised through `tessera projects update` on the running server. */
    rateLimits: Record<string, [number, number]> | null;
  };
  ratios: Ratio[];
  healthz?: LoadResult;
  algorithms: Partial<Record<Alg, AlgResults>>;
  /** Failed requests in all scenarios (non-2xx, socket errors): any makes the bench fail. */
  failedRequests: number;
  /** Lines the server logged (LOG_LEVEL=warn) after it was ready. */
  serverWarnings: { count: number; first: string[] };
  /** The server's own count of what it refused, from its /metrics at the end. */
  serverRefusals: ServerRefusals;
}

export function ratios(healthz: LoadResult | undefined, algorithms: BenchReport["algorithms"]): Ratio[] {
  const out: Ratio[] = [];
  const add = (name: Ratio["name"], alg: Alg, numerator: number | undefined, denominator: number | undefined) => {
    if (numerator !== undefined && denominator) out.push({ name, alg, value: numerator / denominator });
  };
  for (const [alg, r] of Object.entries(algorithms) as [Alg, AlgResults][]) {
    const exchange = r.exchangeToken?.rps.median;
    add("exchange/healthz", alg, exchange, healthz?.rps.median);
    add("exchange/bare-jose-sign", alg, exchange, r.jose?.sign.median);
    add("verify/bare-jose-verify", alg, r.verify?.ours.median, r.verify?.bare.median);
    add("storm/unloaded", alg, r.storm?.exchange.rps.median, exchange);
    if (r.cluster && "workers" in r.cluster) add("cluster/one-process", alg, r.cluster.cluster.rps.median, r.cluster.one.rps.median);
  }
  return out;
}

const RATIO_LABELS: Record<Ratio["name"], string> = {
  "exchange/healthz": "exchange (session_token) / GET /healthz",
  "exchange/bare-jose-sign": "exchange (session_token) / bare jose SignJWT",
  "verify/bare-jose-verify": "tessera/verify authenticateJwt / bare jose.jwtVerify",
  "storm/unloaded": "exchange in a 64-way login storm / unloaded",
  "cluster/one-process": "exchange on WEB_CONCURRENCY=2 / one process (runs in turn)",
};

const count = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const spread = (m: Measured, format: (n: number) => string) => (m.runs.length > 1 ? `${format(m.median)} (${format(m.min)}–${format(m.max)})` : format(m.median));

function row(what: string, alg: string, rate: Measured, load?: LoadResult): string {
  const latency = (pick: (load: LoadResult) => Measured) => (!load ? "" : load.requests === 0 ? "–" : spread(pick(load), ms));
  const cells = [what, alg, spread(rate, count), latency((l) => l.p50Ms), latency((l) => l.p99Ms), load ? String(load.non2xx + load.socketErrors) : ""];
  return `| ${cells.join(" | ")} |`;
}

export function formatReport(report: BenchReport): string {
  const { machine, setup } = report;
  const algs = Object.keys(report.algorithms) as Alg[];
  const lines = [
    `# npm run bench — ${report.startedAt}${setup.quick ? " (--quick: one short run each, a smoke test, not a measurement)" : ""}`,
    "",
    `- machine: ${machine.cores} cores (${machine.cpu}), node ${machine.node}, ${machine.platform}; load average ${machine.loadAverageAtStart.toFixed(1)} at start (a shared machine: compare the ratios, not absolute figures across runs)`,
    `- commit: ${report.commit}`,
    `- server: ${setup.server}; ${setup.storage}; ${setup.runtime}`,
    `- load: ${setup.loadTool}, from its own process; ${setup.connections} connections unless said; ${setup.warmupSeconds ? `${setup.warmupSeconds} s warm-up, then ` : ""}${setup.runs} run${setup.runs > 1 ? "s" : ""} × ${setup.runSeconds} s; median (min–max)`,
  ];
  if (setup.sessions) lines.push(`- sessions: ${setup.sessions.total} (${setup.sessions.users} users × ${setup.sessions.perUser}), made by sign-up and login through the API`);
  if (setup.rateLimits) {
    const raised = Object.entries(setup.rateLimits).map(([name, [was, now]]) => `${name} ${count(was)} → ${count(now)}`);
    lines.push(`- rate limits: raised with \`tessera projects update --set rateLimits.…\` on the running server, so the bench measures the work, not the limiter: ${raised.join(", ")}`);
  }
  if (report.ratios.length > 0) {
    lines.push("", "Ratios (medians of this run):", "", `| ratio | ${algs.join(" | ")} |`, `| --- |${algs.map(() => " ---: |").join("")}`);
    for (const name of Object.keys(RATIO_LABELS) as Ratio["name"][]) {
      const cells = algs.map((alg) => report.ratios.find((r) => r.name === name && r.alg === alg)?.value.toFixed(2) ?? "–");
      if (cells.some((cell) => cell !== "–")) lines.push(`| ${RATIO_LABELS[name]} | ${cells.join(" | ")} |`);
    }
  }
  lines.push("", "| what | alg | per second | p50 ms | p99 ms | failed |", "| --- | --- | ---: | ---: | ---: | ---: |");
  if (report.healthz) lines.push(row("`GET /healthz` (the HTTP ceiling)", "–", report.healthz.rps, report.healthz));
  for (const alg of algs) {
    const r = report.algorithms[alg]!;
    if (r.jose) lines.push(row(`bare jose \`SignJWT\`, ${r.jose.concurrency} in flight`, alg, r.jose.sign), row(`bare jose \`jwtVerify\`, ${r.jose.concurrency} in flight`, alg, r.jose.verify));
    if (r.exchangeToken) lines.push(row("exchange by `session_token`", alg, r.exchangeToken.rps, r.exchangeToken));
    if (r.exchangeJwt) lines.push(row("exchange by `session_jwt`", alg, r.exchangeJwt.rps, r.exchangeJwt));
    if (r.verify) lines.push(row(`\`tessera/verify\` \`authenticateJwt\` (local), ${r.verify.concurrency} in flight`, alg, r.verify.ours), row(`bare \`jose.jwtVerify\` of the same token`, alg, r.verify.bare));
    if (r.login) lines.push(row(`login \`POST /v1/passwords/authenticate\`, ${r.login.connections} in flight`, alg, r.login.rps, r.login));
    if (r.storm) lines.push(row(`exchange by \`session_token\` during a ${r.storm.logins.connections}-way login storm`, alg, r.storm.exchange.rps, r.storm.exchange), row(`the storm's logins`, alg, r.storm.logins.rps, r.storm.logins));
    if (r.cluster && "workers" in r.cluster) {
      const { workers, one, cluster } = r.cluster;
      lines.push(row("exchange by `session_token`, one process (in turn with the cluster)", alg, one.rps, one), row(`exchange by \`session_token\`, \`WEB_CONCURRENCY=${workers}\``, alg, cluster.rps, cluster));
    } else if (r.cluster) lines.push(`| cluster: ${r.cluster.skipped} | ${alg} | | | | |`);
  }
  const listed = (counts: Record<string, number>) => Object.entries(counts).map(([what, n]) => `${what} × ${n}`).join(", ") || "none";
  const { non2xx, rateLimited } = report.serverRefusals;
  lines.push(
    "",
    `${report.failedRequests} failed requests. The server's own count (/metrics): non-2xx answers ${listed(non2xx)}; rate-limit refusals ${listed(rateLimited)}; warnings logged ${report.serverWarnings.count}${report.serverWarnings.first.length ? ` (${report.serverWarnings.first.join(" / ")})` : ""}. ${report.seconds.toFixed(0)} s in all.`,
  );
  return lines.join("\n");
}
