#!/usr/bin/env node
// Install step (package.json "postinstall"): puts scripts/postgres-queue.js in place of postgres.js's
// queue.js, whose array grows without bound while the pool is saturated (see that file). Only the
// exact upstream files we reviewed are replaced; any other version is left alone with a notice, so a
// postgres.js upgrade that changes the file cannot be silently overwritten. Idempotent.
// Usage: node scripts/patch-postgres.cjs [postgres-folder]
"use strict";
const { createHash } = require("node:crypto");
const { readFileSync, writeFileSync, existsSync } = require("node:fs");
const { dirname, join } = require("node:path");

const MARKER = "// tessera: bounded queue";
/** sha256 of postgres.js 3.4.9's queue.js, as ES module (src/, cf/src/) and CommonJS (cjs/src/). */
const UPSTREAM = {
  esm: "15e6345adb6708bf3b99ad39fc2231c2fb61de5f6cba4b7a7a6be881482a4ec3",
  cjs: "7d20fa53a3930be070609d7912ecd14c347df3526805bca2f6cb7eb35d2e62cf",
};
const COPIES = [
  ["src/queue.js", "esm"],
  ["cf/src/queue.js", "esm"],
  ["cjs/src/queue.js", "cjs"],
];

function postgresRoot() {
  try {
    // postgres.js exports only its entry points, not package.json: its CommonJS entry is cjs/src/index.js.
    return join(dirname(require.resolve("postgres", { paths: [join(__dirname, "..")] })), "..", "..");
  } catch {
    return null; // no postgres.js to patch
  }
}

function replacement(kind) {
  const esm = readFileSync(join(__dirname, "postgres-queue.js"), "utf8");
  return kind === "esm" ? esm : esm.replace(/^export default Queue$/m, "module.exports = Queue");
}

const sha256 = (text) => createHash("sha256").update(text).digest("hex");

/** `root`: postgres.js's folder (the tests pass one); by default the one this package resolves. */
function patch(root = postgresRoot()) {
  if (!root) return;
  for (const [file, kind] of COPIES) {
    const path = join(root, file);
    if (!existsSync(path)) continue;
    const current = readFileSync(path, "utf8");
    if (current.startsWith(MARKER)) {
      if (current !== replacement(kind)) write(path, replacement(kind));
      continue;
    }
    if (sha256(current) !== UPSTREAM[kind]) {
      process.stderr.write(`tessera: ${path} is not the postgres.js queue this patch was written for; left as it is\n`);
      continue;
    }
    write(path, replacement(kind));
  }
}

/** An install must not fail over a performance fix: a read-only node_modules only gets a notice. */
function write(path, text) {
  try {
    writeFileSync(path, text);
  } catch (error) {
    process.stderr.write(`tessera: could not patch ${path} (${error.code ?? error.message}); postgres.js slows down under sustained load without it\n`);
  }
}

patch(process.argv[2]);
