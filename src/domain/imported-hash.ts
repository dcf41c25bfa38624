import { TesseraError } from "../errors.js";

/**
 * Password hashes imported from another system (Stytch's passwords.migrate), checked and turned into
 * one self-describing string for the `passwords.hash` column, so a login knows the algorithm and its
 * parameters from the stored value alone. bcrypt and argon2 keep their own modular-crypt/PHC strings;
 * the others get a PHC-shaped string of ours: `$<id>$<k=v,…>$<salt>$<hash>` (salt and hash in base64
 * without padding, PHC's alphabet). The first good login replaces any of them with the project's argon2id.
 *
 * The bounds keep one login's verification within what a login may cost (about a second and at most
 * 256 MiB): a hash is attacker-triggerable work as soon as its email is known.
 */
export const HASH_TYPES = ["bcrypt", "scrypt", "argon_2i", "argon_2id", "pbkdf_2", "md_5", "sha_1", "sha_512"] as const;
export type HashType = (typeof HASH_TYPES)[number];

export const HASH_LIMITS = {
  maxHashLength: 1024,
  maxSaltBytes: 256,
  bcryptCost: { min: 4, max: 14 },
  /** KiB, as argon2 counts it. */
  argon2: { maxMemoryKiB: 262_144, maxIterations: 20, maxThreads: 16 },
  scrypt: { maxN: 262_144, maxR: 32, maxP: 16, maxMemoryBytes: 256 * 1024 * 1024 },
  pbkdf2: { maxIterations: 2_000_000 },
  keyLength: { min: 16, max: 128 },
} as const;

export interface SaltConfig {
  prepend_salt?: string | undefined;
  append_salt?: string | undefined;
}

/** The hash fields of a migrate request, named as on the wire. */
export interface ImportedHashInput {
  hash: string;
  hash_type: string;
  md_5_config?: SaltConfig | undefined;
  sha_1_config?: SaltConfig | undefined;
  sha_512_config?: SaltConfig | undefined;
  argon_2_config?: { salt: string; iteration_amount: number; memory: number; threads: number; key_length: number } | undefined;
  scrypt_config?: { salt: string; n_parameter: number; r_parameter: number; p_parameter: number; key_length: number } | undefined;
  pbkdf_2_config?: { salt: string; iteration_amount: number; key_length: number; algorithm?: string | undefined } | undefined;
}

/** Digest sizes in bytes of the unsalted-KDF types, and the id of their stored form. */
const DIGESTS = { md_5: { id: "md5", bytes: 16 }, sha_1: { id: "sha1", bytes: 20 }, sha_512: { id: "sha512", bytes: 64 } } as const;
const PBKDF2_ALGORITHMS = ["sha256", "sha512"] as const;

const invalid = (message: string) => new TesseraError("invalid_hash", { message });
const b64 = (bytes: Buffer) => bytes.toString("base64").replace(/=+$/, "");

/** Strict base64 (standard or URL alphabet, padding optional): null for anything else. */
export function decodeBase64(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(text) || text.replace(/=+$/, "").length % 4 === 1) return null;
  return Buffer.from(text, "base64");
}

function decodeHex(text: string): Buffer | null {
  return /^(?:[0-9a-fA-F]{2})+$/.test(text) ? Buffer.from(text, "hex") : null;
}

function integer(value: number, name: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw invalid(`${name} must be an integer from ${min} to ${max}.`);
  return value;
}

function salt(text: string, name: string, decode: (s: string) => Buffer | null): Buffer {
  const bytes = decode(text);
  if (!bytes) throw invalid(`${name} must be base64.`);
  if (bytes.length > HASH_LIMITS.maxSaltBytes) throw invalid(`${name} is longer than ${HASH_LIMITS.maxSaltBytes} bytes.`);
  return bytes;
}

