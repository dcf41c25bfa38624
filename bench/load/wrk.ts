import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runProgram } from "../child.js";
import type { LoadRun, LoadSpec, LoadTool } from "./tool.js";

const luaString = (text: string) => {
  if (text.includes("]==]")) throw new Error("a request body cannot contain ]==]");
  return `[==[${text}]==]`;
};

/**
 * A wrk script that sends `spec`'s bodies in turn (prebuilt once per thread, so wrk formats nothing
 * per request) and prints its own result line: counts and latency percentiles in microseconds,
 * which wrk's human summary rounds.
 */
function script(spec: LoadSpec): string {
  const { pathname, search } = new URL(spec.url);
  const headers = Object.entries(spec.headers)
    // `[ [==[…]==] ]`, spaced: `[[` would open a long string
    .map(([name, value]) => `[ ${luaString(name)} ] = ${luaString(value)}`)
    .join(", ");
  const bodies = spec.bodies.length > 0 ? spec.bodies : [""];
  return `local bodies = {
${bodies.map((body) => `  ${luaString(body)},`).join("\n")}
}
local requests = {}
local i = 0
init = function(args)
  for k, body in ipairs(bodies) do
    local headers = { ${headers} }
    requests[k] = wrk.format(${luaString(spec.method)}, ${luaString(pathname + search)}, headers, body ~= "" and body or nil)
  end
end
request = function()
  i = i % #requests + 1
  return requests[i]
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format("BENCH_RESULT %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
`;
}

export function createWrk(version: string, scratchDir: string): LoadTool {
  let scripts = 0;
  return {
    name: "wrk",
    describe: `wrk ${version}, 1 thread`,
    async run(spec: LoadSpec, signal: AbortSignal): Promise<LoadRun> {
      const file = join(scratchDir, `wrk-${++scripts}.lua`);
      writeFileSync(file, script(spec));
      // --timeout 10s: a slow answer (a login storm's queue) is a latency, not a socket error.
      const args = ["-t1", `-c${spec.connections}`, `-d${spec.seconds}s`, "--timeout", "10s", "-s", file, spec.url];
      const stdout = await runProgram("wrk", args, { signal, timeoutMs: spec.seconds * 1000 + 30_000 });
      const line = /^BENCH_RESULT (.+)$/m.exec(stdout)?.[1];
      if (!line) throw new Error(`wrk printed no result line:\n${stdout}`);
      const [requests, durationUs, p50Us, p99Us, non2xx, socketErrors] = line.split(" ").map(Number) as [number, number, number, number, number, number];
      const seconds = durationUs / 1e6;
      return { requests, seconds, rps: requests / seconds, p50Ms: p50Us / 1000, p99Ms: p99Us / 1000, non2xx, socketErrors };
    },
  };
}
