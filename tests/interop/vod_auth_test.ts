/**
 * Files on demand ask the one authenticator, as live paths do: a `read`
 * permission on `vod/<file>` lets ffmpeg play the file over HTTP-FLV, RTSP
 * and RTMP; without credentials, or for another file, each protocol
 * refuses it.
 */
import assert from "node:assert/strict";
import { assertDecodedH264Aac, playAndCount } from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { makeVodFolder } from "../_util/vod_media.ts";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "VOD auth: read on vod/clip.mp4 plays it over HTTP-FLV, RTSP and RTMP; others are refused",
  opts,
  async () => {
    await using s = startTestSluice({
      vodPath: await makeVodFolder(),
      users: [{
        user: "viewer",
        pass: "vpw",
        permissions: [{ action: "read", path: "~^vod/clip\\.mp4$" }],
      }],
    });
    const creds = "user=viewer&pass=vpw";
    const status = async (url: string) => {
      const r = await fetch(url);
      await r.body?.cancel();
      return r.status;
    };
    assert.equal(await status(s.flvUrl("vod/clip.mp4")), 401, "anonymous");
    assert.equal(
      await status(`${s.flvUrl("vod/clip.mkv")}?${creds}`),
      401,
      "a file outside the permission",
    );
    const rtspAnon = await playAndCount(s.rtspUrl("vod/clip.mp4"), {
      timeoutMs: 10_000,
      inputArgs: ["-rtsp_transport", "tcp"],
    });
    assert.equal(rtspAnon.video, undefined, "anonymous RTSP");
    const rtmpAnon = await playAndCount(s.rtmpUrl("vod/clip.mp4"), {
      timeoutMs: 10_000,
    });
    assert.equal(rtmpAnon.video, undefined, "anonymous RTMP");
    const rtspUrl =
      `rtsp://viewer:vpw@127.0.0.1:${s.sluice.rtspPort}/vod/clip.mp4`;
    const [flv, rtsp, rtmp] = await Promise.all([
      playAndCount(`${s.flvUrl("vod/clip.mp4")}?${creds}`, {
        timeoutMs: 20_000,
        frames: 25,
      }),
      playAndCount(rtspUrl, {
        timeoutMs: 20_000,
        frames: 25,
        inputArgs: ["-rtsp_transport", "tcp"],
      }),
      playAndCount(`${s.rtmpUrl("vod/clip.mp4")}?${creds}`, {
        timeoutMs: 20_000,
        frames: 25,
      }),
    ]);
    assertDecodedH264Aac(flv, { video: 25 });
    assertDecodedH264Aac(rtsp, { video: 25 });
    assertDecodedH264Aac(rtmp, { video: 25 });
  },
);
