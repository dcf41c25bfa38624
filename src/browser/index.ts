/**
 * `tessera/browser`: the frontend SDK for Tessera's browser API (`/sdk/v1/{public_token}/…`).
 * Web APIs only. The session token stays in an HttpOnly cookie this code never sees; the client
 * keeps what the server tells scripts (session, user, JWT timing, the JWT if the project exposes it)
 * and refreshes the JWT ahead of its expiry, once per browser: the tab that wins a Web Lock (or a
 * localStorage lease) asks the server, and the others adopt its answer from a BroadcastChannel (or
 * `storage` events). The last answer (with the JWT only if exposed; never the session token) is kept in
 * localStorage too, so a new tab starts without a request and the lock holder sees a refresh made first.
 */

import { connectTabs } from "./tabs.js";

/** The server's session, in the Stytch wire format. */
export interface Session {
  session_id: string;
  user_id: string;
  started_at: string;
  last_accessed_at: string;
  expires_at: string;
  roles: string[];
  authentication_factors: Record<string, unknown>[];
  attributes: { ip_address: string; user_agent: string };
  custom_claims: Record<string, unknown>;
}

/** The server's user, in the Stytch wire format (fields this SDK does not name are kept as they come). */
export interface User {
  user_id: string;
  emails: { email_id: string; email: string; verified: boolean }[];
  status: string;
  roles: string[];
  name: { first_name?: string; middle_name?: string; last_name?: string };
  trusted_metadata: Record<string, unknown>;
  untrusted_metadata: Record<string, unknown>;
  [field: string]: unknown;
}

export interface SessionState {
  session: Session;
  user: User;
  jwtIssuedAt: Date;
  jwtExpiresAt: Date;
  /** Only when the project sets `exposeJwtToScripts`. */
  jwt?: string;
}

export interface SessionListItem extends Session {
  /** The session of this browser. */
  current: boolean;
}

/** `url`: Tessera's base URL, e.g. https://auth.example.com; `publicToken`: the project's public token. */
export type ClientOptions = { url: string; publicToken: string };

export interface FreshnessOptions {
  /** Stytch semantics: a JWT whose age is ≥ this is too old; 0 always asks the server. Default: refresh only near expiry. */
  maxTokenAgeSeconds?: number;
}

export type ChangeListener = (state: SessionState | null) => void;

export interface TesseraClient {
  /** Creates the account (when the project allows self sign-up), then logs in. */
  signUp(email: string, password: string): Promise<SessionState>;
  logIn(email: string, password: string): Promise<SessionState>;
  /** Revokes this browser's session and signs every tab out. */
  logOut(): Promise<void>;
  /** The current state once known (from another tab, or one refresh), or null when signed out. */
  getSession(): Promise<SessionState | null>;
  /** Refreshes (once for all tabs) when the JWT is older than allowed; throws `no_session` when signed out. */
  ensureFresh(options?: FreshnessOptions): Promise<SessionState>;
  /** The JWT, fresh per `ensureFresh`; throws `jwt_not_exposed` unless the project exposes it to scripts. */
  getJwt(options?: FreshnessOptions): Promise<string>;
  listSessions(): Promise<SessionListItem[]>;
  /** Revokes one of the user's sessions; revoking this browser's own signs every tab out. */
  revokeSession(sessionId: string): Promise<void>;
  /** Called on every change (log in, refresh here or in another tab, sign out: null). Returns unsubscribe. */
  onChange(listener: ChangeListener): () => void;
  /** Stops timers and listeners; this tab no longer refreshes or follows other tabs. */
  destroy(): void;
}

/** `code` is the server's `error_type` (e.g. `no_session`, `unauthorized_credentials`), or `network_error`, `jwt_not_exposed`. */
export class TesseraBrowserError extends Error {
  override readonly name = "TesseraBrowserError";
  constructor(readonly code: string, message: string, readonly status = 0) {
    super(message);
  }
}

/** Wire: the body of /login and /sessions/authenticate. Known: what the tabs share, the last answer (null: signed out) and when it arrived (ms, this machine's clock). */
type Wire = { session: Session; user: User; jwt_issued_at: string; jwt_expires_at: string; session_jwt?: string };
type Known = { body: Wire | null; at: number };

