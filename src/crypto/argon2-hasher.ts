import { randomBytes } from "node:crypto";
import { hash, parseOptions, verify, type Options } from "@node-rs/argon2";
import { TesseraError } from "../errors.js";
import type { PasswordHasher } from "../domain/ports.js";
import { isImportedHash, verifyImportedHash } from "./imported-hash-verifier.js";
import { Semaphore } from "./semaphore.js";

const ARGON2ID = 2; // Algorithm.Argon2id: a const enum, which isolatedModules cannot import.

/** OWASP Password Storage Cheat Sheet, argon2id minimum: m=19 MiB, t=2, p=1. Pinned, not left to library defaults. */
export const ARGON2_PARAMS = Object.freeze({ algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1, outputLen: 32 }) satisfies Options;

/** Seconds a refused login should wait: long enough for a few queued hashes to drain. */
const BUSY_RETRY_AFTER_SECONDS = 1;

/** Told how long each hash waited for a slot, and of each refused one (the metrics). */
export interface HashingObserver {
  waited(seconds: number): void;
  rejected(): void;
}

/**
 * argon2 runs on libuv's thread pool, which jose's WebCrypto signing shares. The semaphore keeps
 * hashing below the pool size so a login flood queues (or gets 429) instead of starving token work.
 */
export async function createArgon2Hasher(options: { concurrency: number; queueLimit: number; params?: Options; observer?: HashingObserver }): Promise<PasswordHasher & { semaphore: Semaphore }> {
  const params = options.params ?? ARGON2_PARAMS;
  const semaphore = new Semaphore(options.concurrency, options.queueLimit);
  const limited = async <T>(work: () => Promise<T>): Promise<T> => {
    const queuedAt = performance.now();
    const result = await semaphore.run(() => {
      options.observer?.waited((performance.now() - queuedAt) / 1000);
      return work();
    });
    if (!result) {
      options.observer?.rejected();
      throw new TesseraError("too_many_requests", { message: "Too many logins in progress; retry shortly.", retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS });
    }
    return result.value;
  };
  const dummyHash = await hash(randomBytes(32), params);
  return {
    semaphore,
    dummyHash,
    hash: (password) => limited(() => hash(password, params)),
    verify: (stored, password, asTyped = password) =>
      limited(async () => {
        // An imported argon2 hash was made from the password as typed, ours from its NFKC form. The dummy
        // hash takes the same path, so a chosen non-NFKC password costs an unknown email the same.
        const argon2Check = async (hash: string) => (await verify(hash, password)) || (asTyped !== password && (await verify(hash, asTyped)));
        if (!isImportedHash(stored)) return argon2Check(stored);
        // The dummy argon2 beside it: a fast imported hash (MD5, SHA-1) must not tell its account from an unknown email.
        const ok = await verifyImportedHash(stored, asTyped);
        await argon2Check(dummyHash);
        return ok;
      }),
    needsRehash(stored) {
      if (isImportedHash(stored)) return true;
      const current = parseOptions(stored);
      return (
        current.algorithm !== params.algorithm ||
        current.memoryCost < (params.memoryCost ?? 0) ||
        current.timeCost < (params.timeCost ?? 0) ||
        current.outputLen < (params.outputLen ?? 0)
      );
    },
  };
}
