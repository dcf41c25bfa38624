import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifier, type Verifier } from "../../src/sdk/verify.js";
import { createListeningTestServer, signUp, type TestServer } from "../helpers.js";

const waitUntil = async (condition: () => Promise<boolean>, ms: number) => {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
};

/**
 * `iat` is whole seconds; a user change's not-before has milliseconds. A JWT minted earlier in the
 * same second as a roles change carries the old roles and must count as too old. Deterministic: the
 * server's clock is fixed, so the JWT and the change share a second by construction.
 */
describe("security: tessera/verify drops claims from the same second as a user change", () => {
  let server: TestServer & { baseUrl: string };
  let verifier: Verifier;
  beforeAll(async () => {
    server = await createListeningTestServer();
    verifier = createVerifier({ url: server.baseUrl, projectId: server.project.project.projectId, secret: server.project.secret, now: () => server.clock.now() });
    await verifier.ready();
  });
  afterAll(async () => {
    verifier.close();
    await server.close();
  });

  it("exchanges a JWT minted 500 ms before a roles change in the same second, and gets the new roles", async () => {
    const login = await signUp(server, "roles@example.com");
    await server.call("PUT", `/v1/users/${login.user_id}`, { roles: ["admin"] });
    const withAdmin = (await server.call("POST", "/v1/sessions/authenticate", { session_token: login.session_token })).body.session_jwt as string; // 12:00:00.000
    server.clock.advance(500);
    expect((await server.call("PUT", `/v1/users/${login.user_id}`, { roles: [] })).status).toBe(200); // admin removed at 12:00:00.500

    const exchanged = await waitUntil(async () => (await verifier.authenticateJwt(withAdmin)).verified_by === "server", 2000);
    expect(exchanged).toBe(true);
    const result = await verifier.authenticateJwt(withAdmin);
    expect(result.session.roles).toEqual(["stytch_user"]);
    // The trade-off, on the safe side: a JWT minted in the change's second, even after it, is exchanged too...
    expect((await verifier.authenticateJwt(result.session_jwt)).verified_by).toBe("server");
    // ...and one minted in a later second is trusted locally.
    server.clock.advance(1000);
    const later = (await server.call("POST", "/v1/sessions/authenticate", { session_token: login.session_token })).body.session_jwt as string;
    expect((await verifier.authenticateJwt(later)).verified_by).toBe("local");
  });
});
