import { Redis } from "ioredis";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { FeedNotifier } from "../../src/domain/ports.js";
import { createInProcessFeedNotifier, createRedisFeedNotifier } from "../../src/redis/feed-notifier.js";
import { REDIS_URL } from "../helpers.js";

const silent = pino({ level: "silent" });
const waitFor = async (condition: () => boolean, ms = 2000) => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** One contract, two implementations: every FeedNotifier must pass it. */
function contract(name: string, make: () => Promise<{ a: FeedNotifier; b: FeedNotifier; close(): Promise<void> }>) {
  describe(`FeedNotifier contract: ${name}`, () => {
    let close: (() => Promise<void>) | undefined;
    afterEach(async () => {
      await close?.();
    });

    it("delivers a notification to the project's subscribers, on this instance and others", async () => {
      const pair = await make();
      close = pair.close;
      let onA = 0;
      let onB = 0;
      pair.a.subscribe("project-1", () => onA++);
      pair.b.subscribe("project-1", () => onB++);
      // A subscription reaches Redis a moment after subscribe() (later on a loaded machine), and pub/sub
      // keeps nothing for late subscribers: notify until both have heard, as committed work would.
      const deadline = Date.now() + 5_000;
      while (!(onA >= 1 && onB >= 1) && Date.now() < deadline) {
        pair.a.notify("project-1");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(onA).toBeGreaterThanOrEqual(1);
      expect(onB).toBeGreaterThanOrEqual(1);
    });

    it("does not deliver another project's notifications, nor after unsubscribing", async () => {
      const pair = await make();
      close = pair.close;
      let other = 0;
      let gone = 0;
      let control = 0;
      pair.b.subscribe("project-2", () => other++);
      const unsubscribe = pair.b.subscribe("project-3", () => gone++);
      pair.b.subscribe("project-4", () => control++);
      unsubscribe();
      const deadline = Date.now() + 5_000;
      while (control < 1 && Date.now() < deadline) {
        pair.a.notify("project-3");
        pair.a.notify("project-4");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(control).toBeGreaterThanOrEqual(1);
      expect(other).toBe(0);
      expect(gone).toBe(0);
    });
  });
}

contract("in-process twin", async () => {
  // The twin is single-instance by design: "two instances" share it.
  const twin = createInProcessFeedNotifier();
  return { a: twin, b: twin, close: () => twin.close() };
});

describe.skipIf(!REDIS_URL)("with a real Redis (REDIS_URL)", () => {
  contract("Redis pub/sub", async () => {
    const clients = [new Redis(REDIS_URL!), new Redis(REDIS_URL!)];
    const [a, b] = clients.map((client) => createRedisFeedNotifier(client, silent)) as [FeedNotifier, FeedNotifier];
    return {
      a,
      b,
      async close() {
        await Promise.all([a.close(), b.close()]);
        for (const client of clients) client.disconnect();
      },
    };
  });
});

describe("Redis notifier while Redis is unreachable", () => {
  it("still wakes this instance's own subscribers at once", async () => {
    const dead = new Redis("redis://127.0.0.1:1", { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    dead.on("error", () => {});
    const notifier = createRedisFeedNotifier(dead, silent);
    try {
      let woken = 0;
      notifier.subscribe("project-1", () => woken++);
      const started = performance.now();
      notifier.notify("project-1");
      await waitFor(() => woken >= 1, 1000);
      expect(performance.now() - started).toBeLessThan(500); // not the streams' 5 s poll
    } finally {
      await notifier.close();
      dead.disconnect();
    }
  });
});
