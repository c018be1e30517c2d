/**
 * A browsable reference of the REST API, built in the browser from
 * `/api/v1/openapi.json`: every operation with its parameters, its answer
 * schemas and a button that tries a GET. Sluice serves the page and its
 * script itself; nothing comes from a CDN.
 *
 * @module
 */

/** The page at `/api/v1/docs`. */
export const REFERENCE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice REST API</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 60rem; padding: 1rem; color: #222 }
h1 { font-size: 1.5rem } code, pre { font: 13px ui-monospace, monospace }
section.op { border: 1px solid #ddd; border-radius: 6px; margin: .8rem 0; padding: .6rem .9rem }
.verb { display: inline-block; min-width: 4.2rem; font-weight: 600; text-transform: uppercase }
.get { color: #0a6 } .delete { color: #c33 } .patch { color: #a60 }
details pre { background: #f6f6f6; padding: .5rem; overflow: auto; max-height: 24rem }
button { font: inherit; margin-left: .6rem }
</style>
</head>
<body>
<h1>Sluice REST API</h1>
<p id="about">Loading <a href="openapi.json">openapi.json</a>…</p>
<main id="ops"></main>
<script src="docs/reference.js"></script>
</body>
</html>
`;

/** The script of the page, at `/api/v1/docs/reference.js`. */
export const REFERENCE_JS = `"use strict";
(async () => {
  const doc = await (await fetch("openapi.json")).json();
  const about = document.getElementById("about");
  about.textContent = doc.info.description + " Version " + doc.info.version + ".";
  const main = document.getElementById("ops");
  const el = (tag, props, ...kids) => {
    const e = Object.assign(document.createElement(tag), props);
    for (const k of kids) e.append(k);
    return e;
  };
  const resolve = (s) => s && s.$ref ? doc.components.schemas[s.$ref.split("/").pop()] : s;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [verb, op] of Object.entries(item)) {
      const sec = el("section", { className: "op" });
      const head = el("div", {},
        el("span", { className: "verb " + verb, textContent: verb }),
        el("code", { textContent: path }), " — " + op.summary);
      sec.append(head);
      if (op.description) sec.append(el("p", { textContent: op.description }));
      for (const p of op.parameters || []) {
        sec.append(el("div", {}, el("code", { textContent: p.name }),
          " (" + p.in + ") " + (p.description || "")));
      }
      for (const [code, r] of Object.entries(op.responses)) {
        const media = r.content && Object.values(r.content)[0];
        const schema = media && resolve(media.schema);
        const d = el("details", {}, el("summary", { textContent: code + " " + r.description }));
        if (schema) d.append(el("pre", { textContent: JSON.stringify(schema, null, 2) }));
        sec.append(d);
      }
      if (verb === "get" && !path.includes("{")) {
        const out = el("pre");
        const b = el("button", { textContent: "Try it" });
        b.onclick = async () => {
          const res = await fetch(path);
          out.textContent = res.status + "\\n" + JSON.stringify(await res.json(), null, 2);
        };
        head.append(b);
        sec.append(out);
      }
      main.append(sec);
    }
  }
})();
`;
