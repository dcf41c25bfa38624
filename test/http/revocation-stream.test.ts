import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatabaseUnavailableError } from "../../src/domain/store-errors.js";
import { createTestServer, signUp, type TestServer } from "../helpers.js";
import { sseReader } from "../sse-reader.js";

describe("revocation feed: GET /v1/sessions/revocations/stream", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await createTestServer();
  });
  afterAll(() => server.close());

  const open = async (lastEventId?: string) => {
    const response = await server.app.request("/v1/sessions/revocations/stream", {
      headers: { authorization: server.authorization, ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    return sseReader(response);
  };

  it("requires the project secret", async () => {
    const response = await server.app.request("/v1/sessions/revocations/stream");
    expect(response.status).toBe(401);
  });

  it("replays recent revocations, says ready, streams live ones, and resumes after Last-Event-ID", async () => {
    const early = await signUp(server);
    await server.call("POST", "/v1/sessions/revoke", { session_id: early.session.session_id });

    const stream = await open();
    const replayed = await stream.next();
    expect(replayed.event).toBe("session.revoked");
    expect(JSON.parse(replayed.data)).toMatchObject({ session_id: early.session.session_id, user_id: early.user_id });
    const ready = await stream.next();
    expect(ready.event).toBe("ready");
    expect(JSON.parse(ready.data).jwt_lifetime_seconds).toBe(300);

    const live = await signUp(server);
    await server.call("POST", "/v1/sessions/revoke", { session_token: live.session_token });
    const pushed = await stream.next();
    expect(pushed.event).toBe("session.revoked");
    expect(JSON.parse(pushed.data).session_id).toBe(live.session.session_id);
    expect(pushed.id).toMatch(/^\d+-\d+$/); // (transaction, event): an opaque, resumable cursor
    expect(pushed.id).not.toBe(replayed.id);

    await server.call("PUT", `/v1/users/${live.user_id}`, { roles: ["editor"] });
    const changed = await stream.next();
    expect(changed.event).toBe("user.changed");
    expect(JSON.parse(changed.data)).toEqual({ user_id: live.user_id, not_before: server.clock.now().toISOString() });
    await stream.close();

    const resumed = await open(pushed.id);
    const first = await resumed.next();
    expect(first.id).toBe(changed.id); // nothing at or before Last-Event-ID again
    expect((await resumed.next()).event).toBe("ready");
    await resumed.close();
  });

  it("keeps the stream open when a read fails during the replay, and goes on once the database answers", async () => {
    const early = await signUp(server);
    await server.call("POST", "/v1/sessions/revoke", { session_id: early.session.session_id });
    const events = server.deps.store.events;
    const feedSince = events.feedSince;
    let reads = 0;
    events.feedSince = (...args) => (++reads === 2 ? Promise.reject(new DatabaseUnavailableError("the database did not answer within 2000 ms")) : feedSince(...args));
    try {
      const stream = await open();
      const replayed: string[] = [];
      for (let message = await stream.next(); message.event !== "ready"; message = await stream.next()) replayed.push(JSON.parse(message.data).session_id);
      expect(replayed).toContain(early.session.session_id); // the first read; the second failed, and the stream read again
      expect(reads).toBeGreaterThanOrEqual(3);
      const live = await signUp(server);
      await server.call("POST", "/v1/sessions/revoke", { session_id: live.session.session_id });
      expect(JSON.parse((await stream.next()).data).session_id).toBe(live.session.session_id);
      await stream.close();
    } finally {
      events.feedSince = feedSince;
    }
  });

  it("carries every session of a deleted user, of a password reset, and of revoke-by-user_id", async () => {
    const stream = await open();
    while ((await stream.next()).event !== "ready");

    const a = await signUp(server);
    await server.call("DELETE", `/v1/users/${a.user_id}`);
    expect(JSON.parse((await stream.next()).data).session_id).toBe(a.session.session_id);

    const b = await signUp(server);
    const email = (await server.call("GET", `/v1/users/${b.user_id}`)).body.emails[0].email;
    const second = await server.call("POST", "/v1/passwords/authenticate", { email, password: "violet-Tractor-sunrise-91!", session_duration_minutes: 60 });
    const revoked = await server.call("POST", "/v1/sessions/revoke", { user_id: b.user_id });
    expect(revoked.body.revoked_sessions).toBe(2);
    const ids = [JSON.parse((await stream.next()).data).session_id, JSON.parse((await stream.next()).data).session_id];
    expect(ids.sort()).toEqual([b.session.session_id, second.body.session.session_id].sort());
    await stream.close();
  });

  it("forgets revocations older than a JWT can live", async () => {
    const old = await signUp(server);
    await server.call("POST", "/v1/sessions/revoke", { session_id: old.session.session_id });
    server.clock.advanceMinutes(7); // JWT lifetime 5 min + 1 min skew have passed
    const stream = await open();
    expect((await stream.next()).event).toBe("ready");
    await stream.close();
  });

  it("refuses revoke-by-user_id mixed with a session credential, and unknown users", async () => {
    const login = await signUp(server);
    expect((await server.call("POST", "/v1/sessions/revoke", { user_id: login.user_id, session_id: login.session.session_id })).status).toBe(400);
    expect((await server.call("POST", "/v1/sessions/revoke", { user_id: "user-test-nobody" })).body.error_type).toBe("user_not_found");
    expect((await server.call("POST", "/v1/sessions/authenticate", { session_token: login.session_token })).status).toBe(200);
  });
});
