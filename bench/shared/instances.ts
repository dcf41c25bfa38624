import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";

export const root = join(import.meta.dirname, "../..");

export interface Instance {
  name: string;
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  /** Lines the server logged (LOG_LEVEL=warn, so each one is a warning or worse); the first few are kept. */
  logged: { count: number; first: string[] };
}

/**
 * The soak and the bench run the shipped entry (`node bin/tessera.cjs serve`), which loads dist/.
 * The soak always builds first: a stale dist/ would silently soak old code, and tsc takes seconds
 * against a soak of minutes.
 */
export function build(): number {
  const started = performance.now();
  const result = spawnSync("npm", ["run", "--silent", "build"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status ?? result.signal}); the server runs dist/`);
  return performance.now() - started;
}

function newestMtimeMs(folder: string): number {
  return Math.max(
    ...readdirSync(folder).map((name) => {
      const path = join(folder, name);
      const stat = statSync(path);
      return stat.isDirectory() ? newestMtimeMs(path) : stat.mtimeMs;
    }),
  );
}

/** Whether dist/ is missing or older than src/: the bench builds only then (its quick mode runs in a test). */
export function distIsStale(): boolean {
  try {
    return statSync(join(root, "dist/cli.js")).mtimeMs < newestMtimeMs(join(root, "src"));
  } catch {
    return true;
  }
}

/** Port 0 probing: the kernel hands out a free port; other engineers' servers share this machine. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

export interface SpawnOptions {
  /** Default: a free one. */
  port?: number;
  /** What of a line of output to record in `logged` (null: not a line to count); default: all of it. */
  record?: (line: string, from: "stdout" | "stderr") => string | null;
}

/** Spawns one server; the caller registers its stop at once, then awaits `waitReady`. */
export async function spawnInstance(name: string, env: Record<string, string>, options: SpawnOptions = {}): Promise<Instance> {
  const port = options.port ?? (await freePort());
  const record = options.record ?? ((line: string) => line);
  // The bin itself, not `npm start`/`npx`: the pid we get is the server, so VmRSS is the server's and
  // a kill by pid stops it. `detached`: a Ctrl-C in the terminal reaches only the bench, which then
  // stops the load before the servers, so the last slice is not a burst of refused connections.
  const child = spawn(process.execPath, [join(root, "bin/tessera.cjs"), "serve"], {
    cwd: root,
    env: { ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const instance: Instance = { name, url: `http://127.0.0.1:${port}`, port, pid: child.pid!, child, logged: { count: 0, first: [] } };
  for (const [from, stream] of [["stdout", child.stdout!], ["stderr", child.stderr!]] as const) {
    let rest = "";
    stream.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines.filter(Boolean)) {
        const kept = record(line, from);
        if (kept === null) continue;
        instance.logged.count++;
        if (instance.logged.first.length < 5) instance.logged.first.push(kept.slice(0, 300));
      }
    });
  }
  return instance;
}

export async function waitReady(instance: Instance, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${instance.url}/readyz`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not listening yet
    }
    if (instance.child.exitCode !== null || instance.child.signalCode !== null) {
      throw new Error(`instance ${instance.name} exited before it was ready (${instance.child.exitCode ?? instance.child.signalCode}): ${instance.logged.first.join("\n")}`);
    }
    if (signal.aborted) throw new Error("interrupted");
    if (Date.now() > deadline) throw new Error(`instance ${instance.name} was not ready within 30 s: ${instance.logged.first.join("\n")}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** SIGTERM by pid (the server drains, SHUTDOWN_TIMEOUT_MS defaults to 10 s), SIGKILL if it outlives 15 s. */
export async function stopInstance(instance: Instance): Promise<string> {
  const { child } = instance;
  if (child.exitCode !== null || child.signalCode !== null) return `had already exited (${child.exitCode ?? child.signalCode})`;
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(code !== null ? `exit ${code}` : `signal ${signal}`)));
  child.kill("SIGTERM"); // by the pid spawn returned: the server itself, not a wrapper
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  const how = await exited;
  clearTimeout(timer);
  return how;
}

/** Resident set size in MiB from /proc (Linux); null where there is no /proc or the process is gone. */
export function rssMiB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}
