import { compactVerify } from "jose";
import { ALGORITHMS } from "./jwt-rules.js";

/**
 * Checks the signature of a canonical compact JWS whose header passed `checkedHeader`, with the key the
 * JWKS pinned to its kid and alg. Resolves to the payload's bytes, or null for any failure.
 */
export type SignatureCheck = (jwt: string, key: CryptoKey, alg: string) => Promise<Uint8Array | null>;

export function createSignatureCheck(): SignatureCheck {
  return joseSignatureCheck;
}

/** jose's compactVerify: the allow-list again, and it checks that the key's algorithm is the header's (RFC 8725 §3.1). */
const joseSignatureCheck: SignatureCheck = async (jwt, key) => {
  try {
    return (await compactVerify(jwt, key, { algorithms: ALGORITHMS })).payload;
  } catch {
    return null; // with the key in hand, every failure is the token's
  }
};
