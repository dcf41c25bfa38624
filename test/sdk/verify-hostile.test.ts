import { generateKeyPairSync, sign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVerifier, type Verifier, type VerifierOptions } from "../../src/sdk/verify.js";
import { createListeningTestServer, signUp, type TestServer } from "../helpers.js";
import { verifyOutcome } from "./verify-outcome.js";

const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

const outcome = verifyOutcome;

type GetBuiltinModule = (id: string) => unknown;
const runtime = process as unknown as { getBuiltinModule?: GetBuiltinModule };
const realGetBuiltinModule = runtime.getBuiltinModule;

/** Signature checks seen by each path: node:crypto's verify (through getBuiltinModule) and WebCrypto's. */
const seen = { node: 0, webCrypto: 0 };
const realSubtleVerify = crypto.subtle.verify;
beforeAll(() => {
  // jose verifies through globalThis.crypto.subtle: the fallback's evidence
  crypto.subtle.verify = function (this: SubtleCrypto, ...args: Parameters<SubtleCrypto["verify"]>) {
    seen.webCrypto++;
    return realSubtleVerify.apply(this, args);
  };
});
afterAll(() => {
  crypto.subtle.verify = realSubtleVerify;
});
const countingGetBuiltinModule: GetBuiltinModule = (id) => {
  const module = realGetBuiltinModule!(id) as Record<string, unknown>;
  if (id !== "node:crypto") return module;
  const verify = module.verify as (...args: unknown[]) => unknown;
  return { ...module, verify: (...args: unknown[]) => (seen.node++, verify(...args)) };
};

/**
 * A verifier as a runtime of each kind builds it: Node with process.getBuiltinModule (node:crypto
 * verifies), and one without it (Node < 20.16, Deno, Bun, workers: jose over WebCrypto verifies).
 */
function verifierOn(path: "node:crypto" | "WebCrypto", options: VerifierOptions): Verifier {
  // Node 20.16+ runs these tests: without getBuiltinModule here the node:crypto case would test nothing
  expect(realGetBuiltinModule).toBeTypeOf("function");
  runtime.getBuiltinModule = path === "node:crypto" ? countingGetBuiltinModule : undefined;
  try {
    return createVerifier(options);
  } finally {
    runtime.getBuiltinModule = realGetBuiltinModule;
  }
}

/**
 * RFC 8725 attacks against local verification, per algorithm and per signature path. Tokens signed
 * with the project's real private key isolate the one property under attack; each must be refused as
 * jwt_invalid (expired: jwt_expired) by both paths, and the genuine token accepted by both.
 */