/** The derived key, as base64 (or hex where `hex` allows it), of exactly `keyLength` bytes when given. */
function derivedKey(text: string, options: { hex?: boolean; keyLength?: number }): Buffer {
  const bytes = (options.hex ? decodeHex(text) : null) ?? decodeBase64(text);
  if (!bytes || bytes.length === 0) throw invalid(`hash must be ${options.hex ? "hex or base64" : "base64"}.`);
  if (options.keyLength !== undefined && bytes.length !== options.keyLength) throw invalid(`hash is ${bytes.length} bytes; key_length says ${options.keyLength}.`);
  integer(bytes.length, "the hash's length in bytes", HASH_LIMITS.keyLength.min, HASH_LIMITS.keyLength.max);
  return bytes;
}

const BCRYPT = /^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const ARGON2 = /^\$(argon2id|argon2i)\$(?:v=(16|19)\$)?m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,2})\$([A-Za-z0-9+/]{11,})\$([A-Za-z0-9+/]{22,})$/;
const SCRYPT_PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]*)\$([A-Za-z0-9+/]+)$/;

function bcrypt(hash: string): string {
  const match = BCRYPT.exec(hash);
  if (!match) throw invalid("a bcrypt hash looks like $2b$10$ followed by 53 characters of bcrypt's base64.");
  integer(Number(match[1]), "the bcrypt cost", HASH_LIMITS.bcryptCost.min, HASH_LIMITS.bcryptCost.max);
  return hash;
}

function argon2Params(memory: number, iterations: number, threads: number) {
  const limits = HASH_LIMITS.argon2;
  integer(threads, "argon2 threads", 1, limits.maxThreads);
  integer(memory, "argon2 memory (KiB)", 8 * threads, limits.maxMemoryKiB);
  integer(iterations, "argon2 iteration_amount", 1, limits.maxIterations);
}

function argon2(input: ImportedHashInput, variant: "argon2i" | "argon2id"): string {
  const config = input.argon_2_config;
  if (config) {
    argon2Params(config.memory, config.iteration_amount, config.threads);
    const saltBytes = Buffer.from(config.salt, "utf8");
    if (saltBytes.length < 8 || saltBytes.length > HASH_LIMITS.maxSaltBytes) throw invalid(`argon_2_config.salt must be 8 to ${HASH_LIMITS.maxSaltBytes} bytes.`);
    const key = derivedKey(input.hash, { hex: true, keyLength: config.key_length });
    return `$${variant}$v=19$m=${config.memory},t=${config.iteration_amount},p=${config.threads}$${b64(saltBytes)}$${b64(key)}`;
  }
  const match = ARGON2.exec(input.hash);
  if (!match) throw invalid(`an ${variant} hash is a PHC string ($${variant}$v=19$m=…,t=…,p=…$salt$hash), or hex with argon_2_config.`);
  if (match[1] !== variant) throw invalid(`the hash is ${match[1]}, but hash_type says ${input.hash_type}.`);
  argon2Params(Number(match[3]), Number(match[4]), Number(match[5]));
  derivedKey(match[7]!, {});
  return input.hash;
}

function scrypt(input: ImportedHashInput): string {
  const config = input.scrypt_config;
  let parts: { n: number; r: number; p: number; salt: Buffer; key: Buffer };
  if (config) {
    parts = { n: config.n_parameter, r: config.r_parameter, p: config.p_parameter, salt: salt(config.salt, "scrypt_config.salt", decodeBase64), key: derivedKey(input.hash, { keyLength: config.key_length }) };
  } else {
    const match = SCRYPT_PHC.exec(input.hash);
    if (!match) throw invalid("a scrypt hash is a PHC string ($scrypt$ln=…,r=…,p=…$salt$hash), or base64 with scrypt_config.");
    parts = { n: 2 ** Number(match[1]), r: Number(match[2]), p: Number(match[3]), salt: salt(match[4]!, "the salt", decodeBase64), key: derivedKey(match[5]!, {}) };
  }
  const limits = HASH_LIMITS.scrypt;
  integer(parts.n, "scrypt n_parameter", 2, limits.maxN);
  if ((parts.n & (parts.n - 1)) !== 0) throw invalid("scrypt n_parameter must be a power of two.");
  integer(parts.r, "scrypt r_parameter", 1, limits.maxR);
  integer(parts.p, "scrypt p_parameter", 1, limits.maxP);
  if (128 * parts.n * parts.r > limits.maxMemoryBytes) throw invalid(`scrypt needs 128·N·r bytes; at most ${limits.maxMemoryBytes} are allowed.`);
  return `$scrypt$ln=${Math.log2(parts.n)},r=${parts.r},p=${parts.p}$${b64(parts.salt)}$${b64(parts.key)}`;
}

