/**
 * Cross-tab plumbing of `tessera/browser`: one record shared by the tabs of an origin (kept in
 * localStorage, announced on a BroadcastChannel, or through `storage` events where that is missing)
 * and one lock (a Web Lock, or a localStorage lease where Web Locks are missing).
 */

const LEASE_MS = 15_000;
/** How long a lease writer waits before reading back: of two tabs writing at once, the last write wins. */
const LEASE_SETTLE_MS = 40;

export interface Tabs {
  /** The shared record as parsed JSON (unchecked), or null. */
  read(): unknown;
  /** Stores the record and announces it to the other tabs (not to this one). */
  share(record: unknown): void;
  /** Runs `work` when this tab gets the lock; false at once when another tab holds it. */
  exclusive(work: () => Promise<void>): Promise<boolean>;
  close(): void;
}

export const parseJson = (text: string | null | undefined): unknown => {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
};

/** `onRecord` receives what other tabs share (parsed, unchecked). */
export function connectTabs(name: string, onRecord: (record: unknown) => void): Tabs {
  const [recordKey, leaseKey, lockName] = [`${name}:state`, `${name}:lease`, `${name}:refresh`];
  const tabId = typeof crypto?.randomUUID === "function" ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
  let storage: Storage | null = null;
  try {
    storage = globalThis.localStorage ?? null;
  } catch {
    // blocked storage: no shared record, no lease
  }
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : null;
  const onStorage = (event: StorageEvent) => {
    if (event.key === recordKey && event.newValue !== null) onRecord(parseJson(event.newValue));
  };
  if (channel) channel.onmessage = (event: MessageEvent) => onRecord(event.data);
  else globalThis.addEventListener?.("storage", onStorage);

  async function withLease(work: () => Promise<void>): Promise<boolean> {
    const store = storage;
    if (!store) return (await work(), true);
    const holder = () => parseJson(store.getItem(leaseKey)) as { owner?: string; until?: number } | null;
    const held = holder();
    if (held?.owner !== tabId && (held?.until ?? 0) > Date.now()) return false;
    try {
      store.setItem(leaseKey, JSON.stringify({ owner: tabId, until: Date.now() + LEASE_MS }));
    } catch {
      return (await work(), true);
    }
    await new Promise((resolve) => setTimeout(resolve, LEASE_SETTLE_MS));
    if (holder()?.owner !== tabId) return false;
    try {
      await work();
      return true;
    } finally {
      if (holder()?.owner === tabId) store.removeItem(leaseKey);
    }
  }

  return {
    read: () => parseJson(storage?.getItem(recordKey)),
    share(record) {
      try {
        storage?.setItem(recordKey, JSON.stringify(record));
      } catch {
        // quota or blocked storage: the channel still carries it
      }
      channel?.postMessage(record);
    },
    async exclusive(work) {
      const locks = typeof navigator === "object" ? navigator.locks : undefined;
      if (!locks) return withLease(work);
      return await locks.request(lockName, { ifAvailable: true }, async (lock) => (lock ? (await work(), true) : false));
    },
    close() {
      channel?.close();
      globalThis.removeEventListener?.("storage", onStorage);
    },
  };
}
