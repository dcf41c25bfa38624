import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Every metric Tessera exports, in one registry owned by the instance that the composition root
 * builds (never prom-client's global one: two servers in one process, as in tests, must not mix).
 * Callers see methods, not prom-client objects, so label names and values stay decided here.
 */

export type Surface = "backend" | "browser";

/** What the scrape reads from the rest of the server at the moment it happens. */
export interface ScrapeSources {
  hashing: { readonly running: number; readonly queued: number };
  /** Outstanding database calls (running or waiting for a connection), per bounded store. */
  databaseCalls: Record<"request" | "job", { readonly pendingCalls: number }>;
  redisState(): Promise<"up" | "down" | "in-process">;
  /** Seconds since each project's current signing key activated; bounded by the caller. */
  signingKeyAges(): Promise<{ projectId: string; ageSeconds: number }[]>;
}

/** One process's metrics as data (prom-client's JSON form), for a cluster's primary to add up. */
export type MetricsSnapshot = object[];

export interface Metrics {
  readonly contentType: string;
  /** The Prometheus text exposition; scrape-time gauges are read first. */
  scrape(): Promise<string>;
  /** The same, as data; scrape-time gauges are read first. */
  snapshot(): Promise<MetricsSnapshot>;
  /** Wires the scrape-time gauges; called once by the composition root when every source exists. */
  watch(sources: ScrapeSources): void;
  observeRequest(request: { method: string; route: string; status: number; seconds: number }): void;
  countExchange(surface: Surface, outcome: string): void;
  countLogin(surface: Surface, outcome: string): void;
  countRateLimitRefusal(rule: string): void;
  observeHashWait(seconds: number): void;
  countHashRejection(): void;
  /** Returns the function that marks the subscriber gone (idempotent). */
  addFeedSubscriber(): () => void;
}

/** Seconds; from a 1 ms JWKS hit to a 2 s database deadline and beyond. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  // Process and runtime metrics (CPU, memory, event-loop lag, GC) under their standard names, so
  // stock Node.js dashboards work.
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new Counter({ name: "tessera_http_requests_total", help: "HTTP requests answered, by route pattern and status.", labelNames: ["method", "route", "status"], registers });
  const latency = new Histogram({ name: "tessera_http_request_duration_seconds", help: "Time to the response headers, by route pattern and status.", labelNames: ["method", "route", "status"], buckets: LATENCY_BUCKETS, registers });
  const exchanges = new Counter({ name: "tessera_exchanges_total", help: "Session exchanges by outcome: ok, the refusal's reason, or the error type.", labelNames: ["surface", "outcome"], registers });
  const logins = new Counter({ name: "tessera_logins_total", help: "Password logins by outcome: ok or the error type.", labelNames: ["surface", "outcome"], registers });
  const refusals = new Counter({ name: "tessera_rate_limit_refusals_total", help: "Requests refused by a rate limit, by rule.", labelNames: ["rule"], registers });
  const hashWait = new Histogram({ name: "tessera_password_hash_wait_seconds", help: "Time a password hash waited for a hashing slot.", buckets: LATENCY_BUCKETS, registers });
  const hashRejections = new Counter({ name: "tessera_password_hash_rejections_total", help: "Password hashes refused because the hashing queue was full (429).", registers });
  const subscribers = new Gauge({ name: "tessera_revocation_stream_subscribers", help: "Open revocation streams (GET /v1/sessions/revocations/stream).", registers });

  // Series that exist from the start, so rate() and ratios over them work before the first event.
  for (const surface of ["backend", "browser"] as const) {
    exchanges.inc({ surface, outcome: "ok" }, 0);
    logins.inc({ surface, outcome: "ok" }, 0);
  }

  let sources: ScrapeSources | null = null;
  new Gauge({
    name: "tessera_password_hash_queue_depth",
    help: "Password hashes waiting for a hashing slot.",
    registers,
    collect() {
      if (sources) this.set(sources.hashing.queued);
    },
  });
  new Gauge({
    name: "tessera_password_hash_active",
    help: "Password hashes running now (at most PASSWORD_HASH_CONCURRENCY).",
    registers,
    collect() {
      if (sources) this.set(sources.hashing.running);
    },
  });
  new Gauge({
    name: "tessera_database_calls_pending",
    help: "Database calls outstanding (running or waiting for a connection), per bounded store: request or job.",
    labelNames: ["store"],
    registers,
    collect() {
      for (const [store, calls] of Object.entries(sources?.databaseCalls ?? {})) this.set({ store }, calls.pendingCalls);
    },
  });
  new Gauge({
    name: "tessera_redis_state",
    help: "1 for Redis' current state: up, down, or in-process (no REDIS_URL: in-process stand-ins).",
    labelNames: ["state"],
    aggregator: "max", // across a cluster's workers: each pings the same Redis
    registers,
    async collect() {
      if (!sources) return;
      const current = await sources.redisState(); // never throws: a failed ping is "down"
      for (const state of ["up", "down", "in-process"] as const) this.set({ state }, state === current ? 1 : 0);
    },
  });
  new Gauge({
    name: "tessera_signing_key_age_seconds",
    help: "Seconds since the project's current signing key began signing.",
    labelNames: ["project_id"],
    aggregator: "max", // across a cluster's workers: each reads the same database
    registers,
    async collect() {
      this.reset(); // a project that lost its key (or left the bound) must not keep its last value
      // Project ids are operator-made tenants (few, bounded by the source), unlike per-request ids.
      for (const { projectId, ageSeconds } of (await sources?.signingKeyAges()) ?? []) this.set({ project_id: projectId }, ageSeconds);
    },
  });

  return {
    contentType: registry.contentType,
    scrape: () => registry.metrics(),
    snapshot: () => registry.getMetricsAsJSON(),
    watch(given) {
      sources = given;
    },
    observeRequest({ method, route, status, seconds }) {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      latency.observe(labels, seconds);
    },
    countExchange: (surface, outcome) => exchanges.inc({ surface, outcome }),
    countLogin: (surface, outcome) => logins.inc({ surface, outcome }),
    countRateLimitRefusal: (rule) => refusals.inc({ rule }),
    observeHashWait: (seconds) => hashWait.observe(seconds),
    countHashRejection: () => hashRejections.inc(),
    addFeedSubscriber() {
      subscribers.inc();
      let gone = false;
      return () => {
        if (gone) return;
        gone = true;
        subscribers.dec();
      };
    },
  };
}

/**
 * A cluster's exposition: its workers' snapshots added up (counters, histograms and most gauges sum;
 * a metric's `aggregator` says otherwise), so a scrape sees one server whichever worker it reached.
 */
export function addUpSnapshots(snapshots: MetricsSnapshot[]): Promise<string> {
  return AggregatorRegistry.aggregate(snapshots).metrics();
}
