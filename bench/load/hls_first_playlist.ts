/**
 * How long the first HLS playlists take on a path whose muxer is not
 * running yet (ffmpeg publishing 320×240 at 25 fps, a keyframe a second,
 * over RTMP), asked at a random moment of the GOP: the multivariant
 * playlist (answers once one part exists; the GOP cache primes the muxer)
 * and then the plain media playlist (answers once a segment is complete).
 *
 * deno run -A bench/load/hls_first_playlist.ts [runs]
 */
import { publishTestSignal } from "../../tests/_util/ffmpeg.ts";
import { startTestSluice } from "../../tests/_util/sluice.ts";

const runs = Number(Deno.args[0] ?? 5);
const results: { index: number; media: number }[] = [];
for (let i = 0; i < runs; i++) {
  await using s = startTestSluice();
  await using _pub = publishTestSignal(s.rtmpUrl("live/first"), {
    seconds: 10,
  });
  await s.published("live/first", { frames: 10 });
  // A random moment in the GOP, as a viewer arrives.
  await new Promise((r) => setTimeout(r, 200 + Math.random() * 1000));
  const base = `http://127.0.0.1:${s.sluice.httpPort}/live/first/`;
  const t0 = performance.now();
  await (await fetch(base + "index.m3u8")).text();
  const index = performance.now() - t0;
  await (await fetch(base + "stream.m3u8")).text();
  const media = performance.now() - t0;
  results.push({ index, media });
  console.log(
    `run ${i + 1}: index.m3u8 ${index.toFixed(0)} ms, stream.m3u8 ${
      media.toFixed(0)
    } ms`,
  );
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;
console.log(
  `median: index.m3u8 ${median(results.map((r) => r.index)).toFixed(0)} ms, ` +
    `stream.m3u8 ${median(results.map((r) => r.media)).toFixed(0)} ms`,
);
