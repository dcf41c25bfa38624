import { Hono } from "hono";
// An installed app imports these from the tessera-hono and tessera-verify packages.
import { session, type TesseraVariables } from "../../src/sdk/hono.js";
import type { Verifier } from "../../src/sdk/verify.js";

/**
 * Three kinds of route: public; normal (trusts a JWT for its 5-minute life, verified locally);
 * sensitive (asks the server every time, and wants a login from the last 5 minutes).
 */
export function createExampleApp(verifier: Verifier) {
  const app = new Hono<{ Variables: TesseraVariables }>();
  app.get("/", (c) => c.json({ hello: "anyone" }));
  app.get("/feed", session({ verifier }), (c) => {
    const { user_id, verified_by } = c.get("tessera");
    return c.json({ feed_for: user_id, verified_by });
  });
  app.post("/transfer", session({ verifier, maxTokenAgeSeconds: 0, maxAuthAgeSeconds: 300 }), (c) => {
    const { user_id, session } = c.get("tessera");
    return c.json({ transferred_by: user_id, session_id: session.session_id });
  });
  return app;
}
