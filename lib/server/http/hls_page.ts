/**
 * The player page of a path, `GET /<path>/`: hls.js (npm `hls.js`, served
 * by Sluice itself at `/_/hls.min.js`, no CDN) in low-latency mode, muted
 * autoplay, native HLS where the browser has it; it shows the live latency,
 * codecs and picture size, and the path's URLs for every protocol. `GET /`
 * links every path that has a stream.
 *
 * @module
 */

import { createRequire } from "node:module";
import { type Config, parseAddress } from "../../config/schema.ts";

/** Where the page loads hls.js from. */
export const HLS_JS_URL = "/_/hls.min.js";

let hlsJs: Promise<Uint8Array | undefined> | undefined;

/** The hls.js bundle, read once; `undefined` when the package is missing. */
function readHlsJs(): Promise<Uint8Array | undefined> {
  return hlsJs ??= (async () => {
    try {
      const require = createRequire(import.meta.url);
      return await Deno.readFile(require.resolve("hls.js/dist/hls.min.js"));
    } catch {
      return undefined;
    }
  })();
}

/** The hls.js response. */
export async function hlsJsResponse(): Promise<Response> {
  const bytes = await readHlsJs();
  if (bytes === undefined) {
    return new Response("hls.js is not installed\n", { status: 404 });
  }
  return new Response(bytes as Uint8Array<ArrayBuffer>, {
    headers: {
      "Content-Type": "text/javascript; charset=utf-8",
      "Cache-Control": "public, max-age=86400",
    },
  });
}

/** Ports the page names in its URLs (undefined: that protocol is off). */
export interface PagePorts {
  rtmp?: number;
  rtsp?: number;
}

/** The listeners' settings {@link pagePorts} reads. */
export type PagePortsConfig = Partial<
  Pick<Config, "rtmp" | "rtmpAddress" | "rtsp" | "rtspAddress">
>;

/** The RTMP and RTSP ports of `config` that a player page names. */
export function pagePorts(config: PagePortsConfig): PagePorts {
  const port = (on?: boolean, address?: string) =>
    on === false || address === undefined
      ? undefined
      : parseAddress(address).port || undefined;
  return {
    rtmp: port(config.rtmp, config.rtmpAddress),
    rtsp: port(config.rtsp, config.rtspAddress),
  };
}

const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The player page of `path`. */
export function playerPage(path: string, ports: PagePorts): Response {
  const p = escape(path);
  const json = JSON.stringify({ path, ...ports }).replace(/</g, "\\u003c");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p} · Sluice</title>
<style>
body{font:15px system-ui,sans-serif;margin:0;background:#111;color:#eee}
main{max-width:960px;margin:auto;padding:1em}
video{width:100%;background:#000;aspect-ratio:16/9}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3em 1em}
dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
a{color:#8cf}
</style></head><body><main>
<h1>${p}</h1>
<video id="video" muted autoplay playsinline controls></video>
<dl><dt>Latency</dt><dd id="latency">–</dd>
<dt>Video</dt><dd id="size">–</dd><dt>Codecs</dt><dd id="codecs">–</dd>
<dt>Player</dt><dd id="player">–</dd></dl>
<h2>URLs</h2><dl id="urls"></dl>
<p><a href="/">All paths</a></p>
</main>
<script src="${HLS_JS_URL}"></script>
<script>
const config = ${json};
const video = document.getElementById("video");
const host = location.hostname.includes(":") ? "[" + location.hostname + "]" : location.hostname;
const here = location.origin + "/" + config.path;
const urls = { HLS: here + "/index.m3u8", "HTTP-FLV": here + ".flv" };
if (config.rtmp) urls.RTMP = "rtmp://" + host + ":" + config.rtmp + "/" + config.path;
if (config.rtsp) urls.RTSP = "rtsp://" + host + ":" + config.rtsp + "/" + config.path;
const list = document.getElementById("urls");
for (const [name, url] of Object.entries(urls)) {
  const dt = document.createElement("dt"); dt.textContent = name;
  const dd = document.createElement("dd"); dd.textContent = url;
  list.append(dt, dd);
}
const state = { hls: undefined, latencies: [] };
window.sluice = state;
function latency() {
  // Wall clock minus the program date time of the picture shown.
  const hls = state.hls;
  if (hls && hls.playingDate) return (Date.now() - hls.playingDate.getTime()) / 1000;
  const start = video.getStartDate ? video.getStartDate().getTime() : NaN;
  return Number.isFinite(start) ? (Date.now() - start) / 1000 - video.currentTime : undefined;
}
state.latency = latency;
if (window.Hls && Hls.isSupported()) {
  const hls = new Hls({
    lowLatencyMode: true,
    backBufferLength: 10,
    // A stall moves the target latency back 0.25 s, not a whole second; playing 1.2x catches up.
    liveSyncOnStallIncrease: 0.25,
    maxLiveSyncPlaybackRate: 1.2,
    debug: location.search.includes("debug"),
  });
  state.hls = hls;
  document.getElementById("player").textContent = "hls.js " + Hls.version + " (low latency)";
  hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) => {
    const l = data.levels[0];
    document.getElementById("codecs").textContent = [l && l.videoCodec, l && l.audioCodec].filter(Boolean).join(", ");
    video.play().catch(() => {});
  });
  hls.on(Hls.Events.ERROR, (_e, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    else setTimeout(() => hls.loadSource(urls.HLS), 1000);
  });
  hls.loadSource(urls.HLS);
  hls.attachMedia(video);
} else if (video.canPlayType("application/vnd.apple.mpegurl")) {
  document.getElementById("player").textContent = "native HLS";
  video.src = urls.HLS;
}
setInterval(() => {
  const l = latency();
  if (l !== undefined && !video.paused) state.latencies.push(l);
  document.getElementById("latency").textContent = l === undefined ? "–" : l.toFixed(2) + " s";
  if (video.videoWidth) document.getElementById("size").textContent = video.videoWidth + "×" + video.videoHeight;
}, 250);
</script></body></html>
`;
  return new Response(html, {
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "public, max-age=60",
    },
  });
}
