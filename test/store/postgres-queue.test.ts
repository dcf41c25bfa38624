import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import Queue from "../../scripts/postgres-queue.js";

const PATCH_SCRIPT = join(import.meta.dirname, "../../scripts/patch-postgres.cjs");
const POSTGRES_ROOT = join(dirname(createRequire(import.meta.url).resolve("postgres")), "..", "..");
const COPIES = ["src/queue.js", "cf/src/queue.js", "cjs/src/queue.js"];

type Connection = { id: number };

/**
 * postgres.js keeps its connections and waiting queries in this queue (scripts/postgres-queue.js,
 * put in place at install). Upstream's grew by one slot a query while the pool was saturated, and
 * every query scanned all of it.
 */
describe("postgres.js connection queue", () => {
  it("stays bounded while every connection is busy, as the pool cycles them (upstream grew to 100,000 slots)", () => {
    // The pool's move() for a query sent on a busy connection: shift it off `busy`, remove, push back.
    const busy = Queue<Connection>([{ id: 1 }, { id: 2 }]);
    for (let i = 0; i < 100_000; i++) {
      const c = busy.shift()!;
      busy.remove(c);
      busy.push(c);
    }
    expect(busy.length).toBe(2);
    expect(busy.capacity).toBeLessThanOrEqual(2 * 2 + 32);
  });

  it("answers what a plain array queue answers, over 20,000 random operations", () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const queue = Queue<number>([1, 2, 3]);
    const model = [1, 2, 3];
    for (let i = 0; i < 20_000; i++) {
      const op = random();
      if (op < 0.45) {
        model.push(i);
        expect(queue.push(i)).toBe(i);
      } else if (op < 0.85) {
        if (model.length === 0) continue; // postgres.js checks length before it shifts
        expect(queue.shift()).toBe(model.shift());
      } else {
        const x = model.length && random() < 0.8 ? model[Math.floor(random() * model.length)]! : -1;
        const at = model.indexOf(x);
        if (at !== -1) model.splice(at, 1);
        expect(queue.remove(x)).toBe(at === -1 ? null : x);
      }
      expect(queue.length).toBe(model.length);
      expect(queue.capacity).toBeLessThanOrEqual(2 * model.length + 33);
    }
  });

  it("is the queue the installed postgres.js runs (npm install puts it in place)", () => {
    const ours = readFileSync(join(import.meta.dirname, "../../scripts/postgres-queue.js"), "utf8");
    const installed = (file: string) => readFileSync(join(POSTGRES_ROOT, file), "utf8");
    const hint = "run `node scripts/patch-postgres.cjs`";
    expect(installed("src/queue.js"), hint).toBe(ours);
    expect(installed("cf/src/queue.js"), hint).toBe(ours);
    // The CommonJS copy is ours with its export rewritten (the script's own rule; see the test below).
    expect(installed("cjs/src/queue.js"), hint).toMatch(/^\/\/ tessera: bounded queue[\s\S]*\nmodule\.exports = Queue\n$/);
  });

  describe("the install step", () => {
    const root = mkdtempSync(join(tmpdir(), "tessera-pg-queue-"));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it("leaves a queue.js it was not written for as it is, and says so", () => {
      mkdirSync(join(root, "src"), { recursive: true });
      writeFileSync(join(root, "src/queue.js"), "export default function Queue() {}\n");
      const run = spawnSync(process.execPath, [PATCH_SCRIPT, root], { encoding: "utf8" });
      expect(run.status).toBe(0);
      expect(run.stderr).toContain("left as it is");
      expect(readFileSync(join(root, "src/queue.js"), "utf8")).toBe("export default function Queue() {}\n");
    });

    it("brings an older copy of the patch up to date", () => {
      mkdirSync(join(root, "cjs/src"), { recursive: true });
      writeFileSync(join(root, "cjs/src/queue.js"), "// tessera: bounded queue (an older one)\nmodule.exports = function Queue() {}\n");
      execFileSync(process.execPath, [PATCH_SCRIPT, root]);
      expect(readFileSync(join(root, "cjs/src/queue.js"), "utf8")).toBe(readFileSync(join(POSTGRES_ROOT, "cjs/src/queue.js"), "utf8"));
    });

    it("can run again on a patched install without changing it", () => {
      const before = COPIES.map((file) => readFileSync(join(POSTGRES_ROOT, file), "utf8"));
      execFileSync(process.execPath, [PATCH_SCRIPT]);
      expect(COPIES.map((file) => readFileSync(join(POSTGRES_ROOT, file), "utf8"))).toEqual(before);
    });
  });
});
