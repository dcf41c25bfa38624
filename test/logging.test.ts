import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturedLogger, createTestServer, STRONG_PASSWORD, type TestServer } from "./helpers.js";

describe("logs", () => {
  const { logger, lines } = capturedLogger();
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer({ overrides: { logger } });
  });
  afterAll(() => server.close());

  it("are JSON lines with a request id, and never contain passwords, tokens, JWTs or secrets", async () => {
    const created = await server.call("POST", "/v1/passwords", { email: "log@example.com", password: STRONG_PASSWORD, session_duration_minutes: 60 });
    const { session_token: token, session_jwt: jwt } = created.body;
    await server.call("POST", "/v1/passwords/authenticate", { email: "log@example.com", password: "Wrong-password-77" });
    await server.call("POST", "/v1/sessions/authenticate", { session_token: token });
    await server.call("POST", "/v1/sessions/authenticate", { session_jwt: jwt });
    await server.call("POST", "/v1/sessions/authenticate", "{broken json with " + token);

    expect(lines.length).toBeGreaterThanOrEqual(5);
    const records = lines.map((line) => JSON.parse(line));
    expect(records.filter((r) => r.msg === "request").every((r) => typeof r.request_id === "string" && typeof r.status === "number")).toBe(true);
    const all = lines.join("\n");
    for (const secret of [STRONG_PASSWORD, "Wrong-password-77", token, jwt, server.project.secret, jwt.split(".")[2]]) {
      expect(all).not.toContain(secret);
    }
  });

  it("redacts credential fields if code ever logs them", () => {
    const { logger, lines: captured } = capturedLogger();
    logger.info({ body: { password: "hunter2-Hunter2", session_token: "tok", secret: "sec" }, req: { headers: { authorization: "Basic abc", cookie: "c=1" } } }, "oops");
    expect(captured.join("")).not.toMatch(/hunter2|"tok"|"sec"|Basic abc|c=1/);
    expect(captured.join("")).toContain("[redacted]");
  });
});
