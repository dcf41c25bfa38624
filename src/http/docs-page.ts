/**
 * The API reference page: Swagger UI (swagger-ui-dist) rendering /openapi.json, every file served by
 * this server from the installed package, so the page works on a machine without internet access.
 * No inline script or style: the Content-Security-Policy can then forbid both.
 */

export interface DocsAssetUrls {
  css: string;
  bundle: string;
  init: string;
}

export const docsPage = (urls: DocsAssetUrls) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${urls.css}">
</head><body>
<noscript>The API reference needs JavaScript; the machine-readable spec is <a href="/openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="${urls.bundle}"></script>
<script src="${urls.init}"></script>
</body></html>`;

/** Swagger UI's start-up, served as a file so no inline script is needed. */
export const docsInitScript = `"use strict";
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis],
  deepLinking: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
  displayRequestDuration: true,
  // The default sends the spec to validator.swagger.io for a badge: no request may leave this server.
  validatorUrl: null,
});
`;
