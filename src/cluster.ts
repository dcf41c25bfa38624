import cluster, { type Worker } from "node:cluster";
import { clusterWideMetrics, scrapeRelay } from "./cluster-metrics.js";
import type { Config } from "./config.js";
import { prepareCluster } from "./deps.js";
import { createLogger } from "./logger.js";
import { serve, type ClusterWorker } from "./main.js";
import { announceServer, withdrawServer } from "./management/discovery.js";

/**
 * WEB_CONCURRENCY=N > 1: a node:cluster primary and N workers on one machine. The primary holds no
 * pool and serves nothing: it prepares DATA_DIR and runs the migrations once, forks, announces the
 * server, restarts a worker that dies, and on SIGTERM/SIGINT lets every worker drain. Each worker is
 * a whole server (main.ts): its own Postgres pool and Redis connection, the public and management
 * listeners (shared with the other workers: cluster hands each new connection to the next worker,
 * round-robin), its own drain. GET /metrics adds up every worker's metrics (cluster-metrics.ts).
 * Like main.ts, a process entry: the one other module that handles signals.
 */

/** A restart waits 250 ms, doubling with each death in a row, up to 30 s. */
const RESTART_FIRST_DELAY_MS = 250;
const RESTART_MAX_DELAY_MS = 30_000;
/** A worker that served this long was healthy: its next death restarts at the first delay again. */
const HEALTHY_AFTER_MS = 30_000;
/** Past the workers' own drain backstop (SHUTDOWN_TIMEOUT_MS): closing their pools and exiting. */
const EXIT_GRACE_MS = 5_000;

interface ReadyMessage {
  type: "tessera:ready";
  port: number;
  adminUrl: string | null;
}

const isReady = (message: unknown): message is ReadyMessage => (message as ReadyMessage | null)?.type === "tessera:ready";

export async function serveCluster(config: Config): Promise<void> {
  if (cluster.isWorker) return serve(config, thisWorker());
  return runPrimary(config);
}

function thisWorker(): ClusterWorker {
  const id = cluster.worker!.id;
  return {
    id,
    // Ids count forks from 1; a restarted worker gets a new one, so only the very first worker creates.
    createsDevelopmentProject: id === 1,
    ready: (listening) => process.send!({ type: "tessera:ready", ...listening } satisfies ReadyMessage),
    clusterWideMetrics: (own) => clusterWideMetrics(own, { send: (message) => process.send!(message), onMessage: (listener) => process.on("message", listener) }),
  };
}

/** One of the N places for a worker; the worker in it is replaced when it dies. */
interface Slot {
  worker: Worker | null;
  readyAt: number | null;
  deathsInARow: number;
  restart: NodeJS.Timeout | null;
}

async function runPrimary(config: Config): Promise<void> {
  const logger = createLogger({ level: config.logLevel }).child({ primary: true, pid: process.pid });
  await prepareCluster(config, logger);
  const slots: Slot[] = Array.from({ length: config.webConcurrency }, () => ({ worker: null, readyAt: null, deathsInARow: 0, restart: null }));
  let phase: "starting" | "serving" | "stopping" = "starting";
  let announcedUrl: string | null = null;
  let cleanExit = true;
  let stoppingSince = 0;
  let backstop: NodeJS.Timeout | undefined;
  const live = () => slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
  const relayScrape = scrapeRelay(live);

  const fork = (slot: Slot) => {
    slot.restart = null;
    const worker = cluster.fork();
    slot.worker = worker;
    slot.readyAt = null;
    worker.on("message", (message: unknown) => {
      if (isReady(message)) ready(slot, worker, message);
      else relayScrape(worker, message);
    });
    worker.on("exit", (code, signal) => exited(slot, worker, code, signal));
  };

  const ready = (slot: Slot, worker: Worker, message: ReadyMessage) => {
    slot.readyAt = performance.now();
    // The workers share the management listener, so its URL is normally announced once; it changes only
    // with ADMIN_PORT=0, when every worker holding the port died and a new one got another.
    if (message.adminUrl && message.adminUrl !== announcedUrl && phase !== "stopping") {
      announceServer(config.dataDir, { pid: process.pid, adminUrl: message.adminUrl });
      announcedUrl = message.adminUrl;
    }
    if (phase === "starting" && slots.every((s) => s.readyAt !== null)) {
      phase = "serving";
      logger.info({ workers: live().map((w) => w.process.pid), port: message.port, admin_url: announcedUrl ?? "off" }, "cluster ready");
    } else if (phase === "serving") {
      logger.info({ worker_pid: worker.process.pid }, "worker restarted");
    }
  };

  const exited = (slot: Slot, worker: Worker, code: number | null, signal: string | null) => {
    if (slot.worker !== worker) return;
    slot.worker = null;
    const facts = { worker_pid: worker.process.pid, exit_code: code, signal };
    if (phase === "stopping") {
      if (code !== 0) cleanExit = false;
      if (live().length === 0) finish();
      return;
    }
    if (slot.readyAt === null && phase === "starting") {
      // A start-up error (the worker said which on stderr) would only repeat: stop, as a lone server would.
      logger.error(facts, "a worker failed to start; stopping the cluster");
      cleanExit = false;
      stop("worker start failed");
      return;
    }
    if (slot.readyAt !== null && performance.now() - slot.readyAt >= HEALTHY_AFTER_MS) slot.deathsInARow = 0;
    slot.deathsInARow++;
    const delayMs = Math.min(RESTART_MAX_DELAY_MS, RESTART_FIRST_DELAY_MS * 2 ** (slot.deathsInARow - 1));
    logger.error({ ...facts, restart_in_ms: delayMs }, "worker died; restarting it");
    slot.restart = setTimeout(() => fork(slot), delayMs);
  };

  const stop = (reason: string) => {
    if (phase === "stopping") return;
    phase = "stopping";
    stoppingSince = performance.now();
    for (const slot of slots) if (slot.restart) clearTimeout(slot.restart);
    if (announcedUrl) withdrawServer(config.dataDir, process.pid);
    const workers = live();
    logger.info({ reason, workers: workers.map((w) => w.process.pid) }, "stopping workers");
    // Each worker drains on its own SIGTERM (main.ts); the primary only waits for them.
    for (const worker of workers) worker.process.kill("SIGTERM");
    backstop = setTimeout(() => {
      logger.error({ workers: live().map((w) => w.process.pid) }, "workers still running past their drain backstop; killing them");
      cleanExit = false;
      for (const worker of live()) worker.process.kill("SIGKILL");
    }, config.shutdownTimeoutMs + EXIT_GRACE_MS);
    if (workers.length === 0) finish();
  };

  const finish = () => {
    clearTimeout(backstop);
    logger.info({ drain_ms: Math.round(performance.now() - stoppingSince), clean: cleanExit }, "stopped");
    process.exit(cleanExit ? 0 : 1);
  };

  logger.info({ workers: slots.length }, "starting workers");
  for (const slot of slots) fork(slot);
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
