/**
 * A dependency-free API reference: it renders /openapi.json in the browser. No CDN script, so the
 * page works on an offline machine and adds nothing to the attack surface.
 */
export const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tessera API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d1d1f}
h1{margin-bottom:0}code{font:13px ui-monospace,monospace}
.op{border:1px solid #ddd;border-radius:6px;margin:.6rem 0;padding:.5rem .8rem}
.m{display:inline-block;min-width:4.5rem;font-weight:600;text-transform:uppercase}
.d{color:#555;margin:.3rem 0 0}
</style></head><body>
<h1>Tessera API</h1><p>Machine-readable spec: <a href="/openapi.json">/openapi.json</a>. Backend routes use HTTP Basic <code>project_id:secret</code>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r => r.json()).then(spec => {
  const root = document.getElementById('ops'); root.textContent = '';
  for (const [path, item] of Object.entries(spec.paths)) for (const [method, op] of Object.entries(item)) {
    const div = document.createElement('div'); div.className = 'op';
    const head = document.createElement('div');
    const m = document.createElement('span'); m.className = 'm'; m.textContent = method;
    const p = document.createElement('code'); p.textContent = path;
    const s = document.createElement('span'); s.textContent = ' — ' + (op.summary || '');
    head.append(m, p, s); div.append(head);
    if (op.description) { const d = document.createElement('p'); d.className = 'd'; d.textContent = op.description; div.append(d); }
    root.append(div);
  }
});
</script></body></html>`;
