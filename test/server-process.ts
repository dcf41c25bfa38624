import { spawn, type ChildProcessByStdio } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";

/**
 * The `tessera` bin as an operator runs it: `node bin/tessera.cjs …`, a child process with an explicit
 * environment (PATH plus what the test gives) and nothing inherited from the test runner. The bin loads
 * dist/, so these tests need `npm run build` (CI's `npm ci` runs it through `prepare`).
 */

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin/tessera.cjs");

function newestSource(folder: string): number {
  return Math.max(
    ...readdirSync(folder).map((name) => {
      const path = join(folder, name);
      const stat = statSync(path);
      return stat.isDirectory() ? newestSource(path) : stat.mtimeMs;
    }),
  );
}

/** A stale dist/ would test yesterday's code: fail with the fix instead. */
export function assertBuilt(): void {
  let built: number;
  try {
    built = statSync(join(ROOT, "dist/cli.js")).mtimeMs;
  } catch {
    throw new Error("dist/ is missing: run `npm run build` before the tests that start bin/tessera.cjs");
  }
  if (built < newestSource(join(ROOT, "src"))) throw new Error("dist/ is older than src/: run `npm run build` before the tests that start bin/tessera.cjs");
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

type Env = Record<string, string | undefined>;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** performance.now() when the process ended. */
  at: number;
}

/** A running `tessera …` process whose output is collected as it arrives. */
export class TesseraProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  stdout = "";
  stderr = "";
  exited = false;
  readonly finished: Promise<Exit>;

  constructor(args: string[], env: Env) {
    const childEnv: Record<string, string> = { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin" };
    for (const [name, value] of Object.entries(env)) if (value !== undefined) childEnv[name] = value;
    this.child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout.setEncoding("utf8").on("data", (chunk: string) => (this.stdout += chunk));
    this.child.stderr.setEncoding("utf8").on("data", (chunk: string) => (this.stderr += chunk));
    this.finished = new Promise((resolve) => {
      this.child.once("error", (error) => {
        this.exited = true;
        resolve({ code: null, signal: null, stdout: this.stdout, stderr: `${this.stderr}spawn failed: ${error.message}`, at: performance.now() });
      });
      // "close", not "exit": both pipes are drained, so the output is complete
      this.child.once("close", (code, signal) => {
        this.exited = true;
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, at: performance.now() });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Waits for the process to end; kills it (SIGKILL) and reports `timedOut` when it outlives `ms`. */
  async waitForExit(ms: number): Promise<Exit & { timedOut: boolean }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
    const outcome = await Promise.race([this.finished, timeout]);
    clearTimeout(timer);
    if (outcome !== "timeout") return { ...outcome, timedOut: false };
    this.child.kill("SIGKILL");
    return { ...(await this.finished), timedOut: true };
  }

  /** Sends `signal` (SIGTERM: the drain) and waits for the exit. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<Exit> {
    if (!this.exited) this.child.kill(signal);
    return this.finished;
  }

  /** SIGKILL by pid, and wait until it is reaped (a zombie would still look alive to a pid lock). */
  async kill(): Promise<void> {
    if (this.exited) return;
    this.child.kill("SIGKILL");
    await this.finished;
  }
}

/** Runs one command to its end (killed after `ms`). */
export async function runTessera(args: string[], env: Env, ms = 45_000): Promise<Exit & { timedOut: boolean }> {
  return new TesseraProcess(args, env).waitForExit(ms);
}

/** `tessera serve` on a free port of 127.0.0.1, resolved once /readyz answers 200. */
export async function startServer(env: Env, ms = 45_000): Promise<{ process: TesseraProcess; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = new TesseraProcess(["serve"], { PUBLIC_URL: url, ...env, PORT: String(port), HOST: "127.0.0.1" });
  const deadline = Date.now() + ms;
  for (;;) {
    if (server.exited) throw new Error(`the server exited before it was ready\nstdout: ${server.stdout}\nstderr: ${server.stderr}`);
    try {
      if ((await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok) return { process: server, url };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.kill();
      throw new Error(`the server was not ready within ${ms} ms\nstdout: ${server.stdout}\nstderr: ${server.stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
