import { createHash, pbkdf2, scrypt, type BinaryLike } from "node:crypto";
import { promisify } from "node:util";
import { verify as bcryptVerify } from "@node-rs/bcrypt";
import { decodeBase64, HASH_LIMITS } from "../domain/imported-hash.js";
import { digestsEqual } from "../domain/tokens.js";

/**
 * Verifies the stored forms of src/domain/imported-hash.ts (bcrypt, scrypt, PBKDF2, salted MD5/SHA-1/
 * SHA-512) with well-kept implementations: @node-rs/bcrypt and node:crypto, both off the event loop
 * except the plain digests, which take microseconds. argon2 strings are the argon2 hasher's own.
 */

const scryptAsync = promisify(scrypt) as (password: BinaryLike, salt: BinaryLike, keylen: number, options: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);
const DIGEST_ALGORITHMS: Record<string, string> = { md5: "md5", sha1: "sha1", sha512: "sha512" };

const equal = (a: Buffer, b: Buffer) => digestsEqual(a.toString("hex"), b.toString("hex"));

/** `$<id>$<k=v,…>$<salt>$<hash>` → its parts, or null when the string is not of that shape. */
function parse(stored: string): { id: string; params: Map<string, string>; salt: Buffer; key: Buffer } | null {
  const fields = stored.split("$");
  if (fields.length !== 5 || fields[0] !== "") return null;
  const params = new Map(fields[2]!.split(",").map((pair) => pair.split("=", 2) as [string, string]));
  const salt = decodeBase64(fields[3]!);
  const key = decodeBase64(fields[4]!);
  return salt && key ? { id: fields[1]!, params, salt, key } : null;
}

export function isImportedHash(stored: string): boolean {
  return /^\$2[aby]\$/.test(stored) || /^\$(scrypt|pbkdf2-sha256|pbkdf2-sha512|md5|sha1|sha512)\$/.test(stored);
}

/** True when `password` (its UTF-8 bytes, as the old system hashed them) matches; false for a mismatch or a malformed stored value. */
export async function verifyImportedHash(stored: string, password: string): Promise<boolean> {
  if (/^\$2[aby]\$/.test(stored)) return bcryptVerify(password, stored);
  const parts = parse(stored);
  if (!parts) return false;
  const { id, params, salt, key } = parts;
  const number = (name: string) => Number(params.get(name));
  if (id === "scrypt") {
    const options = { N: 2 ** number("ln"), r: number("r"), p: number("p"), maxmem: HASH_LIMITS.scrypt.maxMemoryBytes + 1024 * 1024 };
    return equal(await scryptAsync(password, salt, key.length, options), key);
  }
  if (id.startsWith("pbkdf2-")) return equal(await pbkdf2Async(password, salt, number("i"), key.length, id.slice("pbkdf2-".length)), key);
  const algorithm = DIGEST_ALGORITHMS[id];
  if (!algorithm) return false;
  const prepend = decodeBase64(params.get("pre") ?? "") ?? Buffer.alloc(0);
  const append = decodeBase64(params.get("app") ?? "") ?? Buffer.alloc(0);
  return equal(createHash(algorithm).update(prepend).update(password, "utf8").update(append).digest(), key);
}
