#!/usr/bin/env node
// The libuv pool is sized before anything can start it: argon2 and jose's WebCrypto share it, and the
// pool must stay larger than the hashing cap so signing always has threads (see README, "Login floods").
{
  const hashing = Number(process.env.PASSWORD_HASH_CONCURRENCY ?? 2);
  process.env.UV_THREADPOOL_SIZE ??= String((Number.isInteger(hashing) && hashing > 0 ? hashing : 2) + 4);
}
const { runCli } = await import("./commands.js");
process.exitCode = await runCli(process.argv, process.env);
