import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, defaultHashConcurrency, loadConfig } from "../src/config.js";

type Env = Record<string, string | undefined>;

/** Runs loadConfig and returns what it threw; fails the test when it did not throw. */
function configErrorFor(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const key = () => randomBytes(32);
const b64 = (k: Buffer) => k.toString("base64");

describe("loadConfig", () => {
  it("has development defaults for an empty environment", () => {
    expect(loadConfig({})).toEqual({
      nodeEnv: "development",
      port: 3000,
      host: "0.0.0.0",
      publicUrl: "http://localhost:3000",
      dataDir: ".tessera",
      databaseUrl: undefined,
      redisUrl: undefined,
      masterKeys: undefined,
      logLevel: "info",
      bodyLimitBytes: 64 * 1024,
      passwordHashConcurrency: defaultHashConcurrency(),
      helperThreadNice: 10,
      passwordHashQueueLimit: 256,
      shutdownTimeoutMs: 10_000,
      databaseTimeoutMs: 2_000,
      adminKey: undefined,
      adminPort: 3001,
      adminHost: "127.0.0.1",
      adminUrl: undefined,
      adminOnPublicListener: false,
      requestTimeoutMs: 10_000,
      headersTimeoutMs: 10_000,
      trustProxyHeader: undefined,
      webConcurrency: 1,
    });
  });

  it("reads the management API's settings", () => {
    expect(loadConfig({ PORT: "0" }).adminPort).toBe(0);
    expect(loadConfig({ ADMIN_PORT: "off" }).adminPort).toBeNull();
    const config = loadConfig({ ADMIN_PORT: "9100", ADMIN_HOST: "10.0.0.5", ADMIN_ON_PUBLIC_LISTENER: "true", TESSERA_ADMIN_KEY: "k".repeat(32), TESSERA_ADMIN_URL: "http://127.0.0.1:9100/" });
    expect(config).toMatchObject({ adminPort: 9100, adminHost: "10.0.0.5", adminOnPublicListener: true, adminKey: "k".repeat(32), adminUrl: "http://127.0.0.1:9100" });
  });

  it("reads METRICS_TOKEN, refusing one short enough to guess or unfit for a header", () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: "0123456789abcdef0123" }).metricsToken).toBe("0123456789abcdef0123");
    for (const bad of ["short", "has a space in it, sixteen+", "x".repeat(1025)]) {
      expect(() => loadConfig({ METRICS_TOKEN: bad })).toThrow(/^METRICS_TOKEN: /);
    }
  });

  it("hashes at most cores − 1 passwords at once by default (at least 1, at most 2), so a login flood leaves the exchange a core", () => {
    expect([1, 2, 3, 4, 64].map((cores) => defaultHashConcurrency(cores))).toEqual([1, 1, 2, 2, 2]);
    expect(loadConfig({}).passwordHashConcurrency).toBe(defaultHashConcurrency(availableParallelism()));
  });

  describe("WEB_CONCURRENCY", () => {
    const shared: Env = { DATABASE_URL: "postgres://db.internal/tessera", REDIS_URL: "redis://redis.internal:6379" };

    it("reads a worker count from 1 to 64, or auto (one per core)", () => {
      expect(loadConfig({ WEB_CONCURRENCY: "1" }).webConcurrency).toBe(1);
      expect(loadConfig({ ...shared, WEB_CONCURRENCY: "4" }).webConcurrency).toBe(4);
      expect(loadConfig({ ...shared, WEB_CONCURRENCY: "64" }).webConcurrency).toBe(64);
      expect(loadConfig({ ...shared, WEB_CONCURRENCY: "auto" }).webConcurrency).toBe(Math.min(availableParallelism(), 64));
      for (const bad of ["0", "65", "1.5", "two", "-2"]) {
        expect(configErrorFor({ ...shared, WEB_CONCURRENCY: bad }).message).toBe('WEB_CONCURRENCY: must be an integer from 1 to 64, or "auto" (one worker per core)');
      }
    });

    it("refuses more than one worker on the embedded database or without Redis, with the other problems", () => {
      const error = configErrorFor({ WEB_CONCURRENCY: "2", PORT: "x" });
      expect(error.problems.map((p) => p.variable)).toEqual(["PORT", "WEB_CONCURRENCY", "WEB_CONCURRENCY"]);
      expect(error.message).toMatch(/WEB_CONCURRENCY: 2 workers need DATABASE_URL: the embedded database \(PGlite in DATA_DIR\) serves one process/);
      expect(error.message).toMatch(/WEB_CONCURRENCY: 2 workers need REDIS_URL: rate limits and the revocation feed must be shared/);
      expect(configErrorFor({ WEB_CONCURRENCY: "2", DATABASE_URL: shared.DATABASE_URL }).problems).toEqual([{ variable: "WEB_CONCURRENCY", message: expect.stringMatching(/need REDIS_URL/) }]);
      // auto asks for a cluster even on one core: the same configuration must not fail only on a bigger machine
      expect(configErrorFor({ WEB_CONCURRENCY: "auto", REDIS_URL: shared.REDIS_URL }).message).toMatch(/^WEB_CONCURRENCY: auto \(one worker per core\) needs DATABASE_URL/);
    });
  });

  it("treats an empty variable as unset", () => {
    const config = loadConfig({ PORT: "", DATA_DIR: "", LOG_LEVEL: "", PUBLIC_URL: "" });
    expect(config.port).toBe(3000);
    expect(config.dataDir).toBe(".tessera");
    expect(config.logLevel).toBe("info");
    expect(config.publicUrl).toBe("http://localhost:3000");
  });

  it("derives the default public URL from PORT", () => {
    const config = loadConfig({ PORT: "8080" });
    expect(config.port).toBe(8080);
    expect(config.publicUrl).toBe("http://localhost:8080");
  });

  it("reads the variables it is given", () => {
    const config = loadConfig({
      NODE_ENV: "test",
      PORT: "4001",
      HOST: "127.0.0.1",
      DATA_DIR: "/var/lib/tessera",
      DATABASE_URL: "postgresql://app@db:5432/tessera",
      REDIS_URL: "rediss://cache:6380",
      LOG_LEVEL: "warn",
      BODY_LIMIT_BYTES: "2048",
      PASSWORD_HASH_CONCURRENCY: "3",
      PASSWORD_HASH_QUEUE_LIMIT: "0",
      HELPER_THREAD_NICE: "0",
      SHUTDOWN_TIMEOUT_MS: "500",
      REQUEST_TIMEOUT_MS: "20000",
      HEADERS_TIMEOUT_MS: "5000",
      TRUST_PROXY: "X-Forwarded-For",
    });
    expect(config).toMatchObject({
      nodeEnv: "test",
      port: 4001,
      host: "127.0.0.1",
      publicUrl: "http://localhost:4001",
      dataDir: "/var/lib/tessera",
      databaseUrl: "postgresql://app@db:5432/tessera",
      redisUrl: "rediss://cache:6380",
      logLevel: "warn",
      bodyLimitBytes: 2048,
      passwordHashConcurrency: 3,
      passwordHashQueueLimit: 0,
      helperThreadNice: 0,
      shutdownTimeoutMs: 500,
      requestTimeoutMs: 20_000,
      headersTimeoutMs: 5_000,
      trustProxyHeader: "x-forwarded-for",
    });
  });

  it("trims trailing slashes from PUBLIC_URL", () => {
    expect(loadConfig({ PUBLIC_URL: "https://auth.example.com/" }).publicUrl).toBe("https://auth.example.com");
    expect(loadConfig({ PUBLIC_URL: "https://example.com/auth//" }).publicUrl).toBe("https://example.com/auth");
    expect(loadConfig({ PUBLIC_URL: "https://auth.example.com" }).publicUrl).toBe("https://auth.example.com");
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["PORT", "-1"],
    ["PORT", "80.5"],
    ["NODE_ENV", "staging"],
    ["PUBLIC_URL", "auth.example.com"],
    ["PUBLIC_URL", "ftp://auth.example.com"],
    ["DATABASE_URL", "mysql://x"],
    ["DATABASE_URL", "not a url"],
    ["REDIS_URL", "nope"],
    ["REDIS_URL", "http://cache:6379"],
    ["TESSERA_MASTER_KEY", "short"],
    ["TESSERA_MASTER_KEY", randomBytes(16).toString("base64")],
    ["TESSERA_MASTER_KEYS", `${b64(key())},short`],
    ["TESSERA_MASTER_KEYS", " , "],
    ["LOG_LEVEL", "loud"],
    ["ADMIN_PORT", "on"],
    ["TESSERA_ADMIN_KEY", "too-short"],
    ["ADMIN_ON_PUBLIC_LISTENER", "yes"],
    ["TESSERA_ADMIN_URL", "localhost:3001"],
    ["DATABASE_TIMEOUT_MS", "5"],
    ["BODY_LIMIT_BYTES", "10"],
    ["PASSWORD_HASH_CONCURRENCY", "0"],
    ["HELPER_THREAD_NICE", "20"],
    ["SHUTDOWN_TIMEOUT_MS", "soon"],
    ["REQUEST_TIMEOUT_MS", "0"],
    ["HEADERS_TIMEOUT_MS", "500"],
    ["HEADERS_TIMEOUT_MS", "20000"], // longer than the request timeout (10 s): Node would refuse it
    ["TRUST_PROXY", "x-forwarded-for: evil"],
  ])("rejects %s=%s with a ConfigError naming the variable", (variable, value) => {
    const error = configErrorFor({ [variable]: value });
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message.length).toBeGreaterThan(`${variable}: `.length);
  });

  it("reports every bad variable at once, one line each", () => {
    const error = configErrorFor({ PORT: "abc", LOG_LEVEL: "loud", REDIS_URL: "nope" });
    expect(error.problems.map((p) => p.variable)).toEqual(["PORT", "REDIS_URL", "LOG_LEVEL"]);
    expect(error.message.split("\n")).toHaveLength(3);
    expect(error.message).toMatch(/^PORT: .*\nREDIS_URL: .*\nLOG_LEVEL: /);
  });

  it("does not echo a rejected master key back in the message", () => {
    const almost = randomBytes(31).toString("base64");
    const error = configErrorFor({ TESSERA_MASTER_KEY: almost });
    expect(error.message).not.toContain(almost);
    expect(error.message).toMatch(/32 bytes/);
  });

  describe("production", () => {
    const production: Env = {
      NODE_ENV: "production",
      DATABASE_URL: "postgres://app@db:5432/tessera",
      REDIS_URL: "redis://cache:6379",
      TESSERA_MASTER_KEY: b64(key()),
      PUBLIC_URL: "https://auth.example.com/",
    };

    it("starts when every required variable is set", () => {
      const config = loadConfig(production);
      expect(config.nodeEnv).toBe("production");
      expect(config.publicUrl).toBe("https://auth.example.com");
      expect(config.masterKeys).toHaveLength(1);
    });

    it("accepts a TESSERA_MASTER_KEYS keyring instead of TESSERA_MASTER_KEY", () => {
      const config = loadConfig({ ...production, TESSERA_MASTER_KEY: undefined, TESSERA_MASTER_KEYS: `${b64(key())},${b64(key())}` });
      expect(config.masterKeys).toHaveLength(2);
    });

    it.each(["DATABASE_URL", "REDIS_URL", "TESSERA_MASTER_KEY", "PUBLIC_URL"])("requires %s", (variable) => {
      const error = configErrorFor({ ...production, [variable]: undefined });
      expect(error.variable).toBe(variable);
      expect(error.message).toMatch(new RegExp(`^${variable}: .*required when NODE_ENV=production`));
      // an empty value counts as missing too
      expect(configErrorFor({ ...production, [variable]: "" }).variable).toBe(variable);
    });

    it("does not require them outside production", () => {
      for (const nodeEnv of ["development", "test"]) {
        const config = loadConfig({ NODE_ENV: nodeEnv });
        expect(config.nodeEnv).toBe(nodeEnv);
        expect(config.databaseUrl).toBeUndefined();
        expect(config.masterKeys).toBeUndefined();
      }
    });
  });

  describe("master keys", () => {
    it("decodes TESSERA_MASTER_KEY to one 32-byte buffer", () => {
      const k = key();
      const config = loadConfig({ TESSERA_MASTER_KEY: b64(k) });
      expect(config.masterKeys).toHaveLength(1);
      expect(Buffer.isBuffer(config.masterKeys![0])).toBe(true);
      expect(config.masterKeys![0]!.equals(k)).toBe(true);
    });

    it("decodes a TESSERA_MASTER_KEYS keyring of two keys to two 32-byte buffers, in order", () => {
      const first = key();
      const second = key();
      const config = loadConfig({ TESSERA_MASTER_KEYS: ` ${b64(first)} , ${b64(second)} ` });
      expect(config.masterKeys).toHaveLength(2);
      for (const decoded of config.masterKeys!) {
        expect(Buffer.isBuffer(decoded)).toBe(true);
        expect(decoded.length).toBe(32);
      }
      expect(config.masterKeys![0]!.equals(first)).toBe(true);
      expect(config.masterKeys![1]!.equals(second)).toBe(true);
    });

    it("prefers TESSERA_MASTER_KEYS over TESSERA_MASTER_KEY", () => {
      const ring = key();
      const single = key();
      const config = loadConfig({ TESSERA_MASTER_KEYS: b64(ring), TESSERA_MASTER_KEY: b64(single) });
      expect(config.masterKeys).toHaveLength(1);
      expect(config.masterKeys![0]!.equals(ring)).toBe(true);
    });
  });

  it("returns a frozen object", () => {
    const config = loadConfig({ TESSERA_MASTER_KEYS: `${b64(key())},${b64(key())}` });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.masterKeys)).toBe(true);
    // test modules are strict-mode code: writing a frozen property throws
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.masterKeys as Buffer[]).push(key());
    }).toThrow(TypeError);
    expect(config.port).toBe(3000);
    expect(config.masterKeys).toHaveLength(2);
  });
});
