import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { pino } from "pino";
import { loadConfig } from "../src/config.js";
import { createDeps } from "../src/deps.js";
import { createProject } from "../src/domain/projects.js";
import { createApp } from "../src/http/app.js";
import { createVerifier } from "../src/sdk/verify.js";
import { median, runFor } from "./stats.js";

const PHASE_MS = 1500;
const ROUNDS = 5;
const CONCURRENCY = 4;

/** Local `authenticateJwt` vs a bare `jose.jwtVerify` of the same token: the ratio is our verifier's overhead. */
export async function benchVerify() {
  for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
    const publicUrl = "http://tessera.bench";
    const config = loadConfig({ NODE_ENV: "test", DATA_DIR: "/tmp/tessera-bench", LOG_LEVEL: "silent", PUBLIC_URL: publicUrl, TESSERA_MASTER_KEY: Buffer.alloc(32, 7).toString("base64") });
    const deps = await createDeps(config, { inMemoryDatabase: true, logger: pino({ level: "silent" }) });
    const app = createApp(deps);
    const { project, secret } = await createProject(deps, { name: "bench", settings: { jwtAlgorithm: alg } });
    const inProcess: typeof fetch = async (input, init) => app.fetch(new Request(input, init));
    const login = await (
      await inProcess(`${publicUrl}/v1/passwords`, {
        method: "POST",
        headers: { authorization: `Basic ${Buffer.from(`${project.projectId}:${secret}`).toString("base64")}`, "content-type": "application/json" },
        body: JSON.stringify({ email: "bench@example.com", password: "violet-Tractor-sunrise-91!", session_duration_minutes: 60 }),
      })
    ).json();
    const jwt = login.session_jwt as string;
    const jwks = (await (await inProcess(`${publicUrl}/v1/sessions/jwks/${project.projectId}`)).json()) as JSONWebKeySet;
    const localSet = createLocalJWKSet(jwks);
    const verifier = createVerifier({ url: publicUrl, projectId: project.projectId, fetch: inProcess });
    await verifier.authenticateJwt(jwt); // warm the JWKS cache

    const ours: number[] = [];
    const bare: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bare.push(await runFor(PHASE_MS, CONCURRENCY, () => jwtVerify(jwt, localSet, { issuer: `stytch.com/${project.projectId}`, audience: project.projectId })));
      ours.push(await runFor(PHASE_MS, CONCURRENCY, () => verifier.authenticateJwt(jwt)));
    }
    const [o, b] = [median(ours), median(bare)];
    console.log(`  ${alg.padEnd(5)}: authenticateJwt ${o.toFixed(0).padStart(6)}/s   bare jose.jwtVerify ${b.toFixed(0).padStart(6)}/s   ratio ${(o / b).toFixed(2)}`);
    verifier.close();
    await deps.close();
  }
}
