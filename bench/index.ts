import { parseArgs } from "node:util";

// `npm run bench` sets UV_THREADPOOL_SIZE=6 in the environment, as the `tessera` bin does for the server.
// node:util's parseArgs: three flags do not earn a dependency, and `strict` refuses typos.
const usage = "usage: npm run bench [-- --soak [--soak-minutes N] [--json]]";
let values: { soak?: boolean; "soak-minutes"?: string; json?: boolean };
try {
  ({ values } = parseArgs({
    options: { soak: { type: "boolean" }, "soak-minutes": { type: "string" }, json: { type: "boolean" } },
    strict: true,
    allowPositionals: false,
  }));
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}

if (!values.soak) {
  if (values["soak-minutes"] !== undefined || values.json) {
    console.error(`--soak-minutes and --json apply to the soak only: add --soak\n${usage}`);
    process.exit(2);
  }
  const { benchVerify } = await import("./verify.js");
  const { benchExchangeUnderLoginStorm } = await import("./exchange-under-login-storm.js");
  console.log(`local JWT verification, verifications/s (median of rounds; ratio = ours / bare jose)`);
  await benchVerify();
  await benchExchangeUnderLoginStorm();
} else {
  const minutes = Number(values["soak-minutes"] ?? 10);
  if (!Number.isFinite(minutes) || minutes <= 0 || minutes > 24 * 60) {
    console.error(`--soak-minutes must be a number of minutes above 0 (fractions allowed), got ${values["soak-minutes"]}\n${usage}`);
    process.exit(2);
  }
  const { runSoak } = await import("./soak.js");
  process.exitCode = await runSoak({ minutes, json: values.json ?? false });
}
