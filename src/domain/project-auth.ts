import { TesseraError } from "../errors.js";
import type { DomainDeps } from "./ports.js";
import { digestsEqual, sha256Hex } from "./tokens.js";
import type { Project } from "./types.js";

/**
 * Secrets are high-entropy, so SHA-256 is the right hash (no need for a slow KDF). Every live secret
 * of the project is compared in constant time, and every failure is the same `unauthorized_credentials`.
 */
export async function authenticateProjectSecret(deps: Pick<DomainDeps, "store" | "clock" | "limiter">, projectId: string, secret: string): Promise<Project> {
  const project = projectId.length <= 128 ? await deps.store.projects.get(projectId) : null;
  const candidates = project ? await deps.store.projects.liveSecrets(project.projectId) : [];
  const presented = sha256Hex(secret);
  let matched: (typeof candidates)[number] | undefined;
  for (const candidate of candidates) if (digestsEqual(candidate.secretHash, presented)) matched = candidate;
  if (!project || !matched) throw new TesseraError("unauthorized_credentials");
  const verdict = deps.limiter.consumeShared({ name: "api-secret", points: project.settings.rateLimits.apiCallsPerSecretPerMinute, durationSeconds: 60 }, matched.secretId);
  if (!verdict.allowed) throw new TesseraError("too_many_requests", { message: "Too many API calls with this secret; retry later.", retryAfterSeconds: verdict.retryAfterSeconds });
  const now = deps.clock.now();
  if (!matched.lastUsedAt || now.getTime() - matched.lastUsedAt.getTime() >= 60_000) await deps.store.projects.touchSecret(matched.secretId, now);
  return project;
}
