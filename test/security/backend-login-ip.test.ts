import { describe, expect, it } from "vitest";
import { createListeningTestServer, STRONG_PASSWORD } from "../helpers.js";

/** Many argon2 hashes: room for a busy shared machine. */
const ARGON2_HEAVY = { timeout: 120_000 };

const ORIGIN = "http://app.example";

/**
 * Backend logins all come from the app server's own address: counting that address per IP would let
 * anyone block every user's login by typing 30 bad passwords a minute. Over real HTTP, so the socket
 * address (127.0.0.1) is what the server sees.
 */
describe("security: the per-IP login limit counts end users, not the backend", () => {
  it("40 failed backend logins for 40 unknown emails do not block the next user; the per-email lockout stays", ARGON2_HEAVY, async () => {
    const server = await createListeningTestServer();
    try {
      const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
        fetch(`${server.baseUrl}${path}`, { method: "POST", headers: { authorization: server.authorization, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
      expect((await post("/v1/passwords", { email: "real@example.com", password: STRONG_PASSWORD })).status).toBe(200);
      for (let i = 0; i < 40; i++) expect((await post("/v1/passwords/authenticate", { email: `nobody-${i}@example.com`, password: "Wrong-password-1" })).status).toBe(401);
      expect((await post("/v1/passwords/authenticate", { email: "real@example.com", password: STRONG_PASSWORD })).status).toBe(200);

      // a vouched end-user address is counted: 30 a minute, then 429
      const from = (ip: string) => ({ "Tessera-End-User-IP": ip });
      for (let i = 0; i < 30; i++) expect((await post("/v1/passwords/authenticate", { email: `vouched-${i}@example.com`, password: "Wrong-password-1" }, from("198.51.100.7"))).status).toBe(401);
      const limited = await post("/v1/passwords/authenticate", { email: "real@example.com", password: STRONG_PASSWORD }, from("198.51.100.7"));
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      expect((await post("/v1/passwords/authenticate", { email: "real@example.com", password: STRONG_PASSWORD }, from("2001:db8::7"))).status).toBe(200);
      const malformed = await post("/v1/passwords/authenticate", { email: "real@example.com", password: STRONG_PASSWORD }, from("198.51.100.7, 10.0.0.1"));
      expect(malformed.status).toBe(400);
      expect((await malformed.json()).error_type).toBe("bad_request");

      // the per-email lockout is exactly as strict without the header
      for (let i = 0; i < 5; i++) expect((await post("/v1/passwords/authenticate", { email: "real@example.com", password: `wrong-Guess-${i}-x` })).status).toBe(401);
      expect((await post("/v1/passwords/authenticate", { email: "real@example.com", password: STRONG_PASSWORD })).status).toBe(429);
    } finally {
      await server.close();
    }
  });

  it("the browser API keeps counting the end user's own address, and ignores the backend header", ARGON2_HEAVY, async () => {
    const server = await createListeningTestServer({ settings: { allowedOrigins: [ORIGIN], rateLimits: { loginAttemptsPerIpPerMinute: 3 } } });
    try {
      const browserLogin = (email: string, headers: Record<string, string> = {}) =>
        fetch(`${server.baseUrl}/sdk/v1/${server.project.publicToken}/login`, {
          method: "POST",
          headers: { origin: ORIGIN, "x-tessera-request": "1", "content-type": "application/json", ...headers },
          body: JSON.stringify({ email, password: "Wrong-password-1" }),
        });
      for (let i = 0; i < 3; i++) expect((await browserLogin(`b${i}@example.com`, { "Tessera-End-User-IP": `203.0.113.${i}` })).status).toBe(401);
      expect((await browserLogin("b9@example.com", { "Tessera-End-User-IP": "203.0.113.99" })).status).toBe(429);
    } finally {
      await server.close();
    }
  });
});
