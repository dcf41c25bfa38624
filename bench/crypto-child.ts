import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createLocalJWKSet, generateKeyPair, jwtVerify, SignJWT, type JSONWebKeySet, type JWTPayload } from "jose";
import { root } from "./shared/instances.js";
import { runFor } from "./stats.js";

/**
 * The crypto floors, in a process of their own (runChild) so no server, load tool or bench shares
 * their event loop or thread pool. Rounds alternate the two sides, so a noisy neighbour slows both.
 */
export type CryptoJob =
  | { mode: "jose"; alg: "RS256" | "ES256" | "EdDSA"; payload: JWTPayload; warmupMs: number; roundMs: number; rounds: number; concurrency: number }
  | { mode: "verify"; url: string; projectId: string; secret: string; jwt: string; warmupMs: number; roundMs: number; rounds: number; concurrency: number };

export interface JoseResult {
  sign: number[];
  verify: number[];
}
export interface VerifyResult {
  ours: number[];
  bare: number[];
}

async function alternate(job: CryptoJob, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[number[], number[]]> {
  await runFor(job.warmupMs, job.concurrency, a);
  await runFor(job.warmupMs, job.concurrency, b);
  const [as, bs]: [number[], number[]] = [[], []];
  for (let round = 0; round < job.rounds; round++) {
    as.push(await runFor(job.roundMs, job.concurrency, a));
    bs.push(await runFor(job.roundMs, job.concurrency, b));
  }
  return [as, bs];
}

/** Bare jose signing and verifying a JWT with the server's claims (same size), keys made as the server makes them. */
async function bareJose(job: Extract<CryptoJob, { mode: "jose" }>): Promise<JoseResult> {
  const { publicKey, privateKey } = await generateKeyPair(job.alg, job.alg === "RS256" ? { modulusLength: 2048 } : job.alg === "EdDSA" ? { crv: "Ed25519" } : {});
  const sign = () => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ ...job.payload, iat: now, nbf: now, exp: now + 300 }).setProtectedHeader({ alg: job.alg, kid: "bench", typ: "JWT" }).sign(privateKey);
  };
  const token = await sign();
  const options = { issuer: job.payload.iss!, audience: job.payload.aud!, algorithms: [job.alg] };
  const verify = () => jwtVerify(token, publicKey, options);
  const [signs, verifies] = await alternate(job, sign, verify);
  return { sign: signs, verify: verifies };
}

/** `authenticateJwt` of the shipped `tessera/verify` (dist/, revocation feed on) vs a bare `jose.jwtVerify` of the same token and JWKS. */
async function verifierVsBare(job: Extract<CryptoJob, { mode: "verify" }>): Promise<VerifyResult> {
  const { createVerifier } = (await import(pathToFileURL(join(root, "dist/sdk/verify.js")).href)) as typeof import("../src/sdk/verify.js");
  const jwksResponse = await fetch(`${job.url}/v1/sessions/jwks/${job.projectId}`);
  if (!jwksResponse.ok) throw new Error(`JWKS: ${jwksResponse.status}`);
  const localSet = createLocalJWKSet((await jwksResponse.json()) as JSONWebKeySet);
  const verifier = createVerifier({ url: job.url, projectId: job.projectId, secret: job.secret });
  try {
    await Promise.race([verifier.ready(), new Promise((_, reject) => setTimeout(() => reject(new Error("the revocation feed was not live within 10 s")), 10_000))]);
    const first = await verifier.authenticateJwt(job.jwt); // also fills its JWKS cache
    if (first.verified_by !== "local") throw new Error(`authenticateJwt verified by ${first.verified_by}, not locally`);
    const options = { issuer: `stytch.com/${job.projectId}`, audience: job.projectId };
    const [ours, bare] = await alternate(job, () => verifier.authenticateJwt(job.jwt), () => jwtVerify(job.jwt, localSet, options));
    return { ours, bare };
  } finally {
    verifier.close();
  }
}

const job = JSON.parse(process.argv[2]!) as CryptoJob;
const result = job.mode === "jose" ? await bareJose(job) : await verifierVsBare(job);
process.stdout.write(`${JSON.stringify(result)}\n`);
