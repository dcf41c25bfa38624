/**
 * The verifier's subscription to GET /v1/sessions/revocations/stream: a fetch-based SSE reader
 * (Node 20 has no EventSource) that reconnects with backoff and resumes with Last-Event-ID.
 */
export interface FeedHandlers {
  onRevoked(sessionId: string, revokedAt: Date): void;
  onUserChanged(userId: string, notBefore: Date): void;
  onReady(jwtLifetimeSeconds: number): void;
  onDisconnected(): void;
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 30_000;

export function startFeed(options: { url: string; authorization: string; fetch: typeof fetch }, handlers: FeedHandlers): { stop(): void } {
  let lastEventId = "";
  let stopped = false;
  let controller: AbortController | null = null;
  let backoff = BACKOFF_MIN_MS;

  const dispatch = (event: string, data: string) => {
    const body = JSON.parse(data) as Record<string, string | number>;
    if (event === "session.revoked") handlers.onRevoked(String(body.session_id), new Date(String(body.revoked_at)));
    else if (event === "user.changed") handlers.onUserChanged(String(body.user_id), new Date(String(body.not_before)));
    else if (event === "ready") {
      backoff = BACKOFF_MIN_MS;
      handlers.onReady(Number(body.jwt_lifetime_seconds));
    }
  };

  const readOnce = async () => {
    controller = new AbortController();
    const response = await options.fetch(`${options.url}/v1/sessions/revocations/stream`, {
      headers: { authorization: options.authorization, accept: "text/event-stream", ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
      signal: controller.signal,
    });
    if (!response.ok || !response.body) throw new Error(`revocation stream answered ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        let event = "message";
        let data = "";
        let id: string | null = null;
        for (const line of buffer.slice(0, end).split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data += line.slice(5).trim();
          else if (line.startsWith("id:")) id = line.slice(3).trim();
        }
        buffer = buffer.slice(end + 2);
        if (data) dispatch(event, data);
        if (id) lastEventId = id; // only after the event is applied: a resume never skips it
      }
    }
  };

  void (async () => {
    while (!stopped) {
      try {
        await readOnce();
      } catch {
        // disconnected or refused: fall through to the backoff
      }
      if (stopped) return;
      handlers.onDisconnected();
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      await new Promise((resolve) => setTimeout(resolve, jittered));
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  })();

  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
