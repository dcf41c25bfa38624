#!/usr/bin/env node
// The `tessera` command. bin/tessera.cjs sizes libuv's thread pool first and then loads this file;
// run directly (tsx in development), the pool keeps whatever UV_THREADPOOL_SIZE the environment gave.
import { runCli } from "./cli/program.js";

const code = await runCli(process.argv, process.env);
// A failed command exits at once, whatever handles a half-started dependency may have left open.
if (code !== 0) process.exit(code);
