import { readdirSync, readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { createTestEnvironment, type TestEnvironment } from "./helpers.js";
import { assertBuilt, startServer } from "./server-process.js";

/** Each thread's nice value, read from Linux's /proc (field 19 of stat; the name before it may hold spaces). */
function niceOfThreads(pid: number): Map<number, number> {
  const nice = new Map<number, number>();
  for (const entry of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${entry}/stat`, "utf8");
    nice.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]));
  }
  return nice;
}

describe.skipIf(process.platform !== "linux")("the event loop's priority over the process's other threads (Linux)", () => {
  let environment: TestEnvironment | undefined;
  let stop: (() => Promise<unknown>) | undefined;
  afterEach(async () => {
    await stop?.();
    await environment?.cleanup();
  });

  const serve = async (extra: Record<string, string>) => {
    assertBuilt();
    environment = await createTestEnvironment({ UV_THREADPOOL_SIZE: "5", ...extra });
    const { process: server, url } = await startServer(environment.env);
    stop = () => server.stop();
    return { pid: server.pid, url };
  };

  it("runs every thread but the event loop's (the libuv pool among them) 10 nice levels lower, and still answers", async () => {
    const { pid, url } = await serve({});
    const nice = niceOfThreads(pid);
    const loop = nice.get(pid)!;
    const others = [...nice].filter(([thread]) => thread !== pid).map(([, value]) => value);
    expect(others.length).toBeGreaterThanOrEqual(5); // at least the 5 pool threads
    expect(others).toEqual(others.map(() => Math.min(19, loop + 10)));
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
  });

  it("leaves every thread at the event loop's priority with HELPER_THREAD_NICE=0", async () => {
    const { pid } = await serve({ HELPER_THREAD_NICE: "0" });
    const nice = niceOfThreads(pid);
    expect(new Set(nice.values())).toEqual(new Set([nice.get(pid)]));
  });
});
