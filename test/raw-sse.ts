import { expect } from "vitest";

/** The raw text of a revocation stream, to see the SSE fields the event reader does not keep (retry). */
export async function openRawStream(url: string, authorization: string) {
  const response = await fetch(`${url}/v1/sessions/revocations/stream`, { headers: { authorization } });
  expect(response.status).toBe(200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const done: Promise<"clean" | "cut"> = (async () => {
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) return "clean";
        text += chunk.value;
      }
    } catch {
      return "cut";
    }
  })();
  const within = <T>(ms: number, promise: Promise<T>) => Promise.race([promise, new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), ms))]);
  return {
    /** Finds the request's line in the server log. */
    requestId: response.headers.get("x-request-id"),
    get text() {
      return text;
    },
    async until(pattern: RegExp, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in the stream within ${ms} ms: ${text}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    ended: (ms: number) => within(ms, done),
  };
}
