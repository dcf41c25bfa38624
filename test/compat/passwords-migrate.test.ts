import { createHash, pbkdf2Sync, randomBytes, scryptSync } from "node:crypto";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { hash as argon2Hash } from "@node-rs/argon2";
import { hash as bcryptHash } from "@node-rs/bcrypt";
import { pino } from "pino";
import { Client, StytchError, type PasswordsMigrateRequest } from "stytch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDeps, type Deps } from "../../src/deps.js";
import { createProject, type CreatedProject } from "../../src/domain/projects.js";
import { createApp } from "../../src/http/app.js";
import { createTestEnvironment, type TestEnvironment } from "../helpers.js";
import { freePort } from "../server-process.js";

/** The official client's passwords.migrate per hash type, then passwords.authenticate against the import. */

const PASSWORD = "Correct-horse-battery-9";
const b64 = (bytes: Buffer) => bytes.toString("base64");
const salt = randomBytes(16);

/** One migrate request per hash type, each made by an independent implementation of that algorithm. */
async function requests(): Promise<Record<string, Omit<PasswordsMigrateRequest, "email">>> {
  const digest = (algorithm: string, pre: string, app: string) => createHash(algorithm).update(pre + PASSWORD + app).digest("hex");
  return {
    bcrypt: { hash: await bcryptHash(PASSWORD, 5), hash_type: "bcrypt" },
    argon_2id: { hash: await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 8192, timeCost: 1, parallelism: 1 }), hash_type: "argon_2id" },
    argon_2i: { hash: await argon2Hash(PASSWORD, { algorithm: 1, memoryCost: 8192, timeCost: 2, parallelism: 1 }), hash_type: "argon_2i" },
    argon_2id_hex: {
      hash: (await argon2Hash(PASSWORD, { algorithm: 2, memoryCost: 4096, timeCost: 3, parallelism: 1, salt: Buffer.from("saltsaltsalt"), outputLen: 32 })).split("$").at(-1)!,
      hash_type: "argon_2id",
      argon_2_config: { salt: "saltsaltsalt", iteration_amount: 3, memory: 4096, threads: 1, key_length: 32 },
    },
    scrypt: { hash: b64(scryptSync(PASSWORD, salt, 32, { N: 1024, r: 8, p: 1 })), hash_type: "scrypt", scrypt_config: { salt: b64(salt), n_parameter: 1024, r_parameter: 8, p_parameter: 1, key_length: 32 } },
    scrypt_phc: { hash: `$scrypt$ln=10,r=8,p=1$${b64(salt).replace(/=+$/, "")}$${b64(scryptSync(PASSWORD, salt, 32, { N: 1024, r: 8, p: 1 })).replace(/=+$/, "")}`, hash_type: "scrypt" },
    pbkdf_2: { hash: b64(pbkdf2Sync(PASSWORD, salt, 1000, 32, "sha256")), hash_type: "pbkdf_2", pbkdf_2_config: { salt: b64(salt), iteration_amount: 1000, key_length: 32, algorithm: "sha256" } },
    pbkdf_2_sha512: { hash: b64(pbkdf2Sync(PASSWORD, salt, 1000, 64, "sha512")), hash_type: "pbkdf_2", pbkdf_2_config: { salt: b64(salt), iteration_amount: 1000, key_length: 64, algorithm: "sha512" } },
    md_5: { hash: digest("md5", "", ""), hash_type: "md_5" },
    md_5_salted: { hash: digest("md5", "pre", "post"), hash_type: "md_5", md_5_config: { prepend_salt: "pre", append_salt: "post" } },
    sha_1: { hash: digest("sha1", "s4lt", ""), hash_type: "sha_1", sha_1_config: { prepend_salt: "s4lt", append_salt: "" } },
    sha_512: { hash: digest("sha512", "", "pepper"), hash_type: "sha_512", sha_512_config: { prepend_salt: "", append_salt: "pepper" } },
  };
}

