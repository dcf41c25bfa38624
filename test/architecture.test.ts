import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)["']([^"']+)["']/g)].map((m) => m[1]!);
}

/** House rule 2: the domain is free of the web framework, the database driver and Redis. */
describe("architecture", () => {
  it("keeps src/domain free of hono, drizzle, postgres, pglite, ioredis and of the outer folders", () => {
    const forbidden = [/^hono/, /^@hono\//, /^drizzle-orm/, /^postgres$/, /^@electric-sql\//, /^ioredis/, /^\.\.\/(http|store|redis|crypto)\//, /^\.\.\/(deps|main|cli|commands)\.js$/];
    const offenders = sourceFiles(join(root, "src/domain")).flatMap((file) =>
      importsOf(file)
        .filter((specifier) => forbidden.some((pattern) => pattern.test(specifier)))
        .map((specifier) => `${relative(root, file)} imports ${specifier}`),
    );
    expect(offenders).toEqual([]);
  });

  it("keeps the public entry points (src/sdk) free of server code", () => {
    const offenders = sourceFiles(join(root, "src/sdk")).flatMap((file) =>
      importsOf(file)
        .filter((specifier) => specifier.startsWith("..") || !/^(\.\/|jose$|hono(\/|$))/.test(specifier))
        .map((specifier) => `${relative(root, file)} imports ${specifier}`),
    );
    expect(offenders).toEqual([]);
  });

  it("lets only the composition root and the entry points build infrastructure", () => {
    const builders = /\b(openDatabase|connectRedis|createArgon2Hasher|createVault)\(/;
    const allowed = new Set(["src/deps.ts", "src/cli/program.ts", "src/store/db.ts", "src/redis/connection.ts", "src/crypto/argon2-hasher.ts", "src/crypto/vault.ts"]);
    const offenders = sourceFiles(join(root, "src"))
      .map((file) => relative(root, file))
      .filter((file) => !allowed.has(file) && builders.test(readFileSync(join(root, file), "utf8")));
    expect(offenders).toEqual([]);
  });

  it("keeps files short (house ceiling: 300 lines, schema aside)", () => {
    const long = sourceFiles(join(root, "src"))
      .filter((file) => !file.endsWith("schema.ts"))
      .map((file) => [relative(root, file), readFileSync(file, "utf8").split("\n").length] as const)
      .filter(([, lines]) => lines > 300);
    expect(long).toEqual([]);
  });
});
