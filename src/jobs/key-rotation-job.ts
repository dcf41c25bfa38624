import { rotateKeysIfDue, type KeyTransition } from "../domain/key-rotation.js";
import type { SigningKeys } from "../domain/keys.js";
import type { Clock, Logger, Store, Vault } from "../domain/ports.js";

/** Arbitrary constant naming the key-rotation duty among Postgres advisory locks. */
export const KEY_ROTATION_LOCK_ID = 7_250_311_002;
export const KEY_ROTATION_INTERVAL_MS = 60_000;

type JobDeps = { store: Store; vault: Vault; clock: Clock; keys: SigningKeys; logger: Logger };

/**
 * One pass over every project, on whichever instance takes the advisory lock; the others skip.
 * Returns null when another instance held the lock.
 */
export async function runKeyRotation(deps: JobDeps): Promise<KeyTransition[] | null> {
  const result = await deps.store.withAdvisoryLock(KEY_ROTATION_LOCK_ID, async (store) => {
    const moves: (KeyTransition & { projectId: string })[] = [];
    for (const project of await store.projects.list()) {
      for (const move of await rotateKeysIfDue({ ...deps, store }, project)) moves.push({ ...move, projectId: project.projectId });
    }
    return moves;
  });
  if (!result) return null;
  for (const move of result.value) {
    deps.keys.invalidate(move.projectId);
    deps.logger.info({ project_id: move.projectId, kid: move.kid, to: move.to }, "signing key rotated");
  }
  return result.value;
}

/** Runs the rotation pass now and then every `intervalMs`, until stopped; a failed pass is logged and retried. */
export function startKeyRotationJob(deps: JobDeps, intervalMs = KEY_ROTATION_INTERVAL_MS): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = runKeyRotation(deps).catch((error: unknown) => deps.logger.error({ err: error }, "key rotation pass failed"));
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
