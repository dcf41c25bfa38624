import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * A secret the embedded default generates once into its data folder (master key, admin key),
 * readable by the owner only. `wx`: two processes starting at once cannot both write one.
 */
export function readOrCreateSecretFile(path: string, create: () => string): { value: string; created: boolean } {
  if (existsSync(path)) return { value: readFileSync(path, "utf8").trim(), created: false };
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const value = create();
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return { value, created: true };
}
