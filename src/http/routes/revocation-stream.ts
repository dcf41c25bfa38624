import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import { feedSince, parseCursor, type FeedBatch, type FeedEvent } from "../../domain/feed.js";
import type { DomainDeps, FeedCursor, Logger } from "../../domain/ports.js";
import type { Project } from "../../domain/types.js";
import type { AppEnv } from "../context.js";
import type { DrainSignal } from "../drain.js";
import { errorExample, SESSION_ID, USER_ID } from "../examples.js";
import { errorContent, secured } from "./route-kit.js";

/** Fallback when a notification was lost (Redis down): every stream re-reads Postgres this often. */
export const FEED_POLL_MS = 5_000;
/** Committed events waiting behind an older open transaction are re-read this soon. */
const SETTLE_RETRY_MS = 50;
/** After a failed read (the database slow or away) the stream stays open and reads again this soon. */
const FAILED_READ_RETRY_MS = 1_000;
const KEEPALIVE_MS = 15_000;
/** Sent when the server drains: EventSource clients reconnect (to another instance) after this long. */
export const DRAIN_RETRY_MS = 1_000;

const wire = (event: FeedEvent) =>
  event.type === "session.revoked"
    ? { session_id: event.sessionId, user_id: event.userId, revoked_at: event.at.toISOString() }
    : { user_id: event.userId, not_before: event.notBefore.toISOString() };

const EXAMPLE = `id: 7419-1032
event: session.revoked
data: {"session_id":"${SESSION_ID}","user_id":"${USER_ID}","revoked_at":"2026-01-15T12:03:00.000Z"}

event: ready
data: {"jwt_lifetime_seconds":300,"poll_ms":5000}

id: 7431-1047
event: user.changed
data: {"user_id":"${USER_ID}","not_before":"2026-01-15T12:04:00.000Z"}

: keepalive

`;

/** Documented, not enforced: a cursor that does not parse replays the whole window, as before. */
const streamRoute = createRoute({
  method: "get",
  path: "/v1/sessions/revocations/stream",
  tags: ["sessions"],
  summary: "Server-sent events of session revocations and user changes",
  description:
    "Replays the events of the last JWT lifetime (plus clock skew), sends `ready` once the replay is complete, then streams live events; a `: keepalive` comment comes after 15 s of quiet. Events: `session.revoked` {session_id, user_id, revoked_at} (reject JWTs of that session at once) and `user.changed` {user_id, not_before} (treat that user's JWTs issued before not_before as too old). Each event's `id` is an opaque cursor: reconnect with `Last-Event-ID` (or `?last_event_id=`) to resume after it.",
  ...secured,
  request: {
    headers: z.object({ "last-event-id": z.string().optional().openapi({ description: "Resume after this event id", example: "7419-1032" }) }),
    query: z.object({ last_event_id: z.string().optional().openapi({ description: "Same as the Last-Event-ID header, for clients that cannot set it" }) }),
  },
  responses: {
    200: { description: "An event stream; it stays open", content: { "text/event-stream": { schema: z.string(), example: EXAMPLE } } },
    401: { description: "Missing or wrong credentials", ...errorContent({ unauthorized_credentials: errorExample("unauthorized_credentials") }) },
    503: { description: "The database did not answer the first read", ...errorContent({ service_unavailable: errorExample("service_unavailable") }) },
  },
});

type StreamDeps = Pick<DomainDeps, "store" | "clock" | "feed"> & { logger: Logger; drain: DrainSignal };

/**
 * GET /v1/sessions/revocations/stream: server-sent events of session revocations and user changes,
 * resumable with Last-Event-ID. It first replays what happened within the JWT lifetime, then says
 * `ready`, then streams live: woken by the feed notifier, with a periodic poll as the safety net.
 * The first read happens before the stream opens, so a database outage is a 503, not an empty stream.
 */
export function registerRevocationStream(app: OpenAPIHono<AppEnv>, deps: StreamDeps, pollMs = FEED_POLL_MS) {
  app.openapi(streamRoute, async (c) => {
    const project = c.get("project");
    let wake: (() => void) | null = null;
    let notified = false;
    // Subscribed before the first read: a revocation committing between that read and the stream's
    // start must wake the stream, not wait for the next poll.
    const unsubscribe = deps.feed.subscribe(project.projectId, () => {
      notified = true;
      wake?.();
    });
    let first: FeedBatch;
    try {
      first = await feedSince(deps, project, parseCursor(c.req.header("last-event-id") ?? c.req.query("last_event_id")));
    } catch (error) {
      unsubscribe();
      throw error;
    }
    c.header("Cache-Control", "no-store");
    c.header("X-Accel-Buffering", "no"); // proxies must not buffer the stream
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });
      // A drain ends the stream at once, so an idle subscriber never holds a shutdown.
      const ended = () => stream.aborted || deps.drain.draining;
      const onDrain = () => wake?.();
      deps.drain.signal.addEventListener("abort", onDrain);
      const sleep = (ms: number) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        }).finally(() => (wake = null));
      try {
        let state = await writeAll(stream, deps, project, first);
        // `ready` promises the replay is complete: wait out transactions that still hold events back.
        while ((state.pending || state.failed) && !ended()) {
          await sleep(state.failed ? FAILED_READ_RETRY_MS : SETTLE_RETRY_MS);
          state = await writeAll(stream, deps, project, { events: [], cursor: state.cursor, pending: true });
        }
        await stream.writeSSE({ event: "ready", data: JSON.stringify({ jwt_lifetime_seconds: project.settings.jwtLifetimeSeconds, poll_ms: pollMs }) });
        let quietSince = Date.now();
        while (!ended()) {
          if (!notified) await sleep(state.pending && !state.failed ? SETTLE_RETRY_MS : pollMs); // live, a failed read waits for the poll
          if (ended()) break;
          notified = false;
          const before = state.cursor;
          state = await writeAll(stream, deps, project, { events: [], cursor: state.cursor, pending: true });
          if (state.cursor !== before) quietSince = Date.now();
          else if (Date.now() - quietSince >= KEEPALIVE_MS) {
            await stream.write(": keepalive\n\n");
            quietSince = Date.now();
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

/**
 * Writes a batch and every batch that follows it at once; returns where to resume and whether rows
 * wait. A batch with no events and `pending` only says "read from `cursor`". A failed read ends the
 * run with `failed` and the stream stays open (the caller reads again): before this, a read that timed
 * out during the replay ended the stream, and a subscriber that did not reconnect lost every later event.
 * The verifier's deny-list holds meanwhile.
 */
async function writeAll(stream: SSEStreamingApi, deps: StreamDeps, project: Project, batch: FeedBatch): Promise<{ cursor: FeedCursor | null; pending: boolean; failed: boolean }> {
  for (;;) {
    for (const event of batch.events) await stream.writeSSE({ id: event.id, event: event.type, data: JSON.stringify(wire(event)) });
    if ((batch.events.length === 0 && !batch.pending) || stream.aborted) return { cursor: batch.cursor, pending: batch.pending, failed: false };
    try {
      const next = await feedSince(deps, project, batch.cursor);
      if (next.events.length === 0) return { cursor: next.cursor, pending: next.pending, failed: false };
      batch = next;
    } catch (error) {
      deps.logger.warn({ err: error, project_id: project.projectId }, "revocation stream read failed; retrying");
      return { cursor: batch.cursor, pending: batch.pending, failed: true };
    }
  }
}
