import type { AuditEvent, Project } from "../domain/types.js";
import type { Clock, FeedNotifier, ProjectRepo, Store } from "../domain/ports.js";

type LiveSecret = Awaited<ReturnType<ProjectRepo["liveSecrets"]>>[number];

interface Entry {
  loadedAtMs: number;
  project: Promise<Project | null>;
  secrets: Promise<LiveSecret[]> | null;
}

export interface ProjectCacheOptions {
  clock: Clock;
  /** How long a read may be reused: the bound on a change's reach while the notifier is down. */
  ttlMs: number;
  /** Carries "project X changed" to every instance (Redis pub/sub, or the in-process twin). */
  changes: FeedNotifier;
  maxProjects?: number;
}

/** Sessions, users, logins and keys are the high-volume events; none of them changes a project row, its secrets or public tokens. */
const changesNoProject = (type: AuditEvent["type"]) => /^(session|user|login|password|key)\./.test(type);

/**
 * Every request authenticates its project (the row, its live secrets or a public token): three reads
 * that, uncached, cost more than the session check itself. This decorator keeps them per instance for
 * `ttlMs` and drops a project the moment a change to it commits, here and (through `changes`) on every
 * instance. A change is recognised by the event that announces it, which the domain records in the same
 * transaction (DESIGN: every state change has its event), so a new kind of project change cannot be
 * forgotten here: any event other than the session, user, login and key families invalidates.
 * Reads inside a transaction always go to the database.
 */
export function cacheProjects(store: Store, options: ProjectCacheOptions): Store {
  const maxProjects = options.maxProjects ?? 10_000;
  const entries = new Map<string, Entry>();
  /** `projectId` is set once the read resolves; until then an invalidation of any project drops the entry. */
  const byPublicToken = new Map<string, { loadedAtMs: number; project: Promise<Project | null>; projectId?: string }>();
  const subscriptions = new Map<string, () => void>();

  const invalidate = (projectId: string) => {
    entries.delete(projectId);
    for (const [token, cached] of byPublicToken) if (cached.projectId === undefined || cached.projectId === projectId) byPublicToken.delete(token);
  };
  const listen = (projectId: string) => {
    if (!subscriptions.has(projectId)) subscriptions.set(projectId, options.changes.subscribe(projectId, () => invalidate(projectId)));
  };
  const fresh = (loadedAtMs: number) => options.clock.now().getTime() - loadedAtMs < options.ttlMs;
  const evictOldest = <V>(map: Map<string, V>) => {
    if (map.size > maxProjects) map.delete(map.keys().next().value!);
  };

  const entryOf = (projectId: string): Entry => {
    const cached = entries.get(projectId);
    if (cached && fresh(cached.loadedAtMs)) return cached;
    listen(projectId); // before the read: a change committing during it must not be missed
    const entry: Entry = { loadedAtMs: options.clock.now().getTime(), project: store.projects.get(projectId), secrets: null };
    entry.project.catch(() => entries.get(projectId) === entry && entries.delete(projectId));
    entries.set(projectId, entry);
    evictOldest(entries);
    return entry;
  };

  /** Announces, after the commit, every project a transaction's events say it changed. */
  const announce = (events: AuditEvent[]) => {
    for (const projectId of new Set(events.filter((e) => !changesNoProject(e.type)).map((e) => e.projectId))) {
      invalidate(projectId);
      options.changes.notify(projectId);
    }
  };
  const recording = (inner: Store, written: AuditEvent[]): Store => ({
    ...inner,
    events: {
      ...inner.events,
      record: async (event) => {
        await inner.events.record(event);
        written.push(event);
      },
      recordMany: async (events) => {
        await inner.events.recordMany(events);
        written.push(...events);
      },
    },
    transaction: (work) => inner.transaction((tx) => work(recording(tx, written))),
  });

  const projects: ProjectRepo = {
    ...store.projects,
    async get(projectId) {
      return entryOf(projectId).project;
    },
    async liveSecrets(projectId) {
      const entry = entryOf(projectId);
      if (!entry.secrets) {
        entry.secrets = store.projects.liveSecrets(projectId);
        entry.secrets.catch(() => entries.get(projectId) === entry && entries.delete(projectId));
      }
      return entry.secrets;
    },
    async touchSecret(secretId, now) {
      await store.projects.touchSecret(secretId, now);
      // The cached row learns of the write, or every request until the entry expires would repeat it.
      for (const entry of entries.values()) {
        void entry.secrets?.then(
          (secrets) => {
            for (const secret of secrets) if (secret.secretId === secretId) secret.lastUsedAt = now;
          },
          () => {},
        );
      }
    },
    async byPublicToken(publicToken) {
      const cached = byPublicToken.get(publicToken);
      if (cached && fresh(cached.loadedAtMs)) return cached.project;
      const entry: { loadedAtMs: number; project: Promise<Project | null>; projectId?: string } = { loadedAtMs: options.clock.now().getTime(), project: store.projects.byPublicToken(publicToken) };
      byPublicToken.set(publicToken, entry);
      evictOldest(byPublicToken);
      const project = await entry.project.catch((error: unknown) => {
        if (byPublicToken.get(publicToken) === entry) byPublicToken.delete(publicToken);
        throw error;
      });
      if (!project) byPublicToken.delete(publicToken); // unknown tokens are not remembered: a new one works at once
      else if (byPublicToken.get(publicToken) === entry) {
        entry.projectId = project.projectId;
        listen(project.projectId);
      }
      return project;
    },
  };

  return {
    ...store,
    projects,
    events: {
      ...store.events,
      record: async (event) => {
        await store.events.record(event);
        announce([event]);
      },
      recordMany: async (events) => {
        await store.events.recordMany(events);
        announce(events);
      },
    },
    async transaction(work) {
      const written: AuditEvent[] = [];
      const result = await store.transaction((tx) => work(recording(tx, written)));
      announce(written);
      return result;
    },
    async withAdvisoryLock(lockId, work) {
      const written: AuditEvent[] = [];
      const result = await store.withAdvisoryLock(lockId, (tx) => work(recording(tx, written)));
      announce(written);
      return result;
    },
  };
}
