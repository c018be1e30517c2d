/**
 * Files on demand with real players: ffmpeg plays files of the VOD folder
 * over HTTP-FLV, RTSP and RTMP, decodes them whole, and starts where `-ss`
 * asks (within one GOP).
 */
import assert from "node:assert/strict";
import { assertDecodedH264Aac, playAndCount } from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { makeVodFolder, VOD_CONTAINERS } from "../_util/vod_media.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

let folder: Promise<string> | undefined;
const media = () => folder ??= makeVodFolder();

for (const ext of VOD_CONTAINERS) {
  Deno.test(`VOD HTTP-FLV: ffmpeg plays clip.${ext} whole`, opts, async () => {
    await using s = startTestSluice({ vodPath: await media() });
    const t0 = Date.now();
    const r = await playAndCount(s.flvUrl(`vod/clip.${ext}`), {
      timeoutMs: 30_000,
    });
    // 10 s at 25 fps, 44.1 kHz AAC: all of it, paced in real time
    assertDecodedH264Aac(r, { video: 248, audio: 420 });
    assert.ok(r.video!.frames <= 251, `${r.video!.frames} frames`);
    assert.ok(Date.now() - t0 > 8_000, "paced in real time");
  });
}
