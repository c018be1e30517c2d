/**
 * HLS through a caching proxy: Debian's nginx (`proxy_cache` with
 * `proxy_cache_lock`, the cache key with the query) in front of Sluice,
 * 200 Low-Latency HLS players reading through it. Sluice sees about one
 * request per part and playlist version, not one per player, and every
 * player gets every part from where it joined.
 */
import assert from "node:assert/strict";
import { publishTestSignal } from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { isCi } from "../_util/tools.ts";
import { followLiveEdge, partNumbers } from "../_util/hls_player.ts";

const NGINX = "/usr/sbin/nginx";
const hasNginx = (() => {
  try {
    return Deno.statSync(NGINX).isFile;
  } catch {
    if (isCi()) throw new Error(`${NGINX} is missing (apt-get install nginx)`);
    return false;
  }
})();
const PLAYERS = 200;

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** The nginx configuration of the README's "serve a crowd" setup. */
function nginxConfig(dir: string, port: number, upstream: number): string {
  return `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log stderr warn;
events { worker_connections 2048; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  proxy_cache_path ${dir}/cache levels=1:2 keys_zone=hls:10m max_size=256m inactive=1m use_temp_path=off;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://127.0.0.1:${upstream};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache hls;
      proxy_cache_key $scheme$proxy_host$request_uri;
      proxy_cache_lock on;
      proxy_cache_lock_timeout 10s;
      proxy_cache_lock_age 10s;
      proxy_cache_valid 404 1s;
      add_header X-Cache $upstream_cache_status;
    }
  }
}
`;
}

Deno.test(
  `HLS through nginx proxy_cache: ${PLAYERS} LL-HLS players, about one Sluice request per part`,
  { ignore: !hasNginx, sanitizeOps: false, sanitizeResources: false },
  async () => {
    await using s = startTestSluice();
    await using _pub = publishTestSignal(s.rtmpUrl("live/crowd"), {
      seconds: 40,
    });
    await s.published("live/crowd", { frames: 10 });
    const dir = await Deno.makeTempDir({ prefix: "sluice-nginx-" });
    // nginx's workers (user nobody when started as root) write the cache here.
    await Deno.chmod(dir, 0o777);
    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/nginx.conf`,
      nginxConfig(dir, port, s.sluice.httpPort!),
    );
    const nginx = new Deno.Command(NGINX, {
      args: ["-p", dir, "-c", `${dir}/nginx.conf`],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const nginxErr = new Response(nginx.stderr).text();
    try {
      const url = `http://127.0.0.1:${port}/live/crowd/stream.m3u8`;
      // nginx is up and Sluice's muxer has a segment.
      for (let i = 0; i < 100; i++) {
        const r = await fetch(url).catch(() => undefined);
        await r?.body?.cancel();
        if (r?.status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const hls = s.sluice.http!.hls!;
      const before = { ...hls.stats };
      const runs = await Promise.all(
        Array.from({ length: PLAYERS }, () => followLiveEdge(url, 6)),
      );
      const after = hls.stats;
      const parts = new Set(runs.flatMap((r) => r.parts));
      const sluiceParts = after.parts - before.parts;
      const sluicePlaylists = after.blockingPlaylists -
        before.blockingPlaylists + after.playlists - before.playlists;
      const playerRequests = runs.reduce((n, r) => n + r.requests, 0);
      console.log(
        `${PLAYERS} players: ${playerRequests} requests to nginx; Sluice answered ${sluiceParts} part and ${sluicePlaylists} playlist requests for ${parts.size} parts`,
      );
      assert.ok(parts.size >= 20, `${parts.size} parts`);
      // About one request per part (a few more where a lock timed out or a
      // part was asked for as a hint and again after), not one per player.
      assert.ok(
        sluiceParts <= parts.size * 1.5 + 5,
        `${sluiceParts} part requests`,
      );
      assert.ok(
        sluicePlaylists <= parts.size * 3 + 20,
        `${sluicePlaylists} playlist requests`,
      );
      for (const r of runs) {
        assert.deepEqual(r.errors, {}, JSON.stringify(r.errors));
        assert.ok(r.parts.length >= 20, `a player got ${r.parts.length} parts`);
        // Every part from where it joined, none missing: consecutive numbers.
        for (let i = 1; i < r.parts.length; i++) {
          const [m0, p0] = partNumbers(r.parts[i - 1]!);
          const [m1, p1] = partNumbers(r.parts[i]!);
          assert.ok(
            (m1 === m0 && p1 === p0 + 1) || (m1 === m0 + 1 && p1 === 0),
            `gap between ${r.parts[i - 1]} and ${r.parts[i]}`,
          );
        }
      }
    } finally {
      nginx.kill("SIGTERM");
      await nginx.status;
      const err = await nginxErr;
      if (err.trim() !== "") console.log(`nginx: ${err.slice(0, 2000)}`);
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
