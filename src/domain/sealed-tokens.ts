import type { Store, Vault } from "./ports.js";
import type { Session } from "./types.js";

/**
 * Session tokens kept recoverable, as Stytch's API needs: an exchange by JWT answers with the session's
 * token. Lookups still go through the token's SHA-256; the token itself is stored only sealed under the
 * master key (the envelope of the signing keys), with the session id as associated data, so an
 * envelope copied onto another session's row does not open.
 */
export function sealSessionToken(vault: Vault, sessionId: string, token: string): string {
  return vault.encrypt(token, sessionId);
}

/**
 * The session's token, or "" when there is none to give: sessions made before migration 0006 have no
 * envelope, and an envelope the keyring cannot open (its master key dropped before `keys reencrypt`)
 * costs the caller only the token, never the exchange.
 */
export function openSessionToken(vault: Vault, session: Pick<Session, "sessionId" | "tokenSealed">): string {
  if (!session.tokenSealed) return "";
  try {
    return vault.decrypt(session.tokenSealed, session.sessionId);
  } catch {
    return "";
  }
}

const RESEAL_PAGE = 500;

/**
 * Seals every stored session token again under the first master key (`tessera keys reencrypt`). An
 * envelope the keyring cannot open (tampered, or under a key already dropped) is left as it is and
 * counted: it was of no use before either, and the exchange answers "" for it.
 */
export async function resealSessionTokens(deps: { store: Store; vault: Vault }): Promise<{ resealed: number; unreadable: number }> {
  const counts = { resealed: 0, unreadable: 0 };
  let after = "";
  for (;;) {
    const page = await deps.store.sealedTokens.page(after, RESEAL_PAGE);
    // Row by row, no transaction needed: every envelope opens under the keyring before, during and after.
    for (const { sessionId, tokenSealed } of page) {
      const token = openSessionToken(deps.vault, { sessionId, tokenSealed });
      if (!token) {
        counts.unreadable++;
        continue;
      }
      await deps.store.sealedTokens.replace(sessionId, sealSessionToken(deps.vault, sessionId, token));
      counts.resealed++;
    }
    if (page.length < RESEAL_PAGE) return counts;
    after = page.at(-1)!.sessionId;
  }
}
