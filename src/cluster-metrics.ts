import type { Worker } from "node:cluster";
import { TesseraError } from "./errors.js";
import { addUpSnapshots, type Metrics, type MetricsSnapshot } from "./metrics/metrics.js";

/**
 * GET /metrics of a cluster. A scrape reaches one worker (the port is shared), and each worker counts
 * only its own requests: answered alone, every scrape would show another worker's counters, which
 * Prometheus reads as resets. So the worker asks the primary, the primary asks every worker for a
 * snapshot and adds them up, and the scrape sees one server. Messages travel on cluster's IPC channel.
 */

/** How long the primary waits for the workers' snapshots; one that has not answered by then is left out. */
const SNAPSHOT_TIMEOUT_MS = 2_000;
/** How long a worker waits for the primary's sum before the scrape fails (503). */
const SCRAPE_TIMEOUT_MS = 5_000;

type RelayMessage =
  /** worker → primary: a scrape reached me */
  | { type: "tessera:scrape"; id: number }
  /** primary → every worker */
  | { type: "tessera:snapshot-request"; id: number }
  /** worker → primary */
  | { type: "tessera:snapshot"; id: number; snapshot: MetricsSnapshot }
  /** primary → the worker that asked */
  | { type: "tessera:scrape-result"; id: number; text: string };

const relayMessage = (message: unknown) => message as Partial<RelayMessage> | null;

/** In a worker: its own metrics, except that a scrape returns the whole cluster's. */
export function clusterWideMetrics(own: Metrics, channel: { send(message: RelayMessage): void; onMessage(listener: (message: unknown) => void): void }): Metrics {
  const waiting = new Map<number, (text: string) => void>();
  let nextId = 0;
  channel.onMessage((raw) => {
    const message = relayMessage(raw);
    if (message?.type === "tessera:snapshot-request") {
      const id = message.id!;
      void own.snapshot().then(
        (snapshot) => channel.send({ type: "tessera:snapshot", id, snapshot }),
        () => {}, // no answer: the primary leaves this worker out after its timeout
      );
    } else if (message?.type === "tessera:scrape-result") {
      waiting.get(message.id!)?.(message.text!);
    }
  });
  return {
    ...own,
    scrape: () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new TesseraError("service_unavailable", { message: "The cluster's metrics did not arrive in time." }));
        }, SCRAPE_TIMEOUT_MS);
        waiting.set(id, (text) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(text);
        });
        channel.send({ type: "tessera:scrape", id });
      }),
  };
}

/** A worker that died meanwhile cannot be told anything; the callback keeps that from being an 'error' event. */
const post = (worker: Worker, message: RelayMessage) => {
  if (worker.isConnected()) worker.send(message, undefined, undefined, () => {});
};

/** In the primary: answers each worker's scrape with the sum of every live worker's snapshot. */
export function scrapeRelay(liveWorkers: () => Worker[]) {
  const collecting = new Map<number, (from: Worker, snapshot: MetricsSnapshot) => void>();
  let nextId = 0;

  const collect = async (): Promise<string> => {
    const id = nextId++;
    const targets = liveWorkers();
    const snapshots: MetricsSnapshot[] = [];
    await new Promise<void>((resolve) => {
      const answered = new Set<Worker>();
      const done = () => {
        clearTimeout(timer);
        collecting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, SNAPSHOT_TIMEOUT_MS);
      collecting.set(id, (from, snapshot) => {
        if (answered.has(from)) return;
        answered.add(from);
        snapshots.push(snapshot);
        if (answered.size === targets.length) done();
      });
      for (const worker of targets) post(worker, { type: "tessera:snapshot-request", id });
      if (targets.length === 0) done();
    });
    return addUpSnapshots(snapshots);
  };

  /** Handles one message from `from`, if it is the relay's. */
  return (from: Worker, raw: unknown) => {
    const message = relayMessage(raw);
    if (message?.type === "tessera:snapshot") collecting.get(message.id!)?.(from, message.snapshot!);
    else if (message?.type === "tessera:scrape") {
      const id = message.id!;
      // A sum that fails leaves the worker's scrape to its timeout (503), never the primary to an unhandled rejection.
      collect().then((text) => post(from, { type: "tessera:scrape-result", id, text }), () => {});
    }
  };
}
