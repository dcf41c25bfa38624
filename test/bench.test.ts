import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pickLoadTool } from "../bench/load/tool.js";
import type { BenchReport } from "../bench/report.js";
import { ROOT } from "./server-process.js";

/**
 * `npm run bench -- --quick --json` end to end: the real server process, the CLI setting the limits,
 * seeding through the API, the load tool and crypto children. It asserts the report's shape and that
 * each figure was measured (> 0), never how fast: speed is the bench's to report, not a test's.
 * It runs on the real services when DATABASE_URL and REDIS_URL are set, like the bench itself.
 */
function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", "bench", "--", "--quick", "--json", ...args], { cwd: ROOT, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const wrkInstalled = !spawnSync("wrk", ["--version"]).error;
const realServices = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);

const positive = (m: { median: number; min: number; max: number; runs: number[] }) => {
  expect(m.runs.length).toBe(1); // --quick: one run each
  expect(m.median).toBeGreaterThan(0);
  expect(m.min).toBeLessThanOrEqual(m.max);
};

describe("npm run bench", () => {
  it("--quick --json measures the ceiling, the exchange and local verification and prints one JSON object", async () => {
    const { code, stdout, stderr } = await bench(["--scenario", "healthz,exchange-token,verify,cluster", "--alg", "ES256"]);
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as BenchReport; // stdout holds only the report
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.node).toBe(process.version);
    expect(report.commit).toMatch(/^[0-9a-f]{7,}/);
    expect(report.setup.storage).toMatch(realServices ? /^real services: Postgres/ : /^embedded default/);
    expect(report.setup.rateLimits?.exchangesPerSessionPerMinute).toEqual([120, 1_000_000]);
    expect(report.setup.sessions?.total).toBeGreaterThan(0);
    expect(report.failedRequests).toBe(0);

    for (const load of [report.healthz!, report.algorithms.ES256!.exchangeToken!]) {
      expect(load.connections).toBe(32);
      expect(load.requests).toBeGreaterThan(0);
      positive(load.rps);
      positive(load.p50Ms);
      positive(load.p99Ms);
    }
    const verify = report.algorithms.ES256!.verify!;
    positive(verify.ours);
    positive(verify.bare);
    expect(Object.keys(report.algorithms)).toEqual(["ES256"]);
    // The cluster runs only on the real services: 2 workers on the same database, in turn with one process.
    const cluster = report.algorithms.ES256!.cluster!;
    if (realServices) {
      if (!("workers" in cluster)) throw new Error(`cluster scenario did not run: ${JSON.stringify(cluster)}`);
      expect(cluster.workers).toBe(2);
      for (const load of [cluster.one, cluster.cluster]) {
        expect(load.requests).toBeGreaterThan(0);
        positive(load.rps);
      }
      expect(stderr).toMatch(/stopped the cluster \(pid \d+\): exit 0/); // SIGTERM drained every worker
    } else {
      expect(cluster).toEqual({ skipped: expect.stringMatching(/embedded default serves one process/) });
    }
    const expectedRatios = ["ES256 exchange/healthz", "ES256 verify/bare-jose-verify", ...(realServices ? ["ES256 cluster/one-process"] : [])];
    expect(report.ratios.map((r) => `${r.alg} ${r.name}`).sort()).toEqual(expectedRatios.sort());
    for (const ratio of report.ratios) expect(ratio.value).toBeGreaterThan(0);
    // progress went to stderr, and the limits were set by the CLI on the running server
    expect(stderr).toMatch(/rate limits raised so the bench measures the work/);
  }, 120_000);

  // The instrument itself, against a plain HTTP server: every body is sent in turn with the headers,
  // and a non-2xx answer is counted as one (the bench fails a run that has any).
  for (const name of ["autocannon", "wrk"] as const) {
    it.skipIf(name === "wrk" && !wrkInstalled)(`${name} cycles the bodies, sends the headers and counts non-2xx answers`, async () => {
      const seen = new Map<string, number>();
      const server = createServer((req, res) => {
        let body = "";
        req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
        req.on("end", () => {
          seen.set(body, (seen.get(body) ?? 0) + 1);
          res.statusCode = req.headers.authorization === "Basic dGVzdA==" && body !== '{"n":3}' ? 200 : 404;
          res.end("{}");
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const scratch = mkdtempSync(join(tmpdir(), "tessera-bench-test-"));
      try {
        const tool = pickLoadTool(name, scratch);
        expect(tool.name).toBe(name);
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/x`;
        const run = await tool.run({ url, method: "POST", headers: { authorization: "Basic dGVzdA==", "content-type": "application/json" }, bodies: ['{"n":1}', '{"n":2}', '{"n":3}'], connections: 4, seconds: 1 }, new AbortController().signal);
        expect([...seen.keys()].sort()).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
        expect(run.requests).toBeGreaterThan(0);
        expect(run.rps).toBeGreaterThan(0);
        expect(run.non2xx).toBeGreaterThan(0); // the third body's answers
        expect(run.non2xx).toBeLessThan(run.requests);
        expect(run.socketErrors).toBe(0);
        expect(run.p99Ms).toBeGreaterThanOrEqual(run.p50Ms);
      } finally {
        server.close();
        rmSync(scratch, { recursive: true, force: true });
      }
    });
  }

  it("refuses an unknown scenario with the usage", async () => {
    const { code, stderr } = await bench(["--scenario", "nope"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--scenario: unknown nope/);
  });
});
