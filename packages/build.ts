/**
 * `npm run build:packages`: the SDKs as packages an app installs without the server, built from the one
 * source in src/sdk and src/browser. Each package is a folder ready for `npm pack` / `npm publish`:
 * `packages/<name>/dist/` (or `<out>/<name>/` with `--out <folder>`) holding one esbuild bundle per
 * format, TypeScript declarations, package.json, README.md and LICENSE.
 *
 * Version, license, engines and dependency ranges come from the root package.json, so the packages
 * never drift from what this repo is tested with. The build fails if a bundle would import a package its
 * manifest does not declare, or pull in a file from outside its own source folder (server code).
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions, type Plugin } from "esbuild";
import ts from "typescript";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const root = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  version: string;
  license: string;
  engines: Record<string, string>;
  dependencies: Record<string, string>;
};

interface Bundle {
  file: string;
  format: "esm" | "iife";
  globalName?: string;
}

interface PackageDefinition {
  /** Folder under packages/ (README.md lives there) and under the output folder. */
  folder: string;
  name: string;
  description: string;
  /** Source folder every bundled file must come from. */
  source: string;
  entry: string;
  bundles: Bundle[];
  platform: BuildOptions["platform"];
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  /** Relative imports of the source that are another package here (bundle and declarations). */
  mapped?: Record<string, string>;
  node: boolean;
}

const range = (name: string) => root.dependencies[name] ?? missing(name);
function missing(name: string): never {
  throw new Error(`the root package.json does not depend on ${name}: the SDK packages take their ranges from it`);
}

export const PACKAGES: PackageDefinition[] = [
  {
    folder: "verify",
    name: "tessera-verify",
    description: "Verify Tessera session JWTs locally (JWKS, revocation feed) and exchange them at the server when too old",
    source: "src/sdk",
    entry: "src/sdk/verify.ts",
    bundles: [{ file: "verify.js", format: "esm" }],
    platform: "neutral",
    dependencies: { jose: range("jose") },
    node: true,
  },
  {
    folder: "hono",
    name: "tessera-hono",
    description: "Hono middleware: a Tessera session per route, with freshness and step-up options",
    source: "src/sdk",
    entry: "src/sdk/hono.ts",
    bundles: [{ file: "hono.js", format: "esm" }],
    platform: "neutral",
    dependencies: { "tessera-verify": `^${root.version}` },
    peerDependencies: { hono: range("hono") },
    mapped: { "./verify.js": "tessera-verify" },
    node: true,
  },
  {
    folder: "browser",
    name: "tessera-browser",
    description: "Frontend SDK for Tessera's browser API: login, cookie sessions, one refresh per browser",
    source: "src/browser",
    entry: "src/browser/index.ts",
    bundles: [
      { file: "index.js", format: "esm" },
      { file: "tessera-browser.global.js", format: "iife", globalName: "TesseraBrowser" },
    ],
    platform: "browser",
    dependencies: {},
    node: false,
  },
];

/** Declarations of every SDK source file, emitted in memory: path relative to src/ (posix) → text. */
function emitDeclarations(): Map<string, string> {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!parsed) throw new Error("cannot read tsconfig.json");
  const options: ts.CompilerOptions = { ...parsed.options, declaration: true, emitDeclarationOnly: true, sourceMap: false, declarationMap: false, noEmit: false, rootDir: join(ROOT, "src"), outDir: "/decl" };
  const program = ts.createProgram(PACKAGES.map((p) => join(ROOT, p.entry)), options);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) throw new Error(ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => "\n" }));
  const declarations = new Map<string, string>();
  program.emit(undefined, (file, text) => declarations.set(posix.relative("/decl", file.replaceAll("\\", "/")), text));
  return declarations;
}

/** The entry's declaration file and every one it imports relatively, with mapped imports rewritten to their package. */
function declarationsOf(definition: PackageDefinition, all: Map<string, string>): Map<string, string> {
  const base = posix.relative("src", definition.source);
  const files = new Map<string, string>();
  const pending = [posix.basename(definition.entry).replace(/\.ts$/, ".d.ts")];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    let text = all.get(`${base}/${file}`) ?? fail(`${definition.name}: no declarations for ${base}/${file}`);
    text = text.replace(/(from\s+|import\()(["'])(\.[^"']+)\2/g, (match, lead: string, quote: string, specifier: string) => {
      const target = definition.mapped?.[specifier];
      if (target) return `${lead}${quote}${target}${quote}`;
      pending.push(posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.js$/, ".d.ts"));
      return match;
    });
    files.set(file, text);
  }
  return files;
}

