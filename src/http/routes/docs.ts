import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Hono } from "hono";
import { compress } from "hono/compress";
import { secureHeaders } from "hono/secure-headers";
import { TesseraError } from "../../errors.js";
import type { AppEnv } from "../context.js";
import { docsInitScript, docsPage } from "../docs-page.js";

interface Asset {
  body: Uint8Array;
  contentType: string;
  /** Content hash in the URL: the file can be cached for good, and an upgrade changes its URL. */
  version: string;
}

const JS = "text/javascript; charset=utf-8";
const IMMUTABLE = "public, max-age=31536000, immutable";

/** Exactly what Swagger UI's BaseLayout needs, and nothing else of the package is reachable. */
function loadAssets(): Map<string, Asset> {
  const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  const asset = (body: Uint8Array, contentType: string): Asset => ({ body, contentType, version: createHash("sha256").update(body).digest("base64url").slice(0, 16) });
  return new Map([
    ["swagger-ui.css", asset(readFileSync(join(dist, "swagger-ui.css")), "text/css; charset=utf-8")],
    ["swagger-ui-bundle.js", asset(readFileSync(join(dist, "swagger-ui-bundle.js")), JS)],
    ["init.js", asset(new TextEncoder().encode(docsInitScript), JS)],
  ]);
}

/**
 * What the page needs, no more: its own scripts and styles, data: images (Swagger UI's icons are
 * inline SVG in its CSS), and fetches to this origin (the spec, and "Try it out").
 */
const docsSecurityHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'", "data:"],
    connectSrc: ["'self'"],
    baseUri: ["'none'"],
    formAction: ["'none'"],
    frameAncestors: ["'none'"],
  },
});

/** GET /docs and its assets, read from node_modules once, on the first visit (about 2 MB, gzip on the wire). */
export function registerDocsRoutes(app: Hono<AppEnv>) {
  let assets: Map<string, Asset> | null = null;
  const loaded = () => (assets ??= loadAssets());
  const url = (name: string) => `/docs/assets/${loaded().get(name)!.version}/${name}`;

  app.use("/docs/*", docsSecurityHeaders, compress()); // "/docs/*" matches "/docs" too
  app.get("/docs", (c) => {
    c.header("Cache-Control", "no-cache"); // the page names the current asset versions
    return c.html(docsPage({ css: url("swagger-ui.css"), bundle: url("swagger-ui-bundle.js"), init: url("init.js") }));
  });
  app.get("/docs/assets/:version/:name", (c) => {
    const asset = loaded().get(c.req.param("name"));
    if (!asset || asset.version !== c.req.param("version")) throw new TesseraError("not_found", { message: `No route for ${c.req.method} ${c.req.path}.` });
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, { "Content-Type": asset.contentType, "Cache-Control": IMMUTABLE });
  });
}