describe("compat: passwords.migrate with the official stytch client", () => {
  let environment: TestEnvironment;
  let deps: Deps;
  let server: Server;
  let project: CreatedProject;
  let client: Client;
  let cases: Awaited<ReturnType<typeof requests>>;
  const storedHash = async (email: string) => (await deps.store.users.findByEmailForLogin(project.project.projectId, email))?.passwordHash;

  beforeAll(async () => {
    const port = await freePort();
    environment = await createTestEnvironment({ PORT: String(port) });
    deps = await createDeps(environment.config, { logger: pino({ level: "silent" }), inMemoryDatabase: true });
    project = await createProject(deps, { name: "migrate", settings: { rateLimits: { loginFailuresPerEmail: 1000 } } });
    const app = createApp(deps);
    server = await new Promise<Server>((resolve) => {
      const listening = serve({ fetch: app.fetch, port, hostname: "127.0.0.1" }, () => resolve(listening as Server));
    });
    client = new Client({ project_id: project.project.projectId, secret: project.secret, env: `http://127.0.0.1:${port}/` });
    cases = await requests();
  });

  afterAll(async () => {
    if (server) await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
    await deps?.close();
    await environment?.cleanup();
  });

  it.each(["bcrypt", "argon_2id", "argon_2i", "argon_2id_hex", "scrypt", "scrypt_phc", "pbkdf_2", "pbkdf_2_sha512", "md_5", "md_5_salted", "sha_1", "sha_512"])(
    "%s: migrate creates the user; a wrong password fails; the right one logs in and leaves argon2id behind",
    async (name) => {
      const email = `${name.replace(/_/g, "-")}-${randomBytes(4).toString("hex")}@example.com`;
      const migrated = await client.passwords.migrate({ email, ...cases[name]!, name: { first_name: "Ada" }, set_email_verified: true });
      expect(migrated.status_code).toBe(200);
      expect(migrated.user_created).toBe(true);
      expect(migrated.user_id).toMatch(/^user-test-/);
      expect(migrated.email_id).toBe(migrated.user.emails[0]!.email_id);
      expect(migrated.user.emails).toEqual([{ email_id: migrated.email_id, email, verified: true }]);
      expect(migrated.user.name?.first_name).toBe("Ada");
      expect(migrated.user.password?.password_id).toMatch(/^password-test-/);
      expect(await storedHash(email)).not.toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

      const wrong = await client.passwords.authenticate({ email, password: `${PASSWORD}x` }).catch((error: unknown) => error);
      expect(wrong).toBeInstanceOf(StytchError);
      expect((wrong as StytchError).error_type).toBe("unauthorized_credentials");

      const login = await client.passwords.authenticate({ email, password: PASSWORD, session_duration_minutes: 60 });
      expect(login.user_id).toBe(migrated.user_id);
      expect(login.session_jwt).not.toBe("");
      expect(await storedHash(email)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      // The upgraded hash keeps working, and still refuses a wrong password.
      expect((await client.passwords.authenticate({ email, password: PASSWORD })).user_id).toBe(migrated.user_id);
      await expect(client.passwords.authenticate({ email, password: "wrong-Password-42" })).rejects.toBeInstanceOf(StytchError);
    },
  );

  it("migrate onto an existing user sets its password and keeps its profile (user_created false)", async () => {
    const email = `existing-${randomBytes(4).toString("hex")}@example.com`;
    const created = await client.users.create({ email, name: { first_name: "Grace" } });
    const migrated = await client.passwords.migrate({ email, ...cases.md_5!, name: { first_name: "Other" } });
    expect(migrated.user_created).toBe(false);
    expect(migrated.user_id).toBe(created.user_id);
    expect(migrated.user.name?.first_name).toBe("Grace");
    expect((await client.passwords.authenticate({ email, password: PASSWORD })).user_id).toBe(created.user_id);
    // A second migrate replaces the (now argon2id) password, as Stytch's does.
    const again = await client.passwords.migrate({ email, ...cases.sha_512! });
    expect(again.user_created).toBe(false);
    expect(await storedHash(email)).toMatch(/^\$sha512\$/);
  });

  it("refuses bad hashes and configs with 400s naming the problem, never echoing the hash", async () => {
    const email = `bad-${randomBytes(4).toString("hex")}@example.com`;
    const errorOf = (request: Omit<PasswordsMigrateRequest, "email">) => client.passwords.migrate({ email, ...request }).then(() => null, (error: StytchError) => error);
    const bad: [Omit<PasswordsMigrateRequest, "email">, string, RegExp][] = [
      [{ hash: "x", hash_type: "phpass" }, "invalid_hash_type", /hash_type must be one of/],
      [{ hash: "$2b$10$short", hash_type: "bcrypt" }, "invalid_hash", /bcrypt hash/],
      [{ hash: `$2b$31$${"a".repeat(53)}`, hash_type: "bcrypt" }, "invalid_hash", /bcrypt cost/],
      [{ hash: "abcd", hash_type: "md_5" }, "invalid_hash", /16 bytes/],
      [{ hash: b64(randomBytes(32)), hash_type: "scrypt", scrypt_config: { salt: b64(salt), n_parameter: 1000, r_parameter: 8, p_parameter: 1, key_length: 32 } }, "invalid_hash", /power of two/],
      [{ hash: b64(randomBytes(32)), hash_type: "scrypt", scrypt_config: { salt: b64(salt), n_parameter: 262_144, r_parameter: 32, p_parameter: 1, key_length: 32 } }, "invalid_hash", /128·N·r/],
      [{ hash: b64(randomBytes(32)), hash_type: "pbkdf_2", pbkdf_2_config: { salt: b64(salt), iteration_amount: 1000, key_length: 32, algorithm: "md5" } }, "invalid_hash", /algorithm/],
      [{ hash: b64(randomBytes(32)), hash_type: "pbkdf_2", pbkdf_2_config: { salt: b64(salt), iteration_amount: 1000, key_length: 64, algorithm: "sha256" } }, "invalid_hash", /key_length/],
      [{ hash: b64(randomBytes(32)), hash_type: "pbkdf_2" }, "invalid_hash", /pbkdf_2_config/],
      [{ ...cases.bcrypt!, hash_type: "argon_2i" }, "invalid_hash", /argon2i hash is a PHC string/],
      [{ ...cases.argon_2i!, hash_type: "argon_2id" }, "invalid_hash", /hash_type says argon_2id/],
    ].map(([request, type, message]) => [request as Omit<PasswordsMigrateRequest, "email">, type as string, message as RegExp]);
    for (const [request, type, message] of bad) {
      const error = await errorOf(request);
      expect(error, JSON.stringify(request)).toBeInstanceOf(StytchError);
      expect(error!.status_code).toBe(400);
      expect(error!.error_type).toBe(type);
      expect(error!.error_message).toMatch(message);
      expect(error!.error_message).not.toContain(request.hash);
    }
    const phone = await errorOf({ ...cases.md_5!, phone_number: "+15555550100" });
    expect(phone?.error_type).toBe("bad_request");
    expect((await deps.store.users.findByEmailForLogin(project.project.projectId, email))).toBeNull();
  });
});
