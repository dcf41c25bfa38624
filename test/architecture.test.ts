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

  it("names every folder of src/ and of the repository in the README's Architecture tree", () => {
    const tree = /## Architecture[\s\S]*?```\n([\s\S]*?)```/.exec(readFileSync(join(root, "README.md"), "utf8"))?.[1] ?? "";
    const untracked = new Set(["node_modules", "dist", "test-results"]);
    const foldersOf = (path: string) =>
      readdirSync(join(root, path), { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && !untracked.has(entry.name))
        .map((entry) => entry.name);
    // the first column of a line at this indent, e.g. "cli.ts, cli/" or "examples/hono-app/"
    const listed = (indent: string, folder: string) =>
      tree.split("\n").some((line) => line.startsWith(indent) && line[indent.length] !== " " && line.slice(indent.length).split(/\s{2,}/)[0]!.split(", ").some((entry) => entry.startsWith(`${folder}/`)));
    const missing = [...foldersOf("src").filter((f) => !listed("  ", f)).map((f) => `src/${f}/`), ...foldersOf(".").filter((f) => !listed("", f)).map((f) => `${f}/`)];
    expect(missing).toEqual([]);
  });
});
