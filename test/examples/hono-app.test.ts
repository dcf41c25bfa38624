import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createExampleApp } from "../../examples/hono-app/app.js";
import { systemClock } from "../../src/domain/clock.js";
import { FRESH_JWT_HEADER } from "../../src/sdk/hono.js";
import { createVerifier, type Verifier } from "../../src/sdk/verify.js";
import { createListeningTestServer, signUp, type TestServer } from "../helpers.js";

describe("examples/hono-app", () => {
  let server: TestServer & { baseUrl: string };
  let verifier: Verifier;
  let app: ReturnType<typeof createExampleApp>;
  beforeAll(async () => {
    // Real time: the example's step-up check reads the system clock, as a deployed app would.
    server = await createListeningTestServer({ overrides: { clock: systemClock } });
    verifier = createVerifier({ url: server.baseUrl, projectId: server.project.project.projectId, secret: server.project.secret });
    await verifier.ready();
    app = createExampleApp(verifier);
  });
  afterAll(async () => {
    verifier.close();
    await server.close();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const bearer = (jwt: string) => ({ headers: { authorization: `Bearer ${jwt}` } });

  it("serves the public route to anyone", async () => {
    expect(await (await app.request("/")).json()).toEqual({ hello: "anyone" });
  });

  it("verifies /feed locally and /transfer at the server", async () => {
    const login = await signUp(server);
    const feed = await app.request("/feed", bearer(login.session_jwt));
    expect(await feed.json()).toEqual({ feed_for: login.user_id, verified_by: "local" });
    const transfer = await app.request("/transfer", { method: "POST", ...bearer(login.session_jwt) });
    expect(transfer.status).toBe(200);
    expect((await transfer.json()).session_id).toBe(login.session.session_id);
    const fresh = transfer.headers.get(FRESH_JWT_HEADER);
    expect(fresh).toMatch(/^ey/);
    expect(fresh).not.toBe(login.session_jwt);
  });

  it("wants a login from the last 5 minutes on /transfer", async () => {
    const login = await signUp(server);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 301_000 }); // only Date: the server and the app read the system clock
    const stale = await app.request("/transfer", { method: "POST", ...bearer(login.session_jwt) });
    expect(stale.status).toBe(403);
    expect((await stale.json()).error_type).toBe("reauthentication_required");
    const feed = await app.request("/feed", bearer(login.session_jwt)); // the normal route does not ask for a recent login
    expect((await feed.json()).feed_for).toBe(login.user_id);
  });

  it("refuses protected routes without a token", async () => {
    for (const [path, method] of [["/feed", "GET"], ["/transfer", "POST"]] as const) {
      const response = await app.request(path, { method });
      expect(response.status).toBe(401);
      expect((await response.json()).error_type).toBe("unauthorized");
    }
  });
});
