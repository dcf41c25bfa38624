import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

/**
 * The browser demo's dev server: serves index.html, the SDK (src/browser/index.ts bundled to one ESM
 * file by esbuild at each request, so edits show on reload) and /config.json (the Tessera URL and
 * public token from the environment; the page's query string overrides them).
 *
 *   TESSERA_URL=http://localhost:3000 TESSERA_PUBLIC_TOKEN=public-token-test-… npx tsx examples/browser-demo/serve.ts
 */

const INDEX_HTML = fileURLToPath(new URL("./index.html", import.meta.url));
const SDK_ENTRY = fileURLToPath(new URL("../../src/browser/index.ts", import.meta.url));

export interface DemoOptions {
  /** Default 5173; 0 picks a free port. */
  port?: number;
  /** Default "localhost". */
  host?: string;
  tesseraUrl?: string;
  publicToken?: string;
  /** Serve this prebuilt file as the SDK instead of bundling src/browser (the package test serves the built tessera-browser). */
  sdkFile?: string;
}

export interface DemoServer {
  /** http://localhost:PORT: the origin to allow in the project's settings. */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function bundleSdk(): Promise<string> {
  const result = await build({ entryPoints: [SDK_ENTRY], bundle: true, format: "esm", target: "es2022", write: false, sourcemap: "inline", logLevel: "silent" });
  return result.outputFiles[0]!.text;
}

export async function startDemoServer(options: DemoOptions = {}): Promise<DemoServer> {
  const config = JSON.stringify({ tesseraUrl: options.tesseraUrl ?? "", publicToken: options.publicToken ?? "" });
  const server = createServer(async (request, response) => {
    const send = (status: number, type: string, body: string) => {
      response.writeHead(status, { "content-type": type, "cache-control": "no-store", "x-content-type-options": "nosniff" }).end(body);
    };
    try {
      const path = new URL(request.url ?? "/", "http://demo").pathname;
      if (request.method !== "GET") send(405, "text/plain", "GET only");
      else if (path === "/" || path === "/index.html") send(200, "text/html; charset=utf-8", await readFile(INDEX_HTML, "utf8"));
      else if (path === "/tessera-browser.js") send(200, "text/javascript; charset=utf-8", options.sdkFile ? await readFile(options.sdkFile, "utf8") : await bundleSdk());
      else if (path === "/config.json") send(200, "application/json", config);
      else send(404, "text/plain", "not found");
    } catch (error) {
      send(500, "text/plain", String(error));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 5173, options.host ?? "localhost", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const demo = await startDemoServer({
    port: Number(process.env.DEMO_PORT ?? 5173),
    host: process.env.DEMO_HOST ?? "localhost",
    tesseraUrl: process.env.TESSERA_URL ?? "http://localhost:3000",
    ...(process.env.TESSERA_PUBLIC_TOKEN ? { publicToken: process.env.TESSERA_PUBLIC_TOKEN } : {}),
  });
  process.stdout.write(`browser demo on ${demo.url} (allow this origin in the project's allowedOrigins)\n`);
}
