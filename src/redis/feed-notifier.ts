import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { FeedNotifier, Logger } from "../domain/ports.js";

/** The revocation feed's channel family; project changes (store/project-cache.ts) use PROJECT_CHANGES_CHANNEL. */
export const FEED_CHANNEL = "tessera:feed:";
export const PROJECT_CHANGES_CHANNEL = "tessera:project-changes:";
const PUBLISH_ATTEMPTS = 5;
const RETRY_BASE_MS = 100;

class Listeners {
  private readonly byProject = new Map<string, Set<() => void>>();
  add(projectId: string, listener: () => void): () => void {
    const set = this.byProject.get(projectId) ?? new Set();
    set.add(listener);
    this.byProject.set(projectId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.byProject.delete(projectId);
    };
  }
  fire(projectId: string): void {
    for (const listener of this.byProject.get(projectId) ?? []) listener();
  }
}

/** In-process twin: correct for one instance (the embedded default). */
export function createInProcessFeedNotifier(): FeedNotifier {
  const listeners = new Listeners();
  return {
    notify: (projectId) => setImmediate(() => listeners.fire(projectId)),
    subscribe: (projectId, listener) => listeners.add(projectId, listener),
    close: async () => {},
  };
}

/**
 * Redis pub/sub across instances. Local listeners are fired directly, so this instance's streams never
 * wait on Redis (its own messages, tagged with the instance id, are then ignored). A failed publish is
 * retried with backoff; if Redis stays down, the other instances' periodic poll of Postgres still
 * delivers (only later).
 */
export function createRedisFeedNotifier(publisher: Redis, logger: Logger, channelPrefix = FEED_CHANNEL): FeedNotifier {
  const listeners = new Listeners();
  const instanceId = randomUUID();
  const subscriber = publisher.duplicate({ enableOfflineQueue: true });
  subscriber.on("error", () => {});
  subscriber.on("pmessage", (_pattern: string, channel: string, sender: string) => {
    if (sender !== instanceId) listeners.fire(channel.slice(channelPrefix.length));
  });
  void subscriber.psubscribe(`${channelPrefix}*`).catch((error: unknown) => logger.warn({ err: error }, "feed subscription failed; streams fall back to polling"));

  const publish = async (projectId: string) => {
    for (let attempt = 1; attempt <= PUBLISH_ATTEMPTS; attempt++) {
      try {
        await publisher.publish(`${channelPrefix}${projectId}`, instanceId);
        return;
      } catch (error) {
        if (attempt === PUBLISH_ATTEMPTS) logger.warn({ err: error, project_id: projectId }, "feed publish failed; streams will poll");
        else await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 2 ** attempt));
      }
    }
  };

  return {
    notify(projectId) {
      setImmediate(() => listeners.fire(projectId));
      void publish(projectId);
    },
    subscribe: (projectId, listener) => listeners.add(projectId, listener),
    async close() {
      subscriber.disconnect();
    },
  };
}
