import autocannon from "autocannon";
import { percentile } from "../stats.js";
import type { LoadRun, LoadSpec } from "./tool.js";

/**
 * The load where wrk is not installed: autocannon in a process of its own (runChild), so it never
 * shares an event loop with the bench. Latencies come from its per-response times (fractions of a
 * millisecond), not from its histogram, which keeps whole milliseconds.
 */
const spec = JSON.parse(process.argv[2]!) as LoadSpec;
const { pathname, search } = new URL(spec.url);
const requests = (spec.bodies.length > 0 ? spec.bodies : [undefined]).map((body) => ({ method: spec.method, path: pathname + search, headers: spec.headers, ...(body === undefined ? {} : { body }) }));

let latencies = new Float64Array(1 << 16);
let count = 0;
let non2xx = 0;
let clients = 0;
const instance = autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.seconds,
  timeout: 10,
  requests,
  // Each connection starts at its own place in the bodies, so the first requests do not all name one session.
  setupClient: (client) => {
    const offset = Math.floor(((clients++ % spec.connections) * requests.length) / spec.connections);
    client.setRequests([...requests.slice(offset), ...requests.slice(0, offset)]);
  },
});
instance.on("response", (_client, statusCode, _bytes, responseTimeMs) => {
  if (count === latencies.length) {
    const grown = new Float64Array(latencies.length * 2);
    grown.set(latencies);
    latencies = grown;
  }
  latencies[count++] = responseTimeMs;
  if (statusCode < 200 || statusCode >= 300) non2xx++;
});
const result = await instance;
const sorted = latencies.subarray(0, count).sort();
const run: LoadRun = {
  requests: count,
  seconds: result.duration,
  rps: count / result.duration,
  p50Ms: percentile(sorted, 50),
  p99Ms: percentile(sorted, 99),
  non2xx,
  socketErrors: result.errors,
};
process.stdout.write(`${JSON.stringify(run)}\n`);
