import { randomBytes } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config.js";
import { readOrCreateSecretFile } from "../crypto/secret-file.js";

/**
 * How the CLI finds a running server's management API: the server writes DATA_DIR/server.json
 * (its pid and admin URL) once listening and removes it when it stops; a file whose pid is gone is stale.
 */
const SERVER_FILE = "server.json";

export function announceServer(dataDir: string, server: { pid: number; adminUrl: string }): void {
  writeFileSync(join(dataDir, SERVER_FILE), `${JSON.stringify({ pid: server.pid, admin_url: server.adminUrl })}\n`, { mode: 0o600 });
}

export function withdrawServer(dataDir: string, pid: number): void {
  if (readServerFile(dataDir)?.pid === pid) rmSync(join(dataDir, SERVER_FILE), { force: true });
}

function readServerFile(dataDir: string): { pid: number; admin_url: string } | null {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, SERVER_FILE), "utf8")) as { pid?: unknown; admin_url?: unknown };
    return typeof parsed.pid === "number" && typeof parsed.admin_url === "string" ? { pid: parsed.pid, admin_url: parsed.admin_url } : null;
  } catch {
    return null;
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
};

/** The admin URL of a server running on this DATA_DIR, or null. */
export function runningServerAdminUrl(dataDir: string): string | null {
  const file = readServerFile(dataDir);
  return file && alive(file.pid) ? file.admin_url : null;
}

/**
 * The management API's key: TESSERA_ADMIN_KEY, else DATA_DIR/admin.key, generated on first use
 * outside production (in production an unset key leaves the management API off).
 */
export function adminKeyFor(config: Config, options: { create: boolean }): string | undefined {
  if (config.adminKey) return config.adminKey;
  const path = join(config.dataDir, "admin.key");
  if (!options.create || config.nodeEnv === "production") {
    try {
      return readFileSync(path, "utf8").trim() || undefined;
    } catch {
      return undefined;
    }
  }
  return readOrCreateSecretFile(path, () => randomBytes(32).toString("base64url")).value;
}
