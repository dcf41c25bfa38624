import { spawn } from "node:child_process";
import { join } from "node:path";
import { root } from "./shared/instances.js";

export interface ChildOptions {
  env?: Record<string, string>;
  signal: AbortSignal;
  /** Longest the child may run before it is killed. */
  timeoutMs: number;
}

/**
 * Runs a program to its end and returns its stdout; stderr is kept for the error message. Killed (by
 * its own pid) on abort or timeout. The load and the crypto loops run in children like this so that
 * they never share an event loop with the bench or with each other.
 */
export function runProgram(command: string, args: string[], options: ChildOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) return reject(new Error(`${command}: interrupted`));
    const child = spawn(command, args, { cwd: root, env: { PATH: process.env.PATH ?? "", ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const kill = () => child.kill("SIGKILL");
    const timer = setTimeout(kill, options.timeoutMs);
    options.signal.addEventListener("abort", kill, { once: true });
    child.once("error", (error) => reject(new Error(`${command}: ${error.message}`)));
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      options.signal.removeEventListener("abort", kill);
      // An interrupted wrk still prints a result (it stops on SIGINT, as the terminal sends it to the group): not one to use.
      if (code === 0 && !options.signal.aborted) resolve(stdout);
      else reject(new Error(`${command} ${args[0] ?? ""} ended with ${code ?? signal}${options.signal.aborted ? " (interrupted)" : ""}: ${stderr.trim().slice(-500)}`));
    });
  });
}

/** A bench/*-child.ts module in its own node process (through tsx); its input is argv[2], its answer the last line of stdout. */
export async function runChild<T>(file: string, input: unknown, options: ChildOptions): Promise<T> {
  const stdout = await runProgram(process.execPath, ["--import", "tsx", join(root, "bench", file), JSON.stringify(input)], options);
  const last = stdout.trim().split("\n").pop() ?? "";
  return JSON.parse(last) as T;
}
