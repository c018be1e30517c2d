/**
 * AV1 and VP9 through live HLS (fMP4). No real publisher here sends either
 * to Sluice: Sluice ingests them as Enhanced RTMP only (it has no AV1 or
 * VP9 RTP depacketizer), ffmpeg 5.1 and GStreamer 1.22's flvmux predate
 * Enhanced RTMP. So real encoders (ffmpeg's libaom-av1 and libvpx-vp9) make
 * the pictures, Sluice's own RTMP client sends them as Enhanced RTMP tags
 * at their pace, and unmodified ffmpeg plays the HLS output and decodes
 * every picture (libdav1d, vp9); ffprobe reads the init segment's sample
 * entry and the multivariant playlist names the RFC 6381 codec. Debian's
 * chromium plays both on the player page (hls.js, Low-Latency HLS, MSE).
 */
import assert from "node:assert/strict";
import { RtmpClient } from "../../lib/client/rtmp.ts";
import type { FlvTag } from "../../lib/flv/tag.ts";
import { MESSAGE_TYPE } from "../../lib/rtmp/message.ts";
import { playAndCount, probe } from "../_util/ffmpeg.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool, toolPath } from "../_util/tools.ts";
import { ivfTags } from "../mp4/_media.ts";
import { chromium } from "playwright-core";

const ignore = requireTool("ffmpeg") || requireTool("ffprobe");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };
const noChromium = requireTool("chromium");

/**
 * Sends `tags` (a SequenceStart, then coded frames from a keyframe) over
 * RTMP at their own pace, from the first coded frame again with rising
 * timestamps, for `seconds`; stops early when `signal` aborts.
 */
async function publishTags(
  url: string,
  tags: readonly FlvTag[],
  seconds: number,
  signal: AbortSignal,
): Promise<void> {
  const client = await RtmpClient.connect(url);
  try {
    await client.publish();
    const [head, ...coded] = tags;
    await client.sendMedia(MESSAGE_TYPE.VIDEO, 0, head!.data);
    const loopMs = coded.at(-1)!.timestamp + 40;
    const start = performance.now();
    for (let k = 0; k * loopMs < seconds * 1000 && !signal.aborted; k++) {
      for (const tag of coded) {
        if (signal.aborted) break;
        const at = k * loopMs + tag.timestamp;
        const wait = start + at - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await client.sendMedia(MESSAGE_TYPE.VIDEO, at, tag.data);
      }
    }
  } finally {
    client.close();
  }
}

const CASES = [
  { codec: "AV1", name: "av1", tag: "av01", codecs: /^av01\.0\.\d\dM\.08$/ },
  { codec: "VP9", name: "vp9", tag: "vp09", codecs: /^vp09\.00\.\d\d\.08$/ },
] as const;

for (const c of CASES) {
  Deno.test(
    `HLS fMP4: ${c.codec} from Enhanced RTMP makes segments ffmpeg decodes`,
    opts,
    async () => {
      const dir = await Deno.makeTempDir();
      // Two seconds of pictures, a keyframe a second, sent three times over.
      const tags = await ivfTags(c.codec, dir, { frames: 50, gop: 25 });
      await using s = startTestSluice({ hlsVariant: "fmp4" });
      const stop = new AbortController();
      const publishing = publishTags(
        s.rtmpUrl("live/av"),
        tags,
        12,
        stop.signal,
      );
      try {
        await s.published("live/av", { frames: 10 });
        const base = `http://127.0.0.1:${s.sluice.httpPort}/live/av/`;
        const index = await (await fetch(base + "index.m3u8")).text();
        const codecs = /CODECS="([^"]+)"/.exec(index)?.[1];
        assert.match(codecs ?? "", c.codecs, index);

        const r = await playAndCount(base + "index.m3u8", {
          seconds: 3,
          timeoutMs: 30_000,
        });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
          [r.video?.codec, r.video?.width, r.video?.height, r.audio],
          [c.name, 320, 240, undefined],
          r.stderr,
        );
        assert.ok(r.video!.frames >= 70, `${r.video!.frames} frames`);
        assert.doesNotMatch(r.stderr, /error while decoding|corrupt/i);

        // The init segment alone: the sample entry and size ffprobe reads from it.
        const playlist = await (await fetch(base + "stream.m3u8")).text();
        const init = /#EXT-X-MAP:URI="([^"]+)"/.exec(playlist)![1]!;
        const file = `${dir}/init.mp4`;
        await Deno.writeFile(
          file,
          new Uint8Array(await (await fetch(base + init)).arrayBuffer()),
        );
        const probed = await probe(file, 10_000);
        const video = probed.streams.find((x) => x.codec_type === "video");
        assert.deepEqual(
          [video?.codec_name, video?.codec_tag_string, video?.width],
          [c.name, c.tag, 320],
          JSON.stringify(probed),
        );
      } finally {
        stop.abort();
        await publishing.catch(() => {});
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}

interface Sample {
  currentTime: number;
  frames: number;
  width: number;
  /** The page's text: latency, size, codecs, URLs. */
  text: string;
}

for (const c of CASES) {
  Deno.test(
    `HLS player page: chromium plays ${c.codec} from Enhanced RTMP with hls.js`,
    { ...opts, ignore: ignore || noChromium },
    async () => {
      const dir = await Deno.makeTempDir();
      const tags = await ivfTags(c.codec, dir, { frames: 50, gop: 25 });
      await using s = startTestSluice();
      const stop = new AbortController();
      const publishing = publishTags(
        s.rtmpUrl("live/web"),
        tags,
        20,
        stop.signal,
      );
      const browser = await chromium.launch({
        executablePath: toolPath("chromium"),
        args: ["--autoplay-policy=no-user-gesture-required", "--no-sandbox"],
      });
      try {
        await s.published("live/web", { frames: 10 });
        const page = await browser.newPage();
        await page.goto(`http://127.0.0.1:${s.sluice.httpPort}/live/web/`);
        const samples: Sample[] = [];
        for (let i = 0; i < 16; i++) {
          await new Promise((r) => setTimeout(r, 500));
          samples.push(
            await page.evaluate(`(() => {
              const v = document.querySelector("video");
              return {
                currentTime: v.currentTime,
                frames: v.getVideoPlaybackQuality().totalVideoFrames,
                width: v.videoWidth,
                text: document.body.innerText,
              };
            })()`) as Sample,
          );
        }
        const first = samples[4]!, last = samples.at(-1)!;
        const trail = JSON.stringify(
          samples.map((x) => ({ ...x, text: "" })),
        );
        assert.ok(last.currentTime > first.currentTime + 3, trail);
        assert.ok(last.frames > first.frames + 75, trail);
        assert.equal(last.width, 320, trail);
        assert.match(last.text, new RegExp(`Codecs\\n${c.tag}\\.`));
      } finally {
        await browser.close();
        stop.abort();
        await publishing.catch(() => {});
        await Deno.remove(dir, { recursive: true });
      }
    },
  );
}
