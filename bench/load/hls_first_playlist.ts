/**
 * How long the first HLS playlists take on a path whose muxer is not
 * running yet (ffmpeg publishing 320×240 at 25 fps over RTMP, 1 s segments,
 * 200 ms parts), asked at a random moment of the GOP, as a player does:
 * the multivariant playlist, then the plain media playlist (no `_HLS_msn`:
 * ffmpeg, hls.js and TVs start so). Each answer is set against the next
 * keyframe Sluice received after the first request; the target of issue 8
 * is at most one part duration past it.
 *
 * deno run -A bench/load/hls_first_playlist.ts [runs per GOP] [GOPs in frames, comma-separated]
 */
import { publishTestSignal } from "../../tests/_util/ffmpeg.ts";
import { startTestSluice } from "../../tests/_util/sluice.ts";

const runs = Number(Deno.args[0] ?? 5);
const gops = (Deno.args[1] ?? "25,12,50").split(",").map(Number);
const PART_MS = 200;

interface Run {
  index: number;
  media: number;
  keyframe: number;
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, (xs.length * p) | 0)]!;

for (const gop of gops) {
  const results: Run[] = [];
  for (let i = 0; i < runs; i++) {
    await using s = startTestSluice({ hlsPartDuration: `${PART_MS}ms` });
    await using _pub = publishTestSignal(s.rtmpUrl("live/first"), {
      seconds: 12,
      gop,
    });
    await s.published("live/first", { frames: 10 });
    const keyframes: number[] = [];
    const untap = s.sluice.hub.stream("live/first")!.tap((frame, track) => {
      if (track.kind === "video" && frame.keyframe) {
        keyframes.push(performance.now());
      }
    });
    // A random moment in the GOP, as a viewer arrives.
    await new Promise((r) => setTimeout(r, 300 + Math.random() * gop * 40));
    const base = `http://127.0.0.1:${s.sluice.httpPort}/live/first/`;
    const t0 = performance.now();
    await (await fetch(base + "index.m3u8")).text();
    const index = performance.now() - t0;
    const playlist = await (await fetch(base + "stream.m3u8")).text();
    const media = performance.now() - t0;
    if (!playlist.includes("#EXTINF")) throw new Error(playlist);
    // The answer may come before the next keyframe is in: wait for it.
    for (let w = 0; w < 100 && !keyframes.some((k) => k > t0); w++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    untap();
    const next = keyframes.find((k) => k > t0);
    if (next === undefined) throw new Error("no keyframe after the request");
    results.push({ index, media, keyframe: next - t0 });
    console.log(
      `GOP ${gop} frames, run ${i + 1}: index.m3u8 ${index.toFixed(0)} ms, ` +
        `stream.m3u8 ${media.toFixed(0)} ms, next keyframe ${
          (next - t0).toFixed(0)
        } ms`,
    );
  }
  const late = results.map((r) => r.media - r.keyframe);
  console.log(
    `GOP ${gop} frames (${gop * 40} ms), ${runs} runs: index.m3u8 p50 ${
      pct(results.map((r) => r.index), 0.5).toFixed(0)
    } ms; stream.m3u8 p50 ${
      pct(results.map((r) => r.media), 0.5).toFixed(0)
    } ms, max ${
      Math.max(...results.map((r) => r.media)).toFixed(0)
    } ms; stream.m3u8 minus next keyframe p50 ${
      pct(late, 0.5).toFixed(0)
    } ms, max ${Math.max(...late).toFixed(0)} ms (target ≤ ${PART_MS} ms)`,
  );
}
