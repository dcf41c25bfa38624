import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";

/**
 * Stops and starts the services the fault suite breaks, with the commands of the developers' guide:
 * the machine's Postgres cluster and the Redis on REDIS_URL's port. FAULT_PGDATA names a private
 * cluster (a data folder owned by `postgres`) instead, so the suite can run beside other work.
 */
const privateCluster = process.env.FAULT_PGDATA;

function run(command: string, args: string[]): void {
  execFileSync(command, args, { stdio: "ignore", timeout: 60_000 });
}

function pgctl(action: "start" | "stop"): void {
  if (privateCluster) {
    const bin = `/usr/lib/postgresql/${readdirSync("/usr/lib/postgresql")[0]}/bin/pg_ctl`;
    run("runuser", ["-u", "postgres", "--", bin, "-D", privateCluster, "-w", "-m", "fast", "-l", `${privateCluster}/../log`, action]);
  } else {
    run("pg_ctlcluster", ["--skip-systemctl-redirect", readdirSync("/etc/postgresql")[0]!, "main", action]);
  }
}

const redisPort = () => new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379").port || "6379";

export async function waitFor(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return performance.now() - started;
}

const postgresAnswers = () => {
  try {
    run("pg_isready", ["-q", "-d", process.env.DATABASE_URL!]);
    return true;
  } catch {
    return false;
  }
};

export const postgresService = {
  stop: () => pgctl("stop"),
  async start() {
    if (postgresAnswers()) return;
    pgctl("start");
    await waitFor(postgresAnswers, 30_000, "postgres start");
  },
};

const redisAnswers = () => {
  try {
    return execFileSync("redis-cli", ["-p", redisPort(), "ping"], { timeout: 5_000 }).toString().trim() === "PONG";
  } catch {
    return false;
  }
};

export const redisService = {
  async stop() {
    try {
      run("redis-cli", ["-p", redisPort(), "shutdown", "nosave"]);
    } catch {
      // redis-cli may report the connection it just closed as an error
    }
    await waitFor(() => !redisAnswers(), 10_000, "redis stop");
  },
  async start() {
    if (redisAnswers()) return;
    run("redis-server", ["--daemonize", "yes", "--bind", "127.0.0.1", "--port", redisPort(), "--save", "", "--appendonly", "no"]);
    await waitFor(redisAnswers, 30_000, "redis start");
  },
};
