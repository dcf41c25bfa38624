import type { FeedNotifier, RateLimiter } from "../domain/ports.js";
import type { Metrics } from "./metrics.js";

/**
 * Ports wrapped so they count what they do, applied by the composition root: the domain keeps
 * calling its ports and never learns that metrics exist.
 */

/** Counts refusals by rule name: a consume over the limit, or a check that finds the key blocked. */
export function countingRateLimiter(limiter: RateLimiter, metrics: Pick<Metrics, "countRateLimitRefusal">): RateLimiter {
  return {
    async consume(rule, key) {
      const verdict = await limiter.consume(rule, key);
      if (!verdict.allowed) metrics.countRateLimitRefusal(rule.name);
      return verdict;
    },
    consumeShared(rule, key) {
      const verdict = limiter.consumeShared(rule, key);
      if (!verdict.allowed) metrics.countRateLimitRefusal(rule.name);
      return verdict;
    },
    async blockedFor(rule, key) {
      const seconds = await limiter.blockedFor(rule, key);
      if (seconds > 0) metrics.countRateLimitRefusal(rule.name);
      return seconds;
    },
    block: (rule, key, seconds) => limiter.block(rule, key, seconds),
    refund: (rule, key) => limiter.refund(rule, key),
    reset: (rule, key) => limiter.reset(rule, key),
  };
}

/**
 * Counts open subscriptions. Each revocation stream holds exactly one for its lifetime, so this is the
 * number of open streams; unsubscribing twice (abort, then the stream's own cleanup) counts once.
 */
export function countingFeedNotifier(feed: FeedNotifier, metrics: Pick<Metrics, "addFeedSubscriber">): FeedNotifier {
  return {
    notify: (projectId) => feed.notify(projectId),
    subscribe(projectId, listener) {
      const unsubscribe = feed.subscribe(projectId, listener);
      const gone = metrics.addFeedSubscriber();
      return () => {
        gone();
        unsubscribe();
      };
    },
    close: () => feed.close(),
  };
}
