/** Reads server-sent events from a fetch Response, for tests. */
export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

export function sseReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const queue: SseMessage[] = [];

  const parse = (block: string): SseMessage | null => {
    const message: SseMessage = { data: "" };
    let any = false;
    for (const line of block.split("\n")) {
      if (line.startsWith(":") || line === "") continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") message.data += (message.data ? "\n" : "") + value;
      else if (field === "id") message.id = value;
      else if (field === "event") message.event = value;
      any = true;
    }
    return any ? message : null;
  };

  // A read that outlives its caller's timeout stays pending and is taken up by the next call: read()
  // once more instead would leave the chunk it delivers to a promise nobody awaits.
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;

  return {
    /** The next event, or throws after `timeoutMs`. */
    async next(timeoutMs = 5000): Promise<SseMessage> {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new Error("no SSE event in time");
        pending ??= reader.read();
        let timer: NodeJS.Timeout | undefined;
        const chunk = await Promise.race([pending, new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), remaining)))]);
        clearTimeout(timer);
        if (chunk === null) continue;
        pending = null;
        if (chunk.done) throw new Error("stream ended");
        buffer += decoder.decode(chunk.value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const message = parse(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (message) queue.push(message);
        }
      }
      return queue.shift()!;
    },
    async close() {
      await reader.cancel().catch(() => {});
    },
  };
}
