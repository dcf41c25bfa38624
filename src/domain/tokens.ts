import { hash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { ProjectEnv } from "./types.js";

/** 32 random bytes, base64url: 43 characters. */
export function newSessionToken(): string {
  return randomBytes(32).toString("base64url");
}

export function newSecret(env: ProjectEnv): string {
  return `secret-${env}-${randomBytes(32).toString("base64url")}`;
}

/** One-shot `crypto.hash` (Node ≥ 20.12): a third of `createHash`'s cost, twice per exchange. */
export function sha256Hex(value: string): string {
  return hash("sha256", value, "hex");
}

/** Compares two hex digests in constant time (they have the same length by construction). */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

export type IdKind = "project" | "user" | "email" | "session" | "secret" | "public-token" | "password" | "trusted-token-profile";

export function newId(kind: IdKind, env: ProjectEnv): string {
  return `${kind}-${env}-${randomUUID()}`;
}

export function projectEnv(projectId: string): ProjectEnv {
  return projectId.startsWith("project-live-") ? "live" : "test";
}

const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Parsers return null on malformed input; callers turn that into one coded error. */
export function parseSessionToken(value: string): string | null {
  return SESSION_TOKEN.test(value) ? value : null;
}
