import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { masterKeyId, VaultError } from "../../src/crypto/vault.js";
import { createDeps } from "../../src/deps.js";
import { reencryptKeys } from "../../src/domain/key-rotation.js";
import { createProject } from "../../src/domain/projects.js";
import { createTestEnvironment, type TestEnvironment } from "../helpers.js";

const silent = pino({ level: "silent" });
const b64 = (key: Buffer) => key.toString("base64");

describe("private keys at rest", () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  let environment: TestEnvironment;
  // One database (a PGlite folder, or a fresh Postgres database) opened by successive "servers".
  const open = (keys: Buffer[]) => createDeps(loadConfig({ ...environment.env, TESSERA_MASTER_KEY: "", TESSERA_MASTER_KEYS: keys.map(b64).join(",") }), { logger: silent });
  const rawKeys = async (deps: Awaited<ReturnType<typeof open>>) => {
    const result = await deps.database.db.execute(sql`select kid, private_key_encrypted from signing_keys`);
    return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as { kid: string; private_key_encrypted: string }[];
  };

  beforeAll(async () => {
    environment = await createTestEnvironment();
    const deps = await open([keyA]);
    await createProject(deps, { name: "one" });
    await createProject(deps, { name: "two", settings: { jwtAlgorithm: "EdDSA" } });
    await deps.close();
  });
  afterAll(() => environment.cleanup());

  it("stores only AES-GCM envelopes bound to the key id, never a private key in clear", async () => {
    const deps = await open([keyA]);
    try {
      const rows = await rawKeys(deps);
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row.private_key_encrypted).toMatch(new RegExp(`^v1\\.${masterKeyId(keyA)}\\.[A-Za-z0-9_-]{16}\\.[A-Za-z0-9_-]+$`));
        expect(row.private_key_encrypted).not.toMatch(/"d"|"kty"|PRIVATE KEY/);
        const jwk = JSON.parse(deps.vault.decrypt(row.private_key_encrypted, row.kid));
        expect(typeof jwk.d).toBe("string");
        // the kid is associated data: an envelope moved onto another key's row does not open
        const other = rows.find((r) => r.kid !== row.kid)!;
        expect(() => deps.vault.decrypt(row.private_key_encrypted, other.kid)).toThrow(VaultError);
      }
    } finally {
      await deps.close();
    }
  });

  it("refuses to start with the wrong master key, naming the problem", async () => {
    await expect(open([randomBytes(32)])).rejects.toThrow(/master key cannot open the stored signing keys.*TESSERA_MASTER_KEY/);
  });

  it("rotates the master key: keyring, reencrypt, then the old key can go", async () => {
    const both = await open([keyB, keyA]); // B seals, A still opens
    try {
      expect((await rawKeys(both)).every((r) => r.private_key_encrypted.startsWith(`v1.${masterKeyId(keyA)}.`))).toBe(true);
      expect(await reencryptKeys(both)).toBe(2);
      expect((await rawKeys(both)).every((r) => r.private_key_encrypted.startsWith(`v1.${masterKeyId(keyB)}.`))).toBe(true);
    } finally {
      await both.close();
    }
    const onlyB = await open([keyB]);
    await onlyB.close();
    await expect(open([keyA])).rejects.toThrow(VaultError);
  });
});
