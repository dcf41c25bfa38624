import type { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { feedSince, type FeedEvent } from "../../domain/feed.js";
import type { DomainDeps } from "../../domain/ports.js";
import type { AppEnv } from "../context.js";
import type { DrainSignal } from "../drain.js";

/** Fallback when a Redis notification was lost: every stream re-reads Postgres this often. */
export const FEED_POLL_MS = 5_000;
const KEEPALIVE_MS = 15_000;
/** Sent when the server drains: EventSource clients reconnect (to another instance) after this long. */
export const DRAIN_RETRY_MS = 1_000;

const wire = (event: FeedEvent) =>
  event.type === "session.revoked"
    ? { session_id: event.sessionId, user_id: event.userId, revoked_at: event.at.toISOString() }
    : { user_id: event.userId, not_before: event.notBefore.toISOString() };

function lastEventId(header: string | undefined): number {
  const id = Number(header);
  return Number.isSafeInteger(id) && id > 0 ? id : 0;
}

/**
 * GET /v1/sessions/revocations/stream: server-sent events of session revocations and user changes,
 * resumable with Last-Event-ID. It first replays what happened within the JWT lifetime, then says
 * `ready`, then streams live: woken by the feed notifier, with a periodic poll as the safety net.
 */
export function registerRevocationStream(app: Hono<AppEnv>, deps: Pick<DomainDeps, "store" | "clock" | "feed"> & { drain: DrainSignal }, pollMs = FEED_POLL_MS) {
  app.get("/v1/sessions/revocations/stream", (c) => {
    const project = c.get("project");
    let after = lastEventId(c.req.header("last-event-id") ?? c.req.query("last_event_id"));
    c.header("Cache-Control", "no-store");
    c.header("X-Accel-Buffering", "no"); // proxies must not buffer the stream
    return streamSSE(c, async (stream) => {
      let wake: (() => void) | null = null;
      let pending = true;
      const unsubscribe = deps.feed.subscribe(project.projectId, () => {
        pending = true;
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      // A drain ends the stream at once, so an idle subscriber never holds a shutdown.
      const ended = () => stream.aborted || deps.drain.draining;
      const onDrain = () => wake?.();
      deps.drain.signal.addEventListener("abort", onDrain);
      const flush = async () => {
        pending = false;
        for (let events = await feedSince(deps, project, after); events.length > 0; events = await feedSince(deps, project, after)) {
          for (const event of events) {
            await stream.writeSSE({ id: String(event.id), event: event.type, data: JSON.stringify(wire(event)) });
            after = event.id;
          }
        }
      };
      try {
        await flush();
        await stream.writeSSE({ event: "ready", data: JSON.stringify({ jwt_lifetime_seconds: project.settings.jwtLifetimeSeconds, poll_ms: pollMs }) });
        let idleSince = Date.now();
        while (!ended()) {
          if (!pending) {
            let timer: NodeJS.Timeout | undefined;
            await new Promise<void>((resolve) => {
              wake = resolve;
              timer = setTimeout(resolve, pollMs);
            });
            clearTimeout(timer);
            wake = null;
          }
          if (ended()) break;
          const before = after;
          await flush();
          if (after !== before) idleSince = Date.now();
          else if (Date.now() - idleSince >= KEEPALIVE_MS) {
            await stream.write(": keepalive\n\n");
            idleSince = Date.now();
          }
        }
        if (deps.drain.draining) await stream.write(`retry: ${DRAIN_RETRY_MS}\n\n`);
      } finally {
        unsubscribe();
        deps.drain.signal.removeEventListener("abort", onDrain);
      }
    });
  });
}