describe.each(["RS256", "ES256", "EdDSA"] as const)("tessera/verify refuses hostile %s tokens", (alg) => {
  let server: TestServer & { baseUrl: string };
  let jwt: string;
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  let signWithRealKey: (header: unknown, payload: unknown) => Promise<string>;
  const verifiers: Verifier[] = [];

  beforeAll(async () => {
    server = await createListeningTestServer({ settings: { jwtAlgorithm: alg } });
    jwt = (await signUp(server)).session_jwt;
    [header, payload] = jwt.split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url").toString())) as [Record<string, unknown>, Record<string, unknown>];
    const signer = await server.deps.keys.signer(server.project.project.projectId);
    signWithRealKey = async (h, p) => {
      const input = `${typeof h === "string" ? h : b64(h)}.${p instanceof Uint8Array ? Buffer.from(p).toString("base64url") : b64(p)}`;
      return `${input}.${await signer.sign(input)}`;
    };
  });
  afterAll(async () => {
    for (const verifier of verifiers) verifier.close();
    await server.close();
  });

  const hostile = async (): Promise<Record<string, string>> => {
    const [h, p, s] = jwt.split(".") as [string, string, string];
    const flip = (text: string, at: number) => `${text.slice(0, at)}${text[at] === "A" ? "B" : "A"}${text.slice(at + 1)}`;
    const signature = Buffer.from(s, "base64url");
    const otherAlgs = ["RS256", "ES256", "EdDSA", "PS256", "RS384", "ES384", "HS256", "none"].filter((other) => other !== alg);
    const now = payload.iat as number;
    const cases: Record<string, string> = {
      alteredSignature: `${h}.${p}.${flip(s, Math.floor(s.length / 2))}`,
      alteredFirstSignatureByte: `${h}.${p}.${flip(s, 0)}`,
      tamperedPayload: `${h}.${b64({ ...payload, sub: "user-test-victim" })}.${s}`,
      truncatedSignature: `${h}.${p}.${signature.subarray(0, signature.length - 1).toString("base64url")}`,
      longerSignature: `${h}.${p}.${Buffer.concat([signature, Buffer.from([0])]).toString("base64url")}`,
      zeroSignature: `${h}.${p}.${Buffer.alloc(signature.length).toString("base64url")}`,
      derZeroSignature: `${h}.${p}.${Buffer.from([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]).toString("base64url")}`,
      sameBytesOtherSpelling: `${h}.${p}.${s.slice(0, -1)}${ALPHABET[ALPHABET.indexOf(s.at(-1)!) ^ 1]}`,
      paddedHeader: `${h}=.${p}.${s}`,
      padded: `${jwt}==`,
      spaced: ` ${jwt}`,
      trailingDot: `${jwt}.`,
      slashInSignature: `${h}.${p}./${s.slice(1)}`,
      typAccessToken: await signWithRealKey({ ...header, typ: "at+jwt" }, payload),
      typMissing: await signWithRealKey({ alg: header.alg, kid: header.kid }, payload),
      kidMissing: await signWithRealKey({ alg: header.alg, typ: "JWT" }, payload),
      kidUnknown: await signWithRealKey({ ...header, kid: "kid-unknown" }, payload),
      headerNotJson: await signWithRealKey(b64("not json"), payload),
      oversized: await signWithRealKey(header, { ...payload, pad: "x".repeat(9000) }),
      wrongAudience: await signWithRealKey(header, { ...payload, aud: ["project-test-other"] }),
      audienceMissing: await signWithRealKey(header, { ...payload, aud: undefined }),
      wrongIssuer: await signWithRealKey(header, { ...payload, iss: "https://evil.example" }),
      notYetValid: await signWithRealKey(header, { ...payload, nbf: now + 3600 }),
      issuedInTheFuture: await signWithRealKey(header, { ...payload, iat: now + 3600 }),
      expMissing: await signWithRealKey(header, { ...payload, exp: undefined }),
      expNotANumber: await signWithRealKey(header, { ...payload, exp: String(payload.exp) }),
      subNotAString: await signWithRealKey(header, { ...payload, sub: 42 }),
      expired: await signWithRealKey(header, { ...payload, exp: now }),
      sessionClaimMissing: await signWithRealKey(header, { ...payload, "https://stytch.com/session": undefined }),
      payloadAnArray: await signWithRealKey(header, [payload]),
      payloadNotUtf8: await signWithRealKey(header, new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])),
    };
    const standardAlphabet = jwt.replace(/-/g, "+").replace(/_/g, "/");
    if (standardAlphabet !== jwt) cases.standardAlphabet = standardAlphabet;
    // Each header a verifier must not act on, though validly signed by the project's key.
    for (const extra of [{ jku: "https://evil.example/jwks" }, { x5u: "https://evil.example/cert" }, { jwk: { kty: "RSA", n: "x", e: "AQAB" } }, { x5c: ["MIIB"] }, { crit: ["exp"], exp: 1 }, { b64: true }, { b64: false, crit: ["b64"] }]) {
      cases[`header ${Object.keys(extra).join("+")}=${JSON.stringify(Object.values(extra)[0])}`] = await signWithRealKey({ ...header, ...extra }, payload);
    }
    // Algorithm confusion: another alg in the header, the real key's signature (over the new header) or the original one.
    for (const other of otherAlgs) {
      cases[`alg ${other}, signed by the ${alg} key`] = await signWithRealKey({ ...header, alg: other }, payload);
      cases[`alg ${other}, original signature`] = `${b64({ ...header, alg: other })}.${p}.${other === "none" ? "" : s}`;
    }
    return cases;
  };

  for (const path of ["node:crypto", "WebCrypto"] as const) {
    it(`refuses each with ${path}, and accepts the genuine token`, async () => {
      const verifier = verifierOn(path, { url: server.baseUrl, projectId: server.project.project.projectId, now: () => server.clock.now() });
      verifiers.push(verifier);
      const before = { ...seen };
      expect((await verifier.authenticateJwt(jwt)).verified_by).toBe("local");
      expect((await verifier.authenticateJwt(await signWithRealKey(header, payload))).verified_by).toBe("local"); // the control
      // the path under test is the one that checked the signatures
      if (path === "node:crypto") expect([seen.node - before.node, seen.webCrypto - before.webCrypto]).toEqual([2, 0]);
      else expect([seen.node - before.node, seen.webCrypto - before.webCrypto]).toEqual([0, 2]);

      const outcomes: Record<string, string> = {};
      for (const [name, token] of Object.entries(await hostile())) outcomes[name] = await outcome(verifier.authenticateJwt(token));
      expect(outcomes).toEqual(Object.fromEntries(Object.keys(outcomes).map((name) => [name, name === "expired" ? "jwt_expired" : "jwt_invalid"])));
    });
  }
});


describe("tessera/verify refuses a key jose refuses", () => {
  it("an RS256 key under 2048 bits, on both paths (the same token with a 2048-bit key is accepted)", async () => {
    const projectId = "project-test-small-key";
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: "https://auth.example", aud: [projectId], sub: "user-test-1", iat: now, nbf: now, exp: now + 300, "https://stytch.com/session": { id: "session-test-1" } };
    for (const [bits, expected] of [[1024, "jwt_invalid"], [2048, "accepted"]] as const) {
      const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: bits });
      const jwks = { keys: [{ ...publicKey.export({ format: "jwk" }), kid: `rsa-${bits}`, alg: "RS256", use: "sig" }] };
      const input = `${b64({ alg: "RS256", kid: `rsa-${bits}`, typ: "JWT" })}.${b64(claims)}`;
      const jwt = `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
      for (const path of ["node:crypto", "WebCrypto"] as const) {
        const verifier = verifierOn(path, { url: "https://auth.example", projectId, fetch: async () => Response.json(jwks) });
        expect(await outcome(verifier.authenticateJwt(jwt)), `${bits} bits, ${path}`).toBe(expected);
      }
    }
  });
});