function fail(message: string): never {
  throw new Error(message);
}

/** Maps the package's relative imports of a sibling package to that package, external. */
function mapSiblings(mapped: Record<string, string>): Plugin {
  return {
    name: "tessera-siblings",
    setup(esbuild) {
      esbuild.onResolve({ filter: /^\./ }, (args) => {
        const target = mapped[args.path];
        return target ? { path: target, external: true } : undefined;
      });
    },
  };
}

async function bundle(definition: PackageDefinition, spec: Bundle, outFolder: string): Promise<void> {
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [definition.entry],
    outfile: join(outFolder, spec.file),
    bundle: true,
    format: spec.format,
    ...(spec.globalName ? { globalName: spec.globalName } : {}),
    platform: definition.platform,
    target: "es2022",
    packages: "external",
    plugins: definition.mapped ? [mapSiblings(definition.mapped)] : [],
    legalComments: "none",
    metafile: true,
    logLevel: "silent",
  });
  const declared = new Set([...Object.keys(definition.dependencies), ...Object.keys(definition.peerDependencies ?? {})]);
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imported of output.imports) {
      const packageName = imported.path.startsWith("@") ? imported.path.split("/").slice(0, 2).join("/") : imported.path.split("/")[0]!;
      if (!imported.external || !declared.has(packageName)) fail(`${definition.name}: the bundle imports ${imported.path}, which its package.json does not declare`);
    }
    for (const input of Object.keys(output.inputs)) {
      if (!input.startsWith(`${definition.source}/`)) fail(`${definition.name}: the bundle includes ${input}, outside ${definition.source}/`);
    }
  }
}

function manifest(definition: PackageDefinition): Record<string, unknown> {
  const [main] = definition.bundles;
  const types = posix.basename(definition.entry).replace(/\.ts$/, ".d.ts");
  return {
    name: definition.name,
    version: root.version,
    description: definition.description,
    license: root.license,
    type: "module",
    // "default", not "import": Node's require(esm) can load an ESM-only package through it
    exports: { ".": { types: `./${types}`, default: `./${main!.file}` }, "./package.json": "./package.json" },
    types: `./${types}`,
    sideEffects: false,
    ...(definition.node ? { engines: root.engines } : {}),
    ...(Object.keys(definition.dependencies).length > 0 ? { dependencies: definition.dependencies } : {}),
    ...(definition.peerDependencies ? { peerDependencies: definition.peerDependencies } : {}),
  };
}

/** Builds every package; returns name → the folder to `npm pack`. */
export async function buildPackages(outRoot?: string): Promise<Record<string, string>> {
  const declarations = emitDeclarations();
  const folders: Record<string, string> = {};
  for (const definition of PACKAGES) {
    const outFolder = outRoot ? join(outRoot, definition.folder) : join(ROOT, "packages", definition.folder, "dist");
    rmSync(outFolder, { recursive: true, force: true });
    mkdirSync(outFolder, { recursive: true });
    for (const spec of definition.bundles) await bundle(definition, spec, outFolder);
    for (const [file, text] of declarationsOf(definition, declarations)) {
      mkdirSync(dirname(join(outFolder, file)), { recursive: true });
      writeFileSync(join(outFolder, file), text);
    }
    writeFileSync(join(outFolder, "package.json"), `${JSON.stringify(manifest(definition), null, 2)}\n`);
    copyFileSync(join(ROOT, "packages", definition.folder, "README.md"), join(outFolder, "README.md"));
    copyFileSync(join(ROOT, "LICENSE"), join(outFolder, "LICENSE"));
    folders[definition.name] = outFolder;
  }
  return folders;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf("--out");
  const folders = await buildPackages(at > 0 ? process.argv[at + 1] : undefined);
  for (const [name, folder] of Object.entries(folders)) console.log(`${name}: ${relative(process.cwd(), folder) || "."}`);
}
