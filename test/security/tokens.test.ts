import { createHmac } from "node:crypto";
import { exportSPKI, importJWK, type JWK } from "jose";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestServer, signUp, type TestServer } from "../helpers.js";

const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/**
 * RFC 8725 attacks against the exchange, each a hand-crafted token: every one must be refused as
 * session_not_found (one answer, whichever check failed) and change nothing in the database.
 */
describe("security: hostile JWTs at the exchange", () => {
  let server: TestServer;
  let login: Awaited<ReturnType<typeof signUp>>;
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  /** Signs with the project's real private key, so only the attacked property is wrong. */
  let signWithRealKey: (header: Record<string, unknown>, payload: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    server = await createTestServer();
    login = await signUp(server);
    [header, payload] = login.session_jwt.split(".").slice(0, 2).map((part) => JSON.parse(Buffer.from(part, "base64url").toString())) as [Record<string, unknown>, Record<string, unknown>];
    const signer = await server.deps.keys.signer(server.project.project.projectId);
    // The server's own signer signs any input, including the headers under attack here.
    signWithRealKey = async (h, p) => {
      const input = `${b64(h)}.${b64(p)}`;
      return `${input}.${await signer.sign(input)}`;
    };
  });
  afterAll(() => server.close());

  const snapshot = async () => JSON.stringify(await server.deps.database.db.execute(sql`select session_id, expires_at, last_accessed_at, revoked_at, custom_claims from sessions order by session_id`));
  const refused = async (jwt: string) => {
    const response = await server.call("POST", "/v1/sessions/authenticate", { session_jwt: jwt });
    return response.status === 404 && response.body.error_type === "session_not_found";
  };

  it("accepts the genuine token (the control)", async () => {
    expect(await refused(login.session_jwt)).toBe(false);
    expect(await refused(await signWithRealKey(header, payload))).toBe(false);
  });

  it("refuses algorithm confusion: HS256 signed with the RSA public key as the HMAC secret", async () => {
    const jwks = (await (await server.app.request(`/v1/sessions/jwks/${server.project.project.projectId}`)).json()).keys as JWK[];
    const pem = await exportSPKI((await importJWK({ ...jwks[0]!, alg: "RS256" }, "RS256", { extractable: true })) as CryptoKey);
    const forgedHeader = b64({ ...header, alg: "HS256" });
    const body = b64(payload);
    for (const secret of [pem, pem.trim(), JSON.stringify(jwks[0])]) {
      const signature = createHmac("sha256", secret).update(`${forgedHeader}.${body}`).digest("base64url");
      expect(await refused(`${forgedHeader}.${body}.${signature}`)).toBe(true);
    }
  });

  it("refuses alg none in any case, and algorithms other than the key's", async () => {
    const body = b64(payload);
    for (const alg of ["none", "None", "NONE", "nOnE"]) expect(await refused(`${b64({ ...header, alg })}.${body}.`), alg).toBe(true);
    const signature = login.session_jwt.split(".")[2];
    for (const alg of ["PS256", "RS384", "RS512", "ES256", "EdDSA", "HS512"]) expect(await refused(`${b64({ ...header, alg })}.${body}.${signature}`), alg).toBe(true);
  });

  it("refuses kid injection and unknown kids", async () => {
    for (const kid of ["../../../../etc/passwd", "' or '1'='1", "x'; drop table signing_keys; --", "", "a".repeat(5000), { $ne: null }]) {
      expect(await refused(`${b64({ ...header, kid })}.${b64(payload)}.${login.session_jwt.split(".")[2]}`)).toBe(true);
    }
    const count = await server.deps.database.db.execute(sql`select count(*)::int as n from signing_keys`);
    expect(JSON.stringify(count)).toMatch(/"n":1\b/);
  });

  it("refuses headers that would fetch or carry keys, and crit/b64, even when validly signed", async () => {
    for (const extra of [{ jku: "https://evil.example/jwks" }, { x5u: "https://evil.example/cert" }, { jwk: { kty: "RSA", n: "x", e: "AQAB" } }, { x5c: ["MIIB"] }, { crit: ["exp"] }, { b64: true }]) {
      expect(await refused(await signWithRealKey({ ...header, ...extra }, payload)), JSON.stringify(extra)).toBe(true);
    }
  });

  it("refuses tampered payloads, wrong audience or issuer, and a mismatched subject", async () => {
    const [h, , s] = login.session_jwt.split(".");
    expect(await refused(`${h}.${b64({ ...payload, sub: "user-test-victim" })}.${s}`)).toBe(true);
    expect(await refused(await signWithRealKey(header, { ...payload, aud: ["project-test-other"] }))).toBe(true);
    expect(await refused(await signWithRealKey(header, { ...payload, iss: "https://evil.example" }))).toBe(true);
    expect(await refused(await signWithRealKey(header, { ...payload, sub: "user-test-victim" }))).toBe(true);
  });

  it("refuses non-canonical encodings of a valid token and oversized tokens", async () => {
    const jwt = login.session_jwt;
    const [h, p, s] = jwt.split(".") as [string, string, string];
    // A 256-byte signature leaves 4 unused bits in its last base64url character: flipping one gives
    // another string that decodes to the very same bytes. Only the canonical encoding is accepted.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const sameBytes = `${s.slice(0, -1)}${alphabet[alphabet.indexOf(s.at(-1)!) ^ 1]}`;
    expect(Buffer.from(sameBytes, "base64url").equals(Buffer.from(s, "base64url"))).toBe(true);
    for (const variant of [`${jwt}==`, `${jwt} `, ` ${jwt}`, `${h}.${p}.${sameBytes}`, `${h}=.${p}.${s}`, `${h}.${p}.${s}.`, jwt.replace(/-/g, "+")]) {
      if (variant === jwt) continue;
      expect(await refused(variant), variant.slice(-12)).toBe(true);
    }
    expect(await refused(await signWithRealKey(header, { ...payload, pad: "x".repeat(9000) }))).toBe(true);
  });

  it("refuses ECDSA signatures of zeros", async () => {
    const ec = await createTestServer({ settings: { jwtAlgorithm: "ES256" } });
    try {
      const user = await signUp(ec);
      const [h, p] = user.session_jwt.split(".");
      for (const zeros of [Buffer.alloc(64), Buffer.alloc(0), Buffer.from([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00])]) {
        const response = await ec.call("POST", "/v1/sessions/authenticate", { session_jwt: `${h}.${p}.${zeros.toString("base64url")}` });
        expect(response.body.error_type).toBe("session_not_found");
      }
    } finally {
      await ec.close();
    }
  });

  it("refuses a token of another project, even one signed for the same user id shape", async () => {
    const other = await createTestServer();
    try {
      const foreign = await signUp(other);
      expect(await refused(foreign.session_jwt)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it("left every session untouched", async () => {
    const before = await snapshot();
    await refused(`${b64({ ...header, alg: "none" })}.${b64({ ...payload, exp: 9_999_999_999 })}.`);
    expect(await snapshot()).toBe(before);
  });
});
