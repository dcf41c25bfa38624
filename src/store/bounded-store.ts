import { DatabaseUnavailableError, type Store } from "../domain/ports.js";

/**
 * Postgres failures that mean "cannot answer now", not "this request is wrong": connection errors
 * (postgres.js codes and socket errors), SQLSTATE class 08 (connection exception), 53 (insufficient
 * resources), 57 (operator intervention: statement timeout, shutdown), 55P03 (lock timeout), 25P03
 * (idle-in-transaction timeout) and 40001/40P01 (serialization failure, deadlock: retry).
 */
const UNAVAILABLE_CODES = new Set(["CONNECT_TIMEOUT", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "55P03", "25P03", "40001", "40P01"]);
const UNAVAILABLE_CLASSES = new Set(["08", "53", "57"]);

function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && (UNAVAILABLE_CODES.has(code) || (code.length === 5 && UNAVAILABLE_CLASSES.has(code.slice(0, 2))))) return true;
  }
  return false;
}

/** The first code in the cause chain (e.g. ECONNREFUSED, 57014), safe to log unlike the driver's message. */
function codeOf(error: unknown): string {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return "unknown";
}

export interface StoreBounds {
  /** Longest wait for one call (a transaction counts as one), queueing for a connection included. */
  deadlineMs: number;
  /** Calls outstanding at once; past it new calls fail at once instead of queueing without end. */
  maxPending: number;
}

export interface BoundedStore extends Store {
  /** Calls outstanding now (running or waiting for a connection), for the metrics gauge. */
  readonly pendingCalls: number;
}

/**
 * Every call bounded in time and in number outstanding, and every "cannot answer now" failure turned
 * into one DatabaseUnavailableError (a 503). The deadline does not cancel the query; the server-side
 * statement and lock timeouts end it. `pending` counts until the query itself settles, so the bound is real.
 */
export function boundStore(store: Store, bounds: StoreBounds): BoundedStore {
  let pending = 0;
  const guard = async <T>(call: () => Promise<T>): Promise<T> => {
    if (pending >= bounds.maxPending) throw new DatabaseUnavailableError(`more than ${bounds.maxPending} database calls are waiting`);
    pending++;
    const running = call().finally(() => pending--);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DatabaseUnavailableError(`the database did not answer within ${bounds.deadlineMs} ms`)), bounds.deadlineMs);
    });
    try {
      return await Promise.race([running, deadline]);
    } catch (error) {
      if (isDatabaseUnavailable(error)) throw new DatabaseUnavailableError(`the database cannot answer now (${codeOf(error)})`, { cause: error });
      throw error;
    } finally {
      clearTimeout(timer);
      running.catch(() => {}); // a late failure after the deadline is already answered
    }
  };
  const wrap = <R extends object>(repo: R): R =>
    Object.fromEntries(Object.entries(repo).map(([name, method]) => [name, typeof method === "function" ? (...args: unknown[]) => guard(() => method.apply(repo, args)) : method])) as R;
  return {
    projects: wrap(store.projects),
    users: wrap(store.users),
    sessions: wrap(store.sessions),
    sealedTokens: wrap(store.sealedTokens),
    trustedTokenProfiles: wrap(store.trustedTokenProfiles),
    signingKeys: wrap(store.signingKeys),
    events: wrap(store.events),
    // Inside, the work gets the transaction's own store: the whole transaction is one bounded call.
    transaction: (work) => guard(() => store.transaction(work)),
    withAdvisoryLock: (lockId, work) => guard(() => store.withAdvisoryLock(lockId, work)),
    ping: () => guard(() => store.ping()),
    get pendingCalls() {
      return pending;
    },
  };
}
