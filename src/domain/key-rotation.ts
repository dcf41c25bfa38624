import { addSeconds } from "./clock.js";
import { createSigningKey, JWKS_MAX_AGE_SECONDS, prepareSigningKey, saveSigningKey, PUBLICATION_LEAD_SECONDS, retentionSeconds, type PublicJwk, type SigningKeys } from "./keys.js";
import type { Clock, Store, Vault } from "./ports.js";
import type { KeyState, Project, SigningKeyRecord } from "./types.js";

type RotationDeps = { store: Store; vault: Vault; clock: Clock };

export interface KeyTransition {
  kid: string;
  to: KeyState | "created";
}

const DAY_SECONDS = 86_400;
const newestFirst = (a: SigningKeyRecord, b: SigningKeyRecord) => b.createdAt.getTime() - a.createdAt.getTime();

/**
 * One idempotent step of the schedule for one project, at `clock.now()`:
 * - a `next` key is made one publication lead before the current key's interval ends;
 * - a `next` key whose `activate_at` has come becomes `current`, the old current `previous`;
 * - a `previous` key is `retired` once every JWT it signed has expired (lifetime + caches + skew).
 * Each move is a conditional update, so two runners can never apply the same move twice.
 */
export async function rotateKeysIfDue(deps: RotationDeps, project: Project): Promise<KeyTransition[]> {
  const now = deps.clock.now();
  const moves: KeyTransition[] = [];
  const keys = await deps.store.signingKeys.listAll(project.projectId);
  const current = keys.filter((k) => k.state === "current").sort(newestFirst)[0];
  let next = keys.filter((k) => k.state === "next").sort(newestFirst)[0];

  if (!current) {
    // A project always signs with something; a lost current key (manual edits) is replaced at once.
    const made = await createSigningKey(deps, project.projectId, project.settings.jwtAlgorithm, "current");
    return [{ kid: made.kid, to: "created" }];
  }

  const intervalEnds = addSeconds(current.activatedAt ?? current.createdAt, project.settings.keyRotationIntervalDays * DAY_SECONDS);
  if (!next && addSeconds(now, PUBLICATION_LEAD_SECONDS) >= intervalEnds) {
    const activateAt = intervalEnds > addSeconds(now, PUBLICATION_LEAD_SECONDS) ? intervalEnds : addSeconds(now, PUBLICATION_LEAD_SECONDS);
    next = await createSigningKey(deps, project.projectId, project.settings.jwtAlgorithm, "next", activateAt);
    moves.push({ kid: next.kid, to: "created" });
  }

  if (next?.activateAt && next.activateAt <= now) {
    if (await deps.store.signingKeys.transition(current.kid, "current", "previous", now)) {
      await deps.store.signingKeys.transition(next.kid, "next", "current", now);
      await record(deps, project, next.kid, "key.activated");
      await record(deps, project, current.kid, "key.deactivated");
      moves.push({ kid: next.kid, to: "current" }, { kid: current.kid, to: "previous" });
    }
  }

  const keepFor = retentionSeconds(project.settings.jwtLifetimeSeconds);
  for (const old of keys.filter((k) => k.state === "previous")) {
    if (old.deactivatedAt && addSeconds(old.deactivatedAt, keepFor) <= now && (await deps.store.signingKeys.transition(old.kid, "previous", "retired", now))) {
      await record(deps, project, old.kid, "key.retired");
      moves.push({ kid: old.kid, to: "retired" });
    }
  }
  return moves;
}

/**
 * A forced rotation. Without `immediately` it schedules a new key one publication lead from now (the
 * schedule promotes it); `immediately` is the leak response: a new key signs at once, and every key
 * that ever signed is retired, so their tokens stop verifying anywhere, the exchange included.
 */
export async function forceRotation(deps: RotationDeps, project: Project, options: { immediately: boolean }): Promise<KeyTransition[]> {
  const now = deps.clock.now();
  const soon = addSeconds(now, PUBLICATION_LEAD_SECONDS);
  // Generated before the transaction: RSA key generation must not hold it open (nor the request's deadline).
  const made = await prepareSigningKey(deps, project.projectId, project.settings.jwtAlgorithm, options.immediately ? "current" : "next", options.immediately ? null : soon);
  return deps.store.transaction(async (store) => {
    const tx = { ...deps, store };
    const keys = await store.signingKeys.listAll(project.projectId);
    const live = keys.filter((k) => k.state !== "retired");
    if (!options.immediately) {
      const pending = live.find((k) => k.state === "next");
      if (pending) {
        if (!pending.activateAt || pending.activateAt > soon) await store.signingKeys.setActivateAt(pending.kid, soon);
        return [{ kid: pending.kid, to: "next" as const }];
      }
      await saveSigningKey(tx, made);
      return [{ kid: made.kid, to: "created" as const }];
    }
    const moves: KeyTransition[] = [];
    for (const key of live) {
      if (await store.signingKeys.transition(key.kid, key.state, "retired", now)) {
        await record(tx, project, key.kid, "key.retired", { forced: true });
        moves.push({ kid: key.kid, to: "retired" });
      }
    }
    await saveSigningKey(tx, made);
    moves.push({ kid: made.kid, to: "current" });
    return moves;
  });
}

/** Seals every private key again under the first master key of the keyring (after adding a new one). */
export async function reencryptKeys(deps: RotationDeps): Promise<number> {
  return deps.store.transaction(async (store) => {
    const envelopes = await store.signingKeys.listEnvelopes();
    for (const { kid, privateKeyEncrypted } of envelopes) {
      await store.signingKeys.updateEnvelope(kid, deps.vault.encrypt(deps.vault.decrypt(privateKeyEncrypted, kid), kid));
    }
    return envelopes.length;
  });
}

/**
 * The published keys and how long a verifier may cache them: the usual lifetime, shortened when a
 * `previous` key is due to retire sooner, so cached copies drop it on schedule.
 */
export async function publishedJwks(deps: { keys: SigningKeys; clock: Clock }, project: Project): Promise<{ keys: PublicJwk[]; maxAgeSeconds: number }> {
  const records = await deps.keys.published(project.projectId);
  const now = deps.clock.now().getTime();
  const retirements = records
    .filter((k) => k.state === "previous" && k.deactivatedAt)
    .map((k) => Math.ceil((addSeconds(k.deactivatedAt!, retentionSeconds(project.settings.jwtLifetimeSeconds)).getTime() - now) / 1000))
    .filter((s) => s > 0);
  return { keys: records.map((r) => r.publicJwk as PublicJwk), maxAgeSeconds: Math.min(JWKS_MAX_AGE_SECONDS, ...retirements) };
}

async function record(deps: { store: Store }, project: Project, kid: string, type: "key.activated" | "key.deactivated" | "key.retired", details: Record<string, unknown> = {}) {
  await deps.store.events.record({ projectId: project.projectId, type, actor: "system", details: { kid, ...details } });
}
