#!/usr/bin/env node
// CommonJS on purpose: an ES module entry is loaded through libuv's thread pool, which starts it at
// its default size before the module's first line runs. Here nothing has touched the pool yet, so
// UV_THREADPOOL_SIZE still takes effect. argon2 and jose's WebCrypto share that pool, and it must stay
// larger than the hashing cap so JWT signing always has threads (README, "Login floods").
"use strict";
// `.env` in the working folder, if any (the repo ships .env.example); the real environment wins.
if (require("node:fs").existsSync(".env")) process.loadEnvFile(".env");
// 2 is the most the default hashing cap can be (config.ts, defaultHashConcurrency): never too small a pool.
const hashing = Number(process.env.PASSWORD_HASH_CONCURRENCY ?? 2);
process.env.UV_THREADPOOL_SIZE ??= String((Number.isInteger(hashing) && hashing > 0 ? hashing : 2) + 4);
// dist/ is built once, at install (`npm install` runs `prepare`), not at every start.
const entry = require("node:path").join(__dirname, "../dist/cli.js");
if (!require("node:fs").existsSync(entry)) {
  process.stderr.write("tessera: dist/ is missing; build it once with `npm run build` (npm install does it)\n");
  process.exit(1);
}
import(entry).catch((error) => {
  process.stderr.write(`tessera: ${error && error.message ? error.message : error}\n`);
  process.exit(1);
});
