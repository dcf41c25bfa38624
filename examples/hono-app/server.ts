import { serve } from "@hono/node-server";
// An installed app imports this from "tessera-verify" (and, in app.ts, `session` from "tessera-hono").
import { createVerifier } from "../../src/sdk/verify.js";
import { createExampleApp } from "./app.js";

const { TESSERA_URL = "http://localhost:3000", TESSERA_PROJECT_ID, TESSERA_SECRET, PORT = "4000" } = process.env;
if (!TESSERA_PROJECT_ID || !TESSERA_SECRET) {
  console.error("Set TESSERA_PROJECT_ID and TESSERA_SECRET (printed by `npm start` on its first start).");
  process.exit(1);
}
const verifier = createVerifier({ url: TESSERA_URL, projectId: TESSERA_PROJECT_ID, secret: TESSERA_SECRET });
serve({ fetch: createExampleApp(verifier).fetch, port: Number(PORT) }, ({ port }) => console.log(`example app on http://localhost:${port}`));
