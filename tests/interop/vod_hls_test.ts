/**
 * HLS of files on demand with real players: ffmpeg plays the HLS of an MP4
 * and an MKV file (CMAF fMP4, and MPEG-TS with `?variant=ts`) whole and
 * decodes every frame, ffprobe reads packets across every segment boundary
 * with timestamps that neither step back nor leave holes, `-ss 3` starts
 * within one GOP of 3 s; names outside the folder, missing files and files
 * that are not media get clear 4xx answers; the Cache-Control of each
 * object is what a cache needs.
 */
import assert from "node:assert/strict";
import {
  assertDecodedH264Aac,
  playAndCount,
  probePackets,
} from "../_util/ffmpeg.ts";
import { rawExchange, rawHttp } from "../_util/http_raw.ts";
import { startTestSluice, type TestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { makeVodFolder } from "../_util/vod_media.ts";
import { VOD_PLAYLIST_CACHE } from "../../lib/server/http/vod_hls.ts";
import { CACHE } from "../../lib/server/http/hls_responses.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

/** 6 s of 25 fps H.264 (1 s GOP, B-frames) and 44.1 kHz AAC. */
const SECONDS = 6;
let folder: Promise<string> | undefined;
const media = () => folder ??= makeVodFolder(SECONDS, ["mp4", "mkv"]);

function hlsUrl(s: TestSluice, file: string, name = "index.m3u8"): string {
  return `http://127.0.0.1:${s.sluice.httpPort}/vod/${file}/${name}`;
}

for (const ext of ["mp4", "mkv"]) {
  for (const variant of ["fmp4", "ts"]) {
    const query = variant === "ts" ? "?variant=ts" : "";
    Deno.test(
      `VOD HLS ${variant}: ffmpeg plays clip.${ext} whole`,
      opts,
      async () => {
        await using s = startTestSluice({ vodPath: await media() });
        const r = await playAndCount(`${hlsUrl(s, `clip.${ext}`)}${query}`, {
          timeoutMs: 30_000,
        });
        // 150 frames of video, 6 s of 1024-sample AAC frames (≈ 258)
        assertDecodedH264Aac(r, { video: 148, audio: 250 });
        assert.ok(r.video!.frames <= 152, `${r.video!.frames} video frames`);
        assert.ok(r.audio!.frames <= 262, `${r.audio!.frames} audio frames`);
        assert.equal(r.timedOut, false);
      },
    );

    Deno.test(
      `VOD HLS ${variant}: ffprobe reads clip.${ext} across every segment boundary without holes`,
      opts,
      async () => {
        await using s = startTestSluice({ vodPath: await media() });
        const url = `${hlsUrl(s, `clip.${ext}`, "stream.m3u8")}${query}`;
        const list = await (await fetch(url)).text();
        const segments = list.split("\n").filter((l) =>
          /^[0-9a-f]{8}_\d+\./.test(l)
        );
        assert.equal(segments.length, SECONDS, list);
        const probed = await probePackets(url, SECONDS + 1, 30_000);
        assert.equal(probed.code, 0, probed.stderr);
        assert.equal(probed.stderr.trim(), "", "ffprobe complains");
        for (const type of ["video", "audio"]) {
          const dts = probed.packets.filter((p) => p.codecType === type).map((
            p,
          ) => p.dts);
          assert.ok(dts.length > 100, `${dts.length} ${type} packets`);
          const steps = dts.slice(1).map((d, i) => d - dts[i]!);
          const typical = [...steps].sort((a, b) => a - b)[steps.length >> 1]!;
          for (const [i, step] of steps.entries()) {
            // never back, never a hole or an overlap where segments meet
            assert.ok(
              step > 0 && Math.abs(step - typical) <= typical * 0.05 + 2,
              `${type} dts ${dts[i]} → ${dts[i + 1]} (typical step ${typical})`,
            );
          }
        }
      },
    );
  }
}

// ffmpeg 5.1 cannot seek in fMP4 HLS at all (its own `-hls_segment_type
// fmp4` output neither: after the seek its mov demuxer returns no packet),
// so the seek is checked on the MPEG-TS variant.
Deno.test(
  "VOD HLS ts: ffmpeg -ss 3 starts within one GOP of 3 s",
  opts,
  async () => {
    await using s = startTestSluice({ vodPath: await media() });
    for (const ext of ["mp4", "mkv"]) {
      const url = `${hlsUrl(s, `clip.${ext}`)}?variant=ts`;
      const zero = await firstVideoSeconds(url, []);
      const seeked = await firstVideoSeconds(url, ["-ss", "3"]);
      const at = seeked - zero;
      assert.ok(
        at >= 2 - 0.05 && at <= 3.05,
        `clip.${ext}: first frame at ${at} s`,
      );
    }
  },
);

/** The presentation time of the first video frame ffmpeg decodes from `url` (`-copyts`, keyframe seek). */
async function firstVideoSeconds(url: string, seek: string[]): Promise<number> {
  const out = await new Deno.Command("ffmpeg", {
    args: [
      ...["-hide_banner", "-copyts", "-noaccurate_seek", ...seek, "-i", url],
      ...["-map", "0:v:0", "-frames:v", "1", "-f", "framecrc", "-"],
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const frame = text.split("\n").find((l) => l.startsWith("0,"));
  assert.ok(frame !== undefined, new TextDecoder().decode(out.stderr));
  const tb = /#tb 0: (\d+)\/(\d+)/.exec(text)!;
  return Number(frame.split(",")[2]) * Number(tb[1]) / Number(tb[2]);
}

Deno.test("VOD HLS: Cache-Control of playlists, init segment and segments", {
  sanitizeOps: false,
  sanitizeResources: false,
  ignore,
}, async () => {
  await using s = startTestSluice({ vodPath: await media() });
  const get = async (url: string) => {
    const r = await fetch(url);
    const body = new Uint8Array(await r.arrayBuffer());
    return {
      status: r.status,
      cache: r.headers.get("cache-control"),
      body,
      type: r.headers.get("content-type"),
    };
  };
  const index = await get(hlsUrl(s, "clip.mp4"));
  assert.equal(index.status, 200);
  assert.equal(index.cache, VOD_PLAYLIST_CACHE);
  const text = new TextDecoder().decode(index.body);
  assert.match(text, /CODECS="avc1\.[0-9A-Fa-f]{6},mp4a\.40\.2"/);
  assert.match(text, /RESOLUTION=320x240/);
  const list = await get(hlsUrl(s, "clip.mp4", "stream.m3u8"));
  assert.equal(list.cache, VOD_PLAYLIST_CACHE);
  const body = new TextDecoder().decode(list.body);
  assert.match(body, /#EXT-X-PLAYLIST-TYPE:VOD\n/);
  assert.match(body, /#EXT-X-TARGETDURATION:1\n/);
  assert.match(body, /#EXT-X-ENDLIST\n$/);
  const map = /#EXT-X-MAP:URI="([^"]+)"/.exec(body)![1]!;
  const first = body.split("\n").find((l) =>
    l.endsWith(".mp4") && !l.startsWith("#")
  )!;
  const init = await get(hlsUrl(s, "clip.mp4", map));
  assert.equal(init.status, 200);
  assert.equal(init.cache, CACHE.immutable);
  assert.equal(new TextDecoder().decode(init.body.subarray(4, 8)), "ftyp");
  const seg = await get(hlsUrl(s, "clip.mp4", first));
  assert.equal(seg.status, 200);
  assert.equal(seg.cache, CACHE.immutable);
  assert.equal(seg.type, "video/mp4");
  assert.equal(new TextDecoder().decode(seg.body.subarray(4, 8)), "moof");
  // the same segment again: the same bytes (from the cache, built once)
  assert.deepEqual((await get(hlsUrl(s, "clip.mp4", first))).body, seg.body);
  const ts = await get(hlsUrl(s, "clip.mp4", first.replace(".mp4", ".ts")));
  assert.equal(ts.type, "video/mp2t");
  assert.equal(ts.body[0], 0x47);
  assert.equal(ts.body.length % 188, 0);
});

Deno.test(
  "VOD HLS: bad names, missing files and files that are not media get 4xx",
  {
    sanitizeOps: false,
    sanitizeResources: false,
    ignore,
  },
  async () => {
    const dir = await media();
    await Deno.writeTextFile(
      `${dir}/notes.mp4`,
      "not a video, only text\n".repeat(50),
    );
    await using s = startTestSluice({ vodPath: dir });
    const port = s.sluice.httpPort!;
    const status = async (path: string) => {
      const r = await fetch(`http://127.0.0.1:${port}${path}`);
      await r.body?.cancel();
      return { status: r.status, cache: r.headers.get("cache-control") };
    };
    assert.equal((await status("/vod/missing.mp4/index.m3u8")).status, 404);
    assert.equal((await status("/vod/notes.mp4/index.m3u8")).status, 415);
    assert.equal((await status("/vod/notes.mp4/stream.m3u8")).status, 415);
    // a segment past the last, and one named for another version of the file
    const late = await status("/vod/clip.mp4/00000000_999.mp4");
    assert.equal(late.status, 404);
    assert.equal(late.cache, CACHE.notFound);
    const list =
      await (await fetch(`http://127.0.0.1:${port}/vod/clip.mp4/stream.m3u8`))
        .text();
    const tag = /([0-9a-f]{8})_0\.mp4/.exec(list)![1]!;
    assert.equal((await status(`/vod/clip.mp4/${tag}_999.mp4`)).status, 404);
    // traversal, plain and encoded, as sent on the wire (fetch would resolve it)
    for (
      const target of [
        "/vod/../etc/passwd/index.m3u8",
        "/vod/%2e%2e/%2e%2e/etc/passwd/index.m3u8",
        "/vod/..%2fclip.mp4/index.m3u8",
        "/vod/%252e%252e/clip.mp4/index.m3u8",
      ]
    ) {
      const r = await rawHttp(
        port,
        `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(r.status, 400, `${target}: ${r.text.split("\r\n")[0]}`);
    }
    // a symlink out of the folder is not followed
    const outside = await Deno.makeTempFile({ suffix: ".mp4" });
    await Deno.copyFile(`${dir}/clip.mp4`, outside);
    await Deno.symlink(outside, `${dir}/out.mp4`).catch(() => {});
    assert.equal((await status("/vod/out.mp4/index.m3u8")).status, 404);
    // the server goes on serving
    assert.equal((await status("/vod/clip.mp4/index.m3u8")).status, 200);
  },
);

Deno.test("VOD HLS: the one authenticator decides who reads a file", {
  sanitizeOps: false,
  sanitizeResources: false,
  ignore,
}, async () => {
  await using s = startTestSluice({
    vodPath: await media(),
    users: [{
      user: "viewer",
      pass: "vpw",
      permissions: [{ action: "read", path: "~^vod/clip\\.mp4$" }],
    }],
  });
  const status = async (url: string) => {
    const r = await fetch(url);
    await r.body?.cancel();
    return { status: r.status, cache: r.headers.get("cache-control") };
  };
  const anon = await status(hlsUrl(s, "clip.mp4"));
  assert.equal(anon.status, 401);
  assert.equal(anon.cache, CACHE.none);
  assert.equal(
    (await status(`${hlsUrl(s, "clip.mkv")}?user=viewer&pass=vpw`)).status,
    401,
  );
  assert.equal(
    (await status(`${hlsUrl(s, "clip.mp4")}?user=viewer&pass=vpw`)).status,
    200,
  );
  const r = await playAndCount(
    hlsUrl(s, "clip.mp4").replace("http://", "http://viewer:vpw@"),
    {
      timeoutMs: 30_000,
    },
  );
  assertDecodedH264Aac(r, { video: 148, audio: 250 });
});

Deno.test(
  "VOD HLS: what is answered straight from the request head is what the routes answer",
  opts,
  async () => {
    await using s = startTestSluice({ vodPath: await media() });
    const port = s.sluice.httpPort!;
    const list = await (await fetch(hlsUrl(s, "clip.mp4", "stream.m3u8")))
      .text();
    const [segment] = list.split("\n").filter((l) =>
      /^[0-9a-f]{8}_\d+\./.test(l)
    );
    const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(list)![1]!;
    const cases = [
      "index.m3u8",
      "stream.m3u8?variant=ts",
      init,
      segment!,
      segment!, // asked again: from a memory file
      segment!.replace(".mp4", ".ts"),
      "00000000_1.mp4",
    ];
    const direct = s.sluice.http!.stats.hlsDirect;
    for (const file of cases) {
      const target = `/vod/clip.mp4/${file}`;
      const headers = "Host: 127.0.0.1\r\nConnection: close\r\n\r\n";
      const routed = await rawExchange(
        port,
        `GET http://127.0.0.1${target} HTTP/1.1\r\n${headers}`,
      );
      const straight = await rawExchange(
        port,
        `GET ${target} HTTP/1.1\r\n${headers}`,
      );
      assert.equal(straight.status, routed.status, file);
      assert.deepEqual(straight.fields, routed.fields, file);
      assert.deepEqual(straight.body, routed.body, file);
    }
    assert.equal(s.sluice.http!.stats.hlsDirect - direct, cases.length);
  },
);