const REFRESH_AT = [0.7, 0.85] as const; // of the JWT lifetime, jittered so tabs do not fire together
const BACKOFF_MS = [1000, 30_000] as const;
const WAIT_FOR_OTHER_TAB_MS = 5000;
const REQUEST_TIMEOUT_MS = 10_000;
const IAT_PRECISION_MS = 1000; // jwt_issued_at is the JWT's `iat`, whole seconds: a JWT may be this much older than its arrival says

const lifetimeMs = (body: Wire) => Math.max(1000, Date.parse(body.jwt_expires_at) - Date.parse(body.jwt_issued_at));
/** The JWT's age on this machine's clock (no skew to the server's), from its arrival. */
const ageMs = (k: Known, now = Date.now()) => now - k.at + IAT_PRECISION_MS;
const isKnown = (value: unknown): value is Known => {
  const k = value as Known | null;
  return typeof k?.at === "number" && (k.body === null || (typeof k.body?.jwt_expires_at === "string" && typeof k.body.session?.session_id === "string"));
};
function stateOf(body: Wire | null): SessionState | null {
  if (!body) return null;
  const state: SessionState = { session: body.session, user: body.user, jwtIssuedAt: new Date(body.jwt_issued_at), jwtExpiresAt: new Date(body.jwt_expires_at) };
  if (typeof body.session_jwt === "string") state.jwt = body.session_jwt;
  return state;
}

