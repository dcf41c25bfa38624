import { parseArgs } from "node:util";

// node:util's parseArgs: a few flags do not earn a dependency, and `strict` refuses typos.
const usage = `usage: npm run bench [-- [--quick] [--json] [--alg RS256,ES256,EdDSA|all] [--scenario NAME,…] [--tool wrk|autocannon]]
       npm run bench -- --soak [--soak-minutes N] [--json]
       npm run bench -- --import N [--json]   (tessera users import of N bcrypt users)
scenarios: healthz, jose, exchange-token, exchange-jwt, verify, login, storm, cluster (default: all; cluster needs the real services); algorithms: default RS256,ES256`;
const options = {
  soak: { type: "boolean" },
  "soak-minutes": { type: "string" },
  json: { type: "boolean" },
  quick: { type: "boolean" },
  alg: { type: "string", multiple: true },
  scenario: { type: "string", multiple: true },
  tool: { type: "string" },
  import: { type: "string" },
} as const;
let values: ReturnType<typeof parseArgs<{ options: typeof options }>>["values"];
try {
  ({ values } = parseArgs({ options, strict: true, allowPositionals: false }));
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}

function fail(message: string): never {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}

/** Repeated or comma-separated names, each one of `allowed`. */
function names<T extends string>(flag: string, given: string[] | undefined, allowed: readonly T[], fallback: T[]): T[] {
  if (!given) return fallback;
  const list = given.flatMap((value) => value.split(",")).map((name) => name.trim()).filter(Boolean);
  if (list.includes("all")) return [...allowed];
  const unknown = list.filter((name) => !allowed.includes(name as T));
  if (unknown.length > 0 || list.length === 0) fail(`--${flag}: unknown ${unknown.join(", ") || "(empty)"}; one of ${allowed.join(", ")} or all`);
  return allowed.filter((name) => list.includes(name)); // in the bench's own order
}

if (values.import !== undefined) {
  const users = Number(values.import);
  if (!Number.isInteger(users) || users < 1 || users > 10_000_000) fail(`--import takes a number of users from 1 to 10,000,000, got ${values.import}`);
  const { benchUsersImport } = await import("./users-import.js");
  const result = await benchUsersImport({ users });
  const where = process.env.DATABASE_URL ? "real Postgres" : "embedded PGlite";
  console.log(values.json ? JSON.stringify({ ...result, database: where }) : `tessera users import: ${result.users} users in ${result.seconds.toFixed(1)} s (${Math.round(result.perSecond)} users/s), ${where}`);
} else if (values.soak) {
  const benchOnly = (["quick", "alg", "scenario", "tool"] as const).filter((flag) => values[flag] !== undefined);
  if (benchOnly.length > 0) fail(`--${benchOnly.join(", --")} apply to the bench, not the soak`);
  const minutes = Number(values["soak-minutes"] ?? 10);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) fail(`--soak-minutes must be a number of minutes above 0 (fractions allowed), got ${values["soak-minutes"]}`);
  const { runSoak } = await import("./soak.js");
  process.exitCode = await runSoak({ minutes, json: values.json ?? false });
} else {
  if (values["soak-minutes"] !== undefined) fail("--soak-minutes applies to the soak only: add --soak");
  const { ALGS, SCENARIOS, runBench } = await import("./run.js");
  if (values.tool !== undefined && values.tool !== "wrk" && values.tool !== "autocannon") fail(`--tool: wrk or autocannon, got ${values.tool}`);
  process.exitCode = await runBench({
    quick: values.quick ?? false,
    json: values.json ?? false,
    algs: names("alg", values.alg, ALGS, ["RS256", "ES256"]),
    scenarios: names("scenario", values.scenario, SCENARIOS, [...SCENARIOS]),
    tool: values.tool,
  });
}
