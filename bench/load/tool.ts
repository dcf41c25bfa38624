import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { runChild } from "../child.js";
import { createWrk } from "./wrk.js";

/** One kind of request sent over and over: the bodies are cycled through (one per session, say). */
export interface LoadSpec {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  /** Empty for a GET. */
  bodies: string[];
  connections: number;
  seconds: number;
}

/** One run of the load tool, as it measured it. */
export interface LoadRun {
  requests: number;
  seconds: number;
  /** Responses per second, non-2xx included (they are counted apart and fail the bench). */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  /** Connect, read and write errors and timeouts. */
  socketErrors: number;
}

export interface LoadTool {
  name: "wrk" | "autocannon";
  /** Name and version, for the report. */
  describe: string;
  run(spec: LoadSpec, signal: AbortSignal): Promise<LoadRun>;
}

function installedWrk(): string | null {
  const probe = spawnSync("wrk", ["--version"], { encoding: "utf8" });
  if (probe.error) return null; // ENOENT: not on PATH
  return /^wrk (\S+)/m.exec(`${probe.stdout}${probe.stderr}`)?.[1] ?? "unknown version";
}

/**
 * wrk when installed: C, one thread, it costs the machine far less per request than a Node load tool,
 * and the measured server shares the same two cores. Else autocannon, in a child process of its own.
 */
export function pickLoadTool(wanted: "wrk" | "autocannon" | undefined, scratchDir: string): LoadTool {
  const wrkVersion = wanted === "autocannon" ? null : installedWrk();
  if (wrkVersion) return createWrk(wrkVersion, scratchDir);
  if (wanted === "wrk") throw new Error("--tool wrk: wrk is not installed (apt-get install -y wrk), or leave out --tool to use autocannon");
  const { version } = createRequire(import.meta.url)("autocannon/package.json") as { version: string };
  return {
    name: "autocannon",
    describe: `autocannon ${version} (${wanted ? "--tool autocannon" : "wrk is not installed"}; a Node load tool's own ceiling is near the healthz rate on 2 cores)`,
    run: (spec, signal) => runChild<LoadRun>("load/autocannon-child.ts", spec, { signal, timeoutMs: spec.seconds * 1000 + 30_000 }),
  };
}
