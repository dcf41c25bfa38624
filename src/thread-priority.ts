import { randomFill } from "node:crypto";
import { readdirSync } from "node:fs";
import { getPriority, setPriority } from "node:os";

/** The lowest priority Linux has (nice 19). */
const LOWEST = 19;

/**
 * Lowers every thread of this process except the event loop's by `step` nice levels (Linux only; a
 * step of 0, or another platform, changes nothing). Why: an RS256 exchange signs on libuv's pool while
 * its own work runs on the event loop. With both at the same priority, the scheduler shares 2 cores
 * among the loop and the signing threads alike: the loop falls behind, the pool then runs dry waiting
 * for it, and a core idles (35 % of the machine in wrk runs of the exchange). At a lower priority the
 * pool takes only what the loop leaves. It also keeps argon2 (same pool) from starving the exchange.
 * Raising a nice value needs no privilege; threads are never raised. Returns how many were lowered.
 */
export async function yieldHelperThreadsToEventLoop(step: number): Promise<number> {
  if (step <= 0 || process.platform !== "linux") return 0;
  // libuv starts its pool at the first job: make sure its threads exist before they are listed.
  await new Promise((resolve) => randomFill(Buffer.alloc(1), resolve));
  // On Linux a process id names its main thread, and setpriority() on a thread id affects that thread alone.
  const target = Math.min(LOWEST, getPriority(process.pid) + step);
  let lowered = 0;
  for (const entry of readdirSync("/proc/self/task")) {
    const threadId = Number(entry);
    if (threadId === process.pid) continue;
    try {
      if (getPriority(threadId) >= target) continue;
      setPriority(threadId, target);
      lowered++;
    } catch {
      // The thread ended meanwhile: nothing to lower.
    }
  }
  return lowered;
}
