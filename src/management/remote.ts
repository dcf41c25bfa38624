import { TesseraError, type ErrorType } from "../errors.js";
import { EVENTS_LIMIT, type Management } from "./management.js";

/**
 * The management API as a Management: what the CLI uses while a server runs. A refusal comes back as
 * the TesseraError the server threw (same type, same message), so the CLI reports it the same way
 * whichever path it took.
 */
export function createRemoteManagement(options: { url: string; adminKey: string; fetch?: typeof fetch }): Management {
  const send = options.fetch ?? fetch;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    let response: Response;
    try {
      response = await send(`${options.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.adminKey}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      throw new TesseraError("service_unavailable", { message: `the management API at ${options.url} does not answer (${(error as Error).message})`, cause: error });
    }
    const payload = (await response.json().catch(() => ({}))) as { error_type?: string; error_message?: string };
    if (!response.ok) {
      const type = (payload.error_type ?? "internal_server_error") as ErrorType;
      throw new TesseraError(type, { message: payload.error_message ?? `the management API answered ${response.status}` });
    }
    return payload as T;
  };
  const project = (id: string) => `/admin/v1/projects/${encodeURIComponent(id)}`;
  return {
    listProjects: async () => (await call<{ projects: Awaited<ReturnType<Management["listProjects"]>> }>("GET", "/admin/v1/projects")).projects,
    createProject: (input) => call("POST", "/admin/v1/projects", input),
    showProject: (id) => call("GET", project(id)),
    updateProject: (id, input) => call("PATCH", project(id), input),
    createSecret: (id) => call("POST", `${project(id)}/secrets`),
    revokeSecret: (id, secretId) => call("POST", `${project(id)}/secrets/${encodeURIComponent(secretId)}/revoke`),
    createPublicToken: (id) => call("POST", `${project(id)}/public_tokens`),
    listKeys: async (id) => (await call<{ keys: Awaited<ReturnType<Management["listKeys"]>> }>("GET", `${project(id)}/keys`)).keys,
    rotateKeys: (id, options) => call("POST", `${project(id)}/keys/rotate`, { now: options.now }),
    reencryptKeys: () => call("POST", "/admin/v1/keys/reencrypt"),
    showRbacPolicy: (id) => call("GET", `${project(id)}/rbac`),
    setRbacPolicy: (id, policy) => call("PUT", `${project(id)}/rbac`, policy),
    importUsers: (id, lines) => call("POST", `${project(id)}/users/import`, { users: lines }),
    listEvents: async (id, filter) => {
      const query = new URLSearchParams({ limit: String(filter.limit ?? EVENTS_LIMIT.default), ...(filter.userId ? { user_id: filter.userId } : {}) });
      return (await call<{ events: Awaited<ReturnType<Management["listEvents"]>> }>("GET", `${project(id)}/events?${query}`)).events;
    },
    createTrustedTokenProfile: (id, input) => call("POST", `${project(id)}/trusted_token_profiles`, input),
    listTrustedTokenProfiles: async (id) => (await call<{ profiles: Awaited<ReturnType<Management["listTrustedTokenProfiles"]>> }>("GET", `${project(id)}/trusted_token_profiles`)).profiles,
    deleteTrustedTokenProfile: (id, profileId) => call("DELETE", `${project(id)}/trusted_token_profiles/${encodeURIComponent(profileId)}`),
  };
}