export function createClient(options: ClientOptions): TesseraClient {
  const base = `${options.url.replace(/\/+$/, "")}/sdk/v1/${encodeURIComponent(options.publicToken)}`;
  const tabs = connectTabs(`tessera:${options.publicToken}`, (record) => isKnown(record) && adoptNewer(record));
  const listeners = new Set<ChangeListener>();
  const waiters = new Set<() => void>();
  let known: Known | null = null; // null: not known yet
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let destroyed = false;

  /** The last answer any tab got, unless its JWT has expired (then it is of no use to anyone). */
  const readShared = (value = tabs.read()): Known | null => (isKnown(value) && (value.body === null || ageMs(value) < lifetimeMs(value.body)) ? value : null);

  function adopt(next: Known, share: boolean) {
    if (destroyed) return;
    const before = known?.body ?? null;
    known = next;
    failures = 0;
    if (share) tabs.share(next);
    schedule();
    for (const wake of [...waiters]) wake();
    if (before !== next.body) {
      const state = stateOf(next.body);
      // a throwing listener is reported like any uncaught error (queueMicrotask) without stopping the others
      for (const listener of [...listeners]) queueMicrotask(() => listener(state));
    }
  }
  const adoptNewer = (candidate: Known | null) => {
    if (candidate && (!known || candidate.at > known.at)) adopt(candidate, false);
  };
  const signOut = () => adopt({ body: null, at: Date.now() }, true);

  /** The next change of `known`, or the timeout, whichever first. */
  const nextChange = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => void (clearTimeout(timeout), waiters.delete(done), resolve());
      const timeout = setTimeout(done, ms);
      waiters.add(done);
    });

  async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
    const asked = Date.now();
    let response: Response;
    try {
      const json = body === undefined ? {} : { headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
      const headers = { "X-Tessera-Request": "1", ...json.headers };
      response = await fetch(`${base}${path}`, { method, credentials: "include", ...json, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    } catch (error) {
      throw new TesseraBrowserError("network_error", `Tessera did not answer (unreachable, or this origin is not allowed): ${String(error)}`);
    }
    const data = (await response.json().catch(() => ({}))) as { error_type?: string; error_message?: string };
    if (response.ok) return data as T;
    const error = new TesseraBrowserError(data.error_type ?? "http_error", data.error_message ?? `HTTP ${response.status}`, response.status);
    if (error.code === "no_session") {
      adoptNewer(readShared()); // a log-in in another tab since this request left is not undone by its 401
      if (!known || known.at <= asked) signOut();
    }
    throw error;
  }

  /** Asks the server for a fresh JWT; an answer overtaken by newer knowledge (a log-in meanwhile) is dropped. */
  async function ask(): Promise<void> {
    const asked = Date.now();
    try {
      const body = await call<Wire>("POST", "/sessions/authenticate");
      adoptNewer(readShared());
      if (!known || known.at <= asked) adopt({ body, at: Date.now() }, true);
    } catch (error) {
      if (!(error instanceof TesseraBrowserError && error.code === "no_session" && known && known.at > asked)) throw error;
    }
  }

  /** One refresh for the whole browser while `needs(known)`: the lock holder asks, the others wait for its answer. */
  async function refresh(needs: (k: Known | null) => boolean): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const ran = await tabs.exclusive(async () => {
        adoptNewer(readShared());
        if (needs(known)) await ask();
      });
      if (ran || !needs(known)) return;
      await nextChange(WAIT_FOR_OTHER_TAB_MS);
      if (destroyed || !needs(known)) return;
    }
    await ask(); // the holder never answered: ask without the lock rather than wait forever
  }

  /** A refresh nobody awaits: network and server errors retry with exponential backoff; a 401 has signed out. */
  async function background(needs: (k: Known | null) => boolean): Promise<void> {
    try {
      await refresh(needs);
    } catch (error) {
      if (destroyed || !needs(known) || (error instanceof TesseraBrowserError && error.status === 401)) return;
      failures++;
      const delay = Math.min(BACKOFF_MS[1], BACKOFF_MS[0] * 2 ** (failures - 1)) * (0.5 + Math.random() / 2);
      clearTimeout(timer);
      timer = setTimeout(() => void background(needs), delay);
    }
  }

  function schedule() {
    clearTimeout(timer);
    const current = known;
    if (destroyed || !current?.body) return;
    const fraction = REFRESH_AT[0] + Math.random() * (REFRESH_AT[1] - REFRESH_AT[0]);
    const delay = lifetimeMs(current.body) * fraction - ageMs(current);
    timer = setTimeout(() => void background((k) => !!k?.body && k.at <= current.at), Math.max(0, delay));
  }

  /** Hidden tabs' timers are throttled: catch up when one becomes visible. */
  const onVisible = () => {
    const since = known?.body && document.visibilityState === "visible" && ageMs(known) >= lifetimeMs(known.body) * REFRESH_AT[1] ? known.at : null;
    if (since !== null) void background((k) => !!k?.body && k.at <= since);
  };
  if (typeof document === "object") document.addEventListener("visibilitychange", onVisible);

  const ready: Promise<void> = (async () => {
    const started = Date.now();
    const shared = readShared();
    if (shared?.body) return adopt(shared, false);
    await background((k) => !k || k.at < started);
  })();

  const client: TesseraClient = {
    async signUp(email, password) {
      await ready;
      await call("POST", "/signup", { email, password });
      return client.logIn(email, password);
    },
    async logIn(email, password) {
      await ready;
      const body = await call<Wire>("POST", "/login", { email, password });
      adopt({ body, at: Date.now() }, true);
      return stateOf(body)!;
    },
    async logOut() {
      await ready;
      await call("POST", "/logout");
      signOut();
    },
    async getSession() {
      await ready;
      return stateOf(known?.body ?? null);
    },
    async ensureFresh(freshness = {}) {
      await ready;
      const asked = Date.now();
      const max = freshness.maxTokenAgeSeconds;
      const stale = (k: Known | null) => !!k?.body && k.at < asked && ageMs(k, asked) >= (max === undefined ? lifetimeMs(k.body) * 0.9 : max * 1000);
      if (stale(known)) await refresh(stale);
      const state = stateOf(known?.body ?? null);
      if (!state) throw new TesseraBrowserError("no_session", "Not signed in.", 401);
      return state;
    },
    async getJwt(freshness) {
      await ready;
      const notExposed = () => new TesseraBrowserError("jwt_not_exposed", "The project keeps the JWT in an HttpOnly cookie (exposeJwtToScripts is off): call your backend with credentials instead.");
      if (known?.body && known.body.session_jwt === undefined) throw notExposed();
      const state = await client.ensureFresh(freshness);
      if (state.jwt === undefined) throw notExposed();
      return state.jwt;
    },
    async listSessions() {
      await ready;
      return (await call<{ sessions: SessionListItem[] }>("GET", "/sessions")).sessions;
    },
    async revokeSession(sessionId) {
      await ready;
      await call("POST", "/sessions/revoke", { session_id: sessionId });
      if (known?.body?.session.session_id === sessionId) signOut();
    },
    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    destroy() {
      destroyed = true;
      clearTimeout(timer);
      tabs.close();
      if (typeof document === "object") document.removeEventListener("visibilitychange", onVisible);
      listeners.clear();
      for (const wake of [...waiters]) wake();
    },
  };
  return client;
}
