import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Vault } from "../domain/ports.js";
import { readOrCreateSecretFile } from "./secret-file.js";

const VERSION = "v1";
const IV_BYTES = 12; // NIST SP 800-38D: 96-bit IVs for GCM
const TAG_BYTES = 16;

/** A short, non-secret fingerprint naming which master key sealed an envelope. */
export function masterKeyId(key: Buffer): string {
  return createHash("sha256").update("tessera-master-key-id").update(key).digest("base64url").slice(0, 8);
}

export class VaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VaultError";
  }
}

/**
 * AES-256-GCM under the master keyring: the first key seals, any key opens. The envelope is
 * `v1.<key id>.<iv>.<ciphertext+tag>`, and `aad` (the signing key's kid, the session's id) is bound to it, so a
 * ciphertext copied onto another row does not decrypt.
 */
export function createVault(masterKeys: readonly Buffer[]): Vault {
  if (masterKeys.length === 0) throw new VaultError("the master keyring is empty");
  const byId = new Map(masterKeys.map((k) => [masterKeyId(k), k]));
  const sealing = masterKeys[0]!;
  const sealingId = masterKeyId(sealing);
  return {
    encrypt(plaintext, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", sealing, iv, { authTagLength: TAG_BYTES });
      cipher.setAAD(Buffer.from(aad, "utf8"));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return [VERSION, sealingId, iv.toString("base64url"), body.toString("base64url")].join(".");
    },
    decrypt(envelope, aad) {
      const [version, keyId, ivText, bodyText] = envelope.split(".");
      if (version !== VERSION || !keyId || !ivText || !bodyText) throw new VaultError("malformed key envelope");
      const key = byId.get(keyId);
      if (!key) throw new VaultError(`an envelope (signing key or session token) is sealed under master key ${keyId}, which is not in the configured keyring`);
      const body = Buffer.from(bodyText, "base64url");
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(ivText, "base64url"), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(aad, "utf8"));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      try {
        return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString("utf8");
      } catch {
        throw new VaultError(`an envelope (signing key or session token) failed to decrypt under master key ${keyId} (wrong key or tampered row)`);
      }
    },
  };
}

/** The embedded default's master key: generated once into the data folder, readable by the owner only. */
export function loadOrCreateLocalMasterKey(dataDir: string): { key: Buffer; path: string; created: boolean } {
  const path = join(dataDir, "master.key");
  const { value, created } = readOrCreateSecretFile(path, () => randomBytes(32).toString("base64"));
  const key = Buffer.from(value, "base64");
  if (key.length !== 32) throw new VaultError(`${path} does not hold a 32-byte base64 master key`);
  return { key, path, created };
}
