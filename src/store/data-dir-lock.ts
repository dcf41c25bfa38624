import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
// A pid lock is about processes: this module reads its own pid and probes others' (the one reason
// outside main/cli to touch the process).
import { kill, pid as ownPid } from "node:process";

/** The lock file inside DATA_DIR; it holds the pid of the one process that has the folder open. */
export const LOCK_FILE = "tessera.lock";

export class DataDirError extends Error {
  constructor(
    readonly dataDir: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "DataDirError";
  }
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Makes sure DATA_DIR is a folder this process can write, creating it (mode 0700) if needed, and fails
 * at once with an error naming DATA_DIR otherwise. Node's own recursive mkdirSync never returns on a
 * path like /proc/nope, so the folders are made one level at a time.
 */
export function ensureDataDir(dataDir: string): void {
  const missing: string[] = [];
  let folder = resolve(dataDir);
  for (;;) {
    try {
      if (!statSync(folder).isDirectory()) throw new DataDirError(dataDir, `DATA_DIR ${dataDir} is not usable: ${folder} is a file, not a folder.`);
      break;
    } catch (error) {
      if (error instanceof DataDirError) throw error;
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || dirname(folder) === folder) throw new DataDirError(dataDir, `DATA_DIR ${dataDir} is not usable: ${reason(error)}`, { cause: error });
      missing.unshift(folder);
      folder = dirname(folder);
    }
  }
  for (const path of missing) {
    try {
      mkdirSync(path, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw new DataDirError(dataDir, `DATA_DIR ${dataDir} is not usable: cannot create it (${reason(error)})`, { cause: error });
    }
  }
  // A real write, not access(2): root passes permission checks on folders nothing can be written to (/proc).
  const probe = join(dataDir, `.write-probe-${ownPid}`);
  try {
    closeSync(openSync(probe, "w", 0o600));
    unlinkSync(probe);
  } catch (error) {
    throw new DataDirError(dataDir, `DATA_DIR ${dataDir} is not usable: this process cannot write there (${reason(error)})`, { cause: error });
  }
}

function holderOf(path: string): number | null {
  try {
    const holder = Number(readFileSync(path, "utf8").trim());
    return Number.isSafeInteger(holder) && holder > 0 ? holder : null;
  } catch {
    return null; // gone meanwhile, or unreadable: treated like a stale lock
  }
}

function isAlive(holder: number): boolean {
  // Our own pid in the file is a previous life of this process (a container restarts its server as
  // pid 1 again): one process opens its DATA_DIR once, through the composition root.
  if (holder === ownPid) return false;
  try {
    kill(holder, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, owned by another user
  }
}

/** An empty lock file this young is being written by its creator right now, not left by a crash. */
const FRESH_LOCK_MS = 2_000;
const RETRY_MS = 50;
const ATTEMPTS = 40;

/**
 * Takes DATA_DIR for this process: an exclusive lock file (O_EXCL) holding the pid, because PGlite is
 * single-process and two processes on one folder silently overwrite each other's writes. A lock left
 * by a process that no longer runs (kill -9, a crash) is taken over, so a restart is never blocked.
 * The second live process gets a DataDirError naming DATA_DIR and the pid holding it.
 */
export async function lockDataDir(dataDir: string): Promise<{ release(): void }> {
  ensureDataDir(dataDir);
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, "wx", 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw new DataDirError(dataDir, `DATA_DIR ${dataDir} is not usable: cannot create ${path} (${reason(error)})`, { cause: error });
      const holder = holderOf(path);
      if (holder !== null && isAlive(holder)) {
        throw new DataDirError(
          dataDir,
          `DATA_DIR ${dataDir} is in use by process ${holder} (${path}): the embedded database allows one process at a time. ` +
            "Stop that process (a running `tessera serve`?) before starting another server or running a command on this DATA_DIR, or set DATABASE_URL to share a Postgres database.",
        );
      }
      if (holder === null && ageMs(path) < FRESH_LOCK_MS) {
        await new Promise((done) => setTimeout(done, RETRY_MS));
        continue;
      }
      // Stale: removed only if it still names the dead holder (another process may be taking it over too).
      if (holderOf(path) === holder) unlinkQuietly(path);
      continue;
    }
    try {
      writeSync(fd, `${ownPid}\n`);
    } finally {
      closeSync(fd);
    }
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        if (holderOf(path) === ownPid) unlinkQuietly(path);
      },
    };
  }
  throw new DataDirError(dataDir, `DATA_DIR ${dataDir}: could not take ${path}; another process keeps taking it.`);
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}

function unlinkQuietly(path: string) {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
