import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, REDIS_URL, signUp, STRONG_PASSWORD, type TestServer } from "../helpers.js";
import { sseReader } from "../sse-reader.js";

const TOKEN = "metrics-test-token-0123456789abcdef";

type Labels = Record<string, string>;
interface Sample {
  name: string;
  labels: Labels;
  value: number;
}

/** The Prometheus text format's sample lines (comments aside). */
function parse(text: string): Sample[] {
  return text
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels: Labels = {};
      for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The value of the one sample with these labels (all of them, no more), 0 when absent. */
function value(samples: Sample[], name: string, labels: Labels = {}): number {
  const found = samples.filter((s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return found[0]?.value ?? 0;
}

async function until(check: () => Promise<boolean>, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("GET /metrics", () => {
  it("is not served without METRICS_TOKEN: 404, like any unknown route", async () => {
    const server = await createTestServer();
    try {
      const response = await server.app.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(404);
      expect((await response.json()).error_type).toBe("not_found");
    } finally {
      await server.close();
    }
  });

  describe("with METRICS_TOKEN", () => {
    let server: TestServer;
    const scrape = async () => {
      const response = await server.app.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(response.headers.get("cache-control")).toBe("no-store");
      return response.text();
    };

    beforeAll(async () => {
      server = await createTestServer({ env: { METRICS_TOKEN: TOKEN }, settings: { rateLimits: { exchangesPerSessionPerMinute: 2 } } });
    });
    afterAll(() => server.close());

    it("refuses a missing, wrong or non-bearer credential with 401", async () => {
      for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}`, TOKEN]) {
        const response = await server.app.request("/metrics", { headers: authorization ? { authorization } : {} });
        expect(response.status, String(authorization)).toBe(401);
        expect(response.headers.get("www-authenticate")).toBe('Bearer realm="metrics"');
        const body = await response.json();
        expect(body.error_type).toBe("unauthorized_credentials");
        expect(JSON.stringify(body)).not.toContain("tessera_");
      }
    });

    it("counts requests by route pattern, exchanges by reason, logins by outcome and rate-limit refusals by rule", async () => {
      const before = parse(await scrape());
      const email = `ada-${randomBytes(3).toString("hex")}@example.com`;
      const alive = await signUp(server, email);
      const revoked = await signUp(server);
      const expiring = await signUp(server);

      const login = (password: string) => server.call("POST", "/v1/passwords/authenticate", { email, password });
      expect((await login(STRONG_PASSWORD)).status).toBe(200);
      expect((await login("wrong-password-1")).status).toBe(401);
      expect((await login("wrong-password-2")).status).toBe(401);

      const exchange = (session_token: string) => server.call("POST", "/v1/sessions/authenticate", { session_token });
      expect((await exchange(alive.session_token)).status).toBe(200);
      expect((await exchange(alive.session_token)).status).toBe(200);
      expect((await exchange(alive.session_token)).status).toBe(429); // 2 a minute per session
      await server.call("POST", "/v1/sessions/revoke", { session_id: revoked.session.session_id });
      expect((await exchange(revoked.session_token)).body.error_details.reason).toBe("revoked");
      expect((await exchange(randomBytes(32).toString("base64url"))).body.error_details.reason).toBe("not_found");
      expect((await server.call("GET", `/v1/users/${alive.user_id}`)).status).toBe(200);
      expect((await server.call("GET", `/v1/users/${alive.user_id}-missing`)).status).toBe(404);
      expect((await server.call("GET", `/v1/no-such-route/${alive.user_id}`)).status).toBe(404);
      server.clock.advanceMinutes(61); // past the 60-minute sessions
      expect((await exchange(expiring.session_token)).body.error_details.reason).toBe("expired");

      const text = await scrape();
      const after = parse(text);
      const delta = (name: string, labels: Labels) => value(after, name, labels) - value(before, name, labels);

      expect(delta("tessera_logins_total", { surface: "backend", outcome: "ok" })).toBe(1);
      expect(delta("tessera_logins_total", { surface: "backend", outcome: "unauthorized_credentials" })).toBe(2);
      expect(delta("tessera_exchanges_total", { surface: "backend", outcome: "ok" })).toBe(2);
      expect(delta("tessera_exchanges_total", { surface: "backend", outcome: "too_many_requests" })).toBe(1);
      expect(delta("tessera_exchanges_total", { surface: "backend", outcome: "revoked" })).toBe(1);
      expect(delta("tessera_exchanges_total", { surface: "backend", outcome: "not_found" })).toBe(1);
      expect(delta("tessera_exchanges_total", { surface: "backend", outcome: "expired" })).toBe(1);
      expect(delta("tessera_rate_limit_refusals_total", { rule: "exchange" })).toBe(1);
      expect(after.filter((s) => s.name === "tessera_rate_limit_refusals_total").map((s) => s.labels.rule)).toEqual(["exchange"]);

      expect(delta("tessera_http_requests_total", { method: "POST", route: "/v1/passwords", status: "200" })).toBe(3);
      expect(delta("tessera_http_requests_total", { method: "POST", route: "/v1/sessions/authenticate", status: "200" })).toBe(2);
      expect(delta("tessera_http_requests_total", { method: "POST", route: "/v1/sessions/authenticate", status: "404" })).toBe(3);
      expect(delta("tessera_http_requests_total", { method: "POST", route: "/v1/sessions/authenticate", status: "429" })).toBe(1);
      expect(delta("tessera_http_requests_total", { method: "GET", route: "/v1/users/:user_id", status: "200" })).toBe(1);
      expect(delta("tessera_http_requests_total", { method: "GET", route: "/v1/users/:user_id", status: "404" })).toBe(1);
      expect(delta("tessera_http_requests_total", { method: "GET", route: "/v1/*", status: "404" })).toBe(1); // unmatched: the middleware's pattern
      expect(delta("tessera_http_request_duration_seconds_count", { method: "POST", route: "/v1/passwords/authenticate", status: "401" })).toBe(2);
      expect(value(after, "tessera_http_requests_total", { method: "GET", route: "/metrics", status: "200" })).toBeGreaterThanOrEqual(1);

      // 3 sign-ups and 3 logins each hashed once, without waiting (nothing else was hashing).
      expect(delta("tessera_password_hash_wait_seconds_count", {})).toBe(6);
      expect(value(after, "tessera_password_hash_queue_depth")).toBe(0);
      expect(value(after, "tessera_password_hash_active")).toBe(0);
      expect(value(after, "tessera_password_hash_rejections_total")).toBe(0);

      // Route patterns only: no id, token, email or raw path became a label value.
      const labelValues = after.flatMap((s) => Object.values(s.labels));
      for (const secret of [alive.user_id, alive.session.session_id, revoked.session.session_id, alive.session_token, email, "no-such-route", "-missing"]) {
        expect(labelValues.some((v) => v.includes(secret)), secret).toBe(false);
        expect(text).not.toContain(secret);
      }
      const routes = new Set(after.filter((s) => s.name === "tessera_http_requests_total").map((s) => s.labels.route));
      expect([...routes].every((r) => !/[a-f0-9]{8}-[a-f0-9]{4}/.test(r!))).toBe(true);
    });

    it("reports the hashing queue, database calls, Redis, feed subscribers and signing-key age at scrape time", async () => {
      const stream = await server.app.request("/v1/sessions/revocations/stream", { headers: { authorization: server.authorization } });
      const reader = sseReader(stream);
      while ((await reader.next()).event !== "ready");
      const open = parse(await scrape());
      expect(value(open, "tessera_revocation_stream_subscribers")).toBe(1);
      await reader.close();
      await until(async () => value(parse(await scrape()), "tessera_revocation_stream_subscribers") === 0);

      const samples = parse(await scrape());
      expect(value(samples, "tessera_redis_state", { state: REDIS_URL ? "up" : "in-process" })).toBe(1);
      expect(value(samples, "tessera_redis_state", { state: "down" })).toBe(0);
      for (const store of ["request", "job"]) expect(samples.some((s) => s.name === "tessera_database_calls_pending" && s.labels.store === store)).toBe(true);
      // The project's key began signing when the project was made; the test clock has moved 61 minutes since.
      expect(value(samples, "tessera_signing_key_age_seconds", { project_id: server.project.project.projectId })).toBe(61 * 60);
      expect(samples.some((s) => s.name === "process_resident_memory_bytes")).toBe(true);
    });
  });

  it("says Redis is down while it is, and keeps answering", async () => {
    const server = await createTestServer({ env: { METRICS_TOKEN: TOKEN, REDIS_URL: "redis://127.0.0.1:1" } }); // nothing listens on port 1
    try {
      const response = await server.app.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(200);
      const samples = parse(await response.text());
      expect(value(samples, "tessera_redis_state", { state: "down" })).toBe(1);
      expect(value(samples, "tessera_redis_state", { state: "up" })).toBe(0);
    } finally {
      await server.close();
    }
  });
});