function pbkdf2(input: ImportedHashInput): string {
  const config = input.pbkdf_2_config;
  if (!config) throw invalid("pbkdf_2 needs pbkdf_2_config (salt, iteration_amount, key_length, algorithm).");
  const algorithm = (config.algorithm || "sha256").toLowerCase();
  if (!(PBKDF2_ALGORITHMS as readonly string[]).includes(algorithm)) throw invalid(`pbkdf_2_config.algorithm must be one of ${PBKDF2_ALGORITHMS.join(", ")}.`);
  const iterations = integer(config.iteration_amount, "pbkdf_2_config.iteration_amount", 1, HASH_LIMITS.pbkdf2.maxIterations);
  const saltBytes = salt(config.salt, "pbkdf_2_config.salt", decodeBase64);
  const key = derivedKey(input.hash, { keyLength: config.key_length });
  return `$pbkdf2-${algorithm}$i=${iterations},l=${key.length}$${b64(saltBytes)}$${b64(key)}`;
}

function digest(input: ImportedHashInput, type: keyof typeof DIGESTS): string {
  const config = { md_5: input.md_5_config, sha_1: input.sha_1_config, sha_512: input.sha_512_config }[type] ?? {};
  const prepend = config.prepend_salt ?? "";
  const append = config.append_salt ?? "";
  for (const [name, value] of [["prepend_salt", prepend], ["append_salt", append]] as const) {
    if (Buffer.byteLength(value, "utf8") > HASH_LIMITS.maxSaltBytes) throw invalid(`${type}_config.${name} is longer than ${HASH_LIMITS.maxSaltBytes} bytes.`);
  }
  const { id, bytes } = DIGESTS[type];
  const key = (decodeHex(input.hash) ?? decodeBase64(input.hash)) as Buffer | null;
  if (!key || key.length !== bytes) throw invalid(`a ${type} hash is ${bytes} bytes: ${bytes * 2} hex digits (or base64).`);
  return `$${id}$pre=${b64(Buffer.from(prepend, "utf8"))},app=${b64(Buffer.from(append, "utf8"))}$$${b64(key)}`;
}

/** Checks a migrate request's hash and config and returns the stored form; `invalid_hash_type` or `invalid_hash` otherwise. */
export function storedFormOf(input: ImportedHashInput): string {
  const type = input.hash_type as HashType;
  if (!HASH_TYPES.includes(type)) throw new TesseraError("invalid_hash_type", { message: `hash_type must be one of ${HASH_TYPES.join(", ")}.` });
  if (input.hash.length === 0 || input.hash.length > HASH_LIMITS.maxHashLength) throw invalid(`hash must be 1 to ${HASH_LIMITS.maxHashLength} characters.`);
  switch (type) {
    case "bcrypt":
      return bcrypt(input.hash);
    case "argon_2i":
      return argon2(input, "argon2i");
    case "argon_2id":
      return argon2(input, "argon2id");
    case "scrypt":
      return scrypt(input);
    case "pbkdf_2":
      return pbkdf2(input);
    default:
      return digest(input, type);
  }
}
