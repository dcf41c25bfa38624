import { compactVerify } from "jose";
import { ALGORITHMS } from "./jwt-rules.js";

/**
 * Checks the signature of a canonical compact JWS whose header passed `checkedHeader`, with the key the
 * JWKS pinned to its kid and alg. Resolves to the payload's bytes, or null for any failure.
 */
export type SignatureCheck = (jwt: string, key: CryptoKey, alg: string) => Promise<Uint8Array | null>;

/**
 * node:crypto where the runtime has it, else jose (WebCrypto). tessera-verify is one neutral bundle for
 * Node and for any runtime with fetch and WebCrypto, so Node's modules are found without an import:
 * `process.getBuiltinModule` (Node ≥ 20.16, 22.3). Measured on Node 20 (README, Performance), the
 * node:crypto path is the faster one for all three algorithms; jose's stays the path everywhere else.
 */
export function createSignatureCheck(): SignatureCheck {
  const node = nodeModules();
  return node ? nodeSignatureCheck(node) : joseSignatureCheck;
}

/** jose's compactVerify: the allow-list again, and it checks that the key's algorithm is the header's (RFC 8725 §3.1). */
const joseSignatureCheck: SignatureCheck = async (jwt, key) => {
  try {
    return (await compactVerify(jwt, key, { algorithms: ALGORITHMS })).payload;
  } catch {
    return null; // with the key in hand, every failure is the token's
  }
};

interface NodeKeyObject {
  readonly asymmetricKeyType?: string;
  readonly asymmetricKeyDetails?: { modulusLength?: number; namedCurve?: string };
}
type NodeKeyInput = NodeKeyObject | { key: NodeKeyObject; dsaEncoding: "ieee-p1363" };
interface NodeCrypto {
  KeyObject: { from(key: CryptoKey): NodeKeyObject };
  verify(digest: string | null, data: Uint8Array, key: NodeKeyInput, signature: Uint8Array): boolean;
  verify(digest: string | null, data: Uint8Array, key: NodeKeyInput, signature: Uint8Array, callback: (error: Error | null, valid: boolean) => void): void;
}
interface NodeModules {
  crypto: NodeCrypto;
  Buffer: { from(value: string, encoding: "base64url" | "latin1"): Uint8Array };
}

function nodeModules(): NodeModules | null {
  const runtime = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof runtime?.getBuiltinModule !== "function") return null;
  try {
    const crypto = runtime.getBuiltinModule("node:crypto") as NodeCrypto | undefined;
    const buffer = runtime.getBuiltinModule("node:buffer") as { Buffer?: NodeModules["Buffer"] } | undefined;
    if (typeof crypto?.verify !== "function" || typeof crypto.KeyObject?.from !== "function" || typeof buffer?.Buffer?.from !== "function") return null;
    return { crypto, Buffer: buffer.Buffer };
  } catch {
    return null;
  }
}

/**
 * RFC 7518 §3.3, §3.4 and RFC 8037 as node:crypto parameters, with what jose also demands of the key:
 * RS256 is PKCS#1 v1.5 over SHA-256 with a modulus of at least 2048 bits; ES256 is P-256 over SHA-256
 * with a 64-byte r‖s signature (not DER); EdDSA is Ed25519 (the only curve Tessera signs with).
 * `sync`: RSA verification is cheap enough that a thread-pool hop costs more than it saves (measured).
 */
const NODE_ALGORITHMS: Record<string, { digest: string | null; keyType: string; curve?: string; signatureBytes?: number; sync: boolean }> = {
  RS256: { digest: "sha256", keyType: "rsa", sync: true },
  ES256: { digest: "sha256", keyType: "ec", curve: "prime256v1", signatureBytes: 64, sync: false },
  EdDSA: { digest: null, keyType: "ed25519", signatureBytes: 64, sync: false },
};

interface PreparedKey {
  input: NodeKeyInput;
  digest: string | null;
  signatureBytes: number | undefined;
  sync: boolean;
}

function nodeSignatureCheck({ crypto, Buffer }: NodeModules): SignatureCheck {
  /** The KeyObject and parameters for a key and alg, or null when the key does not fit the alg. */
  const fit = (key: CryptoKey, alg: string): PreparedKey | null => {
    const spec = Object.hasOwn(NODE_ALGORITHMS, alg) ? NODE_ALGORITHMS[alg]! : null;
    if (!spec || key.type !== "public" || !key.usages.includes("verify")) return null;
    let keyObject: NodeKeyObject;
    try {
      keyObject = crypto.KeyObject.from(key);
    } catch {
      return null;
    }
    const details = keyObject.asymmetricKeyDetails ?? {};
    if (keyObject.asymmetricKeyType !== spec.keyType) return null;
    if (spec.keyType === "rsa" && !((details.modulusLength ?? 0) >= 2048)) return null;
    if (spec.curve !== undefined && details.namedCurve !== spec.curve) return null;
    return { input: spec.keyType === "ec" ? { key: keyObject, dsaEncoding: "ieee-p1363" } : keyObject, digest: spec.digest, signatureBytes: spec.signatureBytes, sync: spec.sync };
  };
  /** Per CryptoKey (KeyCache imports one per kid and alg): its fit, computed once. */
  const prepared = new WeakMap<CryptoKey, { alg: string; entry: PreparedKey | null }>();
  const prepare = (key: CryptoKey, alg: string): PreparedKey | null => {
    const cached = prepared.get(key);
    if (cached?.alg === alg) return cached.entry;
    const entry = fit(key, alg);
    if (!cached) prepared.set(key, { alg, entry });
    return entry;
  };

  return (jwt, key, alg) => {
    const entry = prepare(key, alg);
    if (!entry) return Promise.resolve(null);
    const first = jwt.indexOf(".");
    const last = jwt.lastIndexOf(".");
    // RFC 7515 §5.2: the signing input is the ASCII of the first two segments as received (the
    // canonical check already limited the token to the base64url alphabet and two dots).
    const signingInput = Buffer.from(jwt.slice(0, last), "latin1");
    const signature = Buffer.from(jwt.slice(last + 1), "base64url");
    if (entry.signatureBytes !== undefined && signature.length !== entry.signatureBytes) return Promise.resolve(null);
    const payload = () => Buffer.from(jwt.slice(first + 1, last), "base64url");
    if (entry.sync) {
      try {
        return Promise.resolve(crypto.verify(entry.digest, signingInput, entry.input, signature) ? payload() : null);
      } catch {
        return Promise.resolve(null);
      }
    }
    return new Promise((resolve) => {
      try {
        crypto.verify(entry.digest, signingInput, entry.input, signature, (error, valid) => resolve(!error && valid ? payload() : null));
      } catch {
        resolve(null);
      }
    });
  };
}
