/**
 * The dashboard's page, style and script, kept as strings in a module so
 * that `deno compile` carries them inside the executable: Sluice serves
 * them itself, nothing comes from a CDN. The script polls
 * `/api/v1/dashboard` every second and writes every peer-sent name with
 * `textContent`, never as HTML.
 *
 * @module
 */

/** `GET /`. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sluice</title>
<link rel="stylesheet" href="/dashboard.css">
<script src="/dashboard.js" defer></script>
</head>
<body>
<header><h1>Sluice</h1><span id="status">connecting…</span></header>
<main>
<section>
<h2>Paths</h2>
<table id="paths">
<thead><tr><th>Path</th><th>State</th><th>Tracks</th><th>Readers</th><th>Bitrate</th><th title="frames of all tracks per second">Frames/s</th><th>Received</th><th>Drops</th></tr></thead>
<tbody></tbody>
</table>
<p id="no-paths" hidden>No path is live or configured yet. Publish to <code>rtmp://HOST:PORT/&lt;path&gt;</code>.</p>
</section>
<section>
<h2>Relays</h2>
<table id="relays">
<thead><tr><th>Path</th><th>Kind</th><th>URL</th><th>State</th><th>Since</th><th>Attempts</th><th>Last error</th></tr></thead>
<tbody></tbody>
</table>
<p id="no-relays" hidden>No relay is configured.</p>
</section>
</main>
</body>
</html>
`;

/** `GET /dashboard.css`. */
export const DASHBOARD_CSS =
  `:root { color-scheme: light dark; --line: #8884; --live: #1a7f37; --idle: #8a8a8a; --bad: #cf222e; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; }
header { display: flex; align-items: baseline; gap: 1em; padding: .6em 1.2em; border-bottom: 1px solid var(--line); }
h1 { font-size: 1.3em; margin: 0; }
h2 { font-size: 1.05em; margin: 1.2em 0 .4em; }
main { padding: 0 1.2em 2em; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; font-size: .9em; opacity: .8; }
td.num { font-variant-numeric: tabular-nums; text-align: right; }
.badge { display: inline-block; padding: 0 .5em; border-radius: 1em; color: #fff; font-size: .85em; }
.badge.live, .badge.running { background: var(--live); }
.badge.idle, .badge.connecting { background: var(--idle); }
.badge.retrying { background: var(--bad); }
.urls { display: flex; flex-wrap: wrap; gap: .3em .8em; padding-bottom: .6em; }
.url { display: inline-flex; align-items: center; gap: .3em; }
.url code { font-size: .85em; user-select: all; }
.url button { font-size: .8em; cursor: pointer; }
#status.error { color: var(--bad); }
`;

/** `GET /dashboard.js`. */
export const DASHBOARD_JS = `"use strict";
const POLL_MS = 1000;

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const c of children) node.append(c);
  return node;
}

function bitrate(bps) {
  if (bps >= 1e6) return (bps / 1e6).toFixed(2) + " Mb/s";
  return (bps / 1e3).toFixed(0) + " kb/s";
}

function bytes(n) {
  if (n >= 1e9) return (n / 1e9).toFixed(2) + " GB";
  if (n >= 1e6) return (n / 1e6).toFixed(1) + " MB";
  return (n / 1e3).toFixed(0) + " kB";
}

function track(t) {
  if (t.kind === "video") {
    return t.codec + (t.width ? " " + t.width + "×" + t.height : "");
  }
  return t.codec + " " + (t.sampleRate / 1000) + " kHz " + t.channels + "ch";
}

function copyButton(text) {
  const button = el("button", { type: "button", textContent: "copy" });
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "copied";
    } catch {
      button.textContent = "select it";
    }
    setTimeout(() => { button.textContent = "copy"; }, 1500);
  });
  return button;
}

function pathRows(p) {
  const state = el("span", { className: "badge " + (p.live ? "live" : "idle"), textContent: p.live ? "live" : "idle" });
  const row = el("tr", {},
    el("td", { className: "name" },
      el("a", { href: "/" + p.name.split("/").map(encodeURIComponent).join("/") + "/", textContent: p.name })),
    el("td", {}, state),
    el("td", { className: "tracks", textContent: p.tracks.map(track).join(" · ") || "—" }),
    el("td", { className: "num readers", textContent: String(p.readers) }),
    el("td", { className: "num bitrate", textContent: bitrate(p.bitrate) }),
    el("td", { className: "num fps", textContent: String(p.frameRate) }),
    el("td", { className: "num bytes", textContent: bytes(p.bytesIn) }),
    el("td", { className: "num drops", textContent: String(p.readerDrops) }),
  );
  row.dataset.path = p.name;
  const urls = el("div", { className: "urls" });
  for (const [kind, url] of Object.entries(p.urls)) {
    const item = el("span", { className: "url" }, kind.toUpperCase() + " ", el("code", { textContent: url }), copyButton(url));
    item.dataset.kind = kind;
    urls.append(item);
  }
  const urlRow = el("tr", {}, el("td", { colSpan: 8 }, urls));
  urlRow.dataset.urlsOf = p.name;
  return [row, urlRow];
}

function relayRow(r) {
  return el("tr", {},
    el("td", { textContent: r.path }),
    el("td", { textContent: r.kind }),
    el("td", {}, el("code", { textContent: r.url })),
    el("td", {}, el("span", { className: "badge " + r.status, textContent: r.status })),
    el("td", { textContent: new Date(r.since).toLocaleTimeString() }),
    el("td", { className: "num", textContent: String(r.attempts) }),
    el("td", { textContent: r.lastError ?? "" }),
  );
}

function render(data) {
  const paths = document.querySelector("#paths tbody");
  paths.replaceChildren(...data.paths.flatMap(pathRows));
  document.getElementById("no-paths").hidden = data.paths.length > 0;
  const relays = document.querySelector("#relays tbody");
  relays.replaceChildren(...data.relays.map(relayRow));
  document.getElementById("no-relays").hidden = data.relays.length > 0;
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const res = await fetch("/api/v1/dashboard", { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    render(await res.json());
    status.className = "";
    status.textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    status.className = "error";
    status.textContent = "cannot reach Sluice: " + e.message;
  }
  setTimeout(poll, POLL_MS);
}

poll();
`;
