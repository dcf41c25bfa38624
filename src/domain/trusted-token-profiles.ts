import { TesseraError } from "../errors.js";
import type { DomainDeps } from "./ports.js";
import { newId } from "./tokens.js";
import type { Project, TrustedTokenProfile } from "./types.js";

/** Trusted token profiles: who may vouch for a user at `sessions.attest`. Managed through the management interface. */
type ProfileDeps = Pick<DomainDeps, "store" | "clock"> & { trustedJwks?: DomainDeps["trustedJwks"] };

export interface TrustedTokenProfileInput {
  name: string;
  issuer: string;
  audience: string;
  jwksUrl: string;
  attributeMapping?: unknown;
  canJitProvision?: boolean | undefined;
}

const MAPPED_ATTRIBUTES = ["email", "token_id"] as const;
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

const invalid = (message: string) => new TesseraError("invalid_trusted_token_profile", { message });
const bounded = (value: string, what: string, max: number) => {
  if (typeof value !== "string" || value.trim().length === 0 || value.length > max) throw invalid(`${what} must be a non-empty string of at most ${max} characters.`);
  return value;
};

/** https only, except on loopback (a JWKS fetched over plain HTTP could be swapped by anyone on the path). */
function jwksUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(bounded(raw, "jwks_url", 2048));
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    throw invalid("jwks_url must be an absolute URL.");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK.has(url.hostname))) throw invalid("jwks_url must use https (plain http only on localhost).");
  if (url.username || url.password) throw invalid("jwks_url must not carry credentials.");
  return url.toString();
}

function attributeMapping(raw: unknown): TrustedTokenProfile["attributeMapping"] {
  if (raw === undefined) return {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw invalid(`attribute_mapping must be an object mapping ${MAPPED_ATTRIBUTES.join(", ")} to claim names.`);
  const mapping: Record<string, string> = {};
  for (const [attribute, claim] of Object.entries(raw)) {
    if (!(MAPPED_ATTRIBUTES as readonly string[]).includes(attribute)) throw invalid(`attribute_mapping: unknown attribute ${attribute.slice(0, 64)} (known: ${MAPPED_ATTRIBUTES.join(", ")}).`);
    mapping[attribute] = bounded(claim as string, `attribute_mapping.${attribute}`, 128);
  }
  return mapping;
}

export async function createTrustedTokenProfile(deps: ProfileDeps, project: Project, input: TrustedTokenProfileInput, actor: string): Promise<TrustedTokenProfile> {
  const profile: TrustedTokenProfile = {
    profileId: newId("trusted-token-profile", project.env),
    projectId: project.projectId,
    name: bounded(input.name, "name", 200),
    issuer: bounded(input.issuer, "issuer", 512),
    audience: bounded(input.audience, "audience", 512),
    jwksUrl: jwksUrl(input.jwksUrl),
    attributeMapping: attributeMapping(input.attributeMapping),
    canJitProvision: input.canJitProvision ?? false,
    createdAt: deps.clock.now(),
  };
  await deps.store.transaction(async (store) => {
    await store.trustedTokenProfiles.create(profile);
    await store.events.record({ projectId: project.projectId, type: "trusted_token_profile.created", actor, details: { profile_id: profile.profileId, issuer: profile.issuer, jwks_url: profile.jwksUrl } });
  });
  return profile;
}

export async function deleteTrustedTokenProfile(deps: ProfileDeps, project: Project, profileId: string, actor: string): Promise<void> {
  await deps.store.transaction(async (store) => {
    if (!(await store.trustedTokenProfiles.delete(project.projectId, profileId))) throw new TesseraError("trusted_token_profile_not_found");
    await store.events.record({ projectId: project.projectId, type: "trusted_token_profile.deleted", actor, details: { profile_id: profileId } });
  });
  deps.trustedJwks?.forget(profileId); // this process at once; others refuse it from the database at once too
}
