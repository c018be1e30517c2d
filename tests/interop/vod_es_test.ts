/**
 * Raw elementary streams on demand with real players: ffmpeg plays Annex B
 * H.264 and H.265, ADTS AAC and MP3 files of the VOD folder over RTSP, RTMP
 * and HTTP-FLV, decodes every picture of the right codec and size with
 * presentation times in order, and `-ss` lands within one GOP.
 */
import assert from "node:assert/strict";
import { playAndCount, type PlayResult } from "../_util/ffmpeg.ts";
import { spawn } from "../_util/process.ts";
import { startTestSluice } from "../_util/sluice.ts";
import { requireTool } from "../_util/tools.ts";
import { firstAudioSeconds, firstVideoSeconds } from "../_util/vod_seek.ts";

const ignore = requireTool("ffmpeg");
const opts = { ignore, sanitizeOps: false, sanitizeResources: false };
const TCP = ["-rtsp_transport", "tcp"];
/** 6 s at 25 fps. */
const PICTURES = 150;
/** 6 s of 1024-sample AAC frames at 44.1 kHz. */
const AAC_FRAMES = 258;
/** 6 s of 1152-sample MP3 frames at 44.1 kHz. */
const MP3_FRAMES = 229;

/** ffmpeg output options of each fixture (320x240, 25 fps, a keyframe a second, B-frames). */
const FIXTURES: Record<string, string[]> = {
  "clip.h264": [
    ...["-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-bf", "2"],
    ...["-bsf:v", "h264_mp4toannexb", "-f", "h264"],
  ],
  "clip.265": [
    ...["-c:v", "libx265", "-preset", "ultrafast"],
    ...["-x265-params", "keyint=25:min-keyint=25:scenecut=0:bframes=2"],
    ...["-f", "hevc"],
  ],
  "clip.aac": ["-c:a", "aac", "-b:a", "64k", "-f", "adts"],
  "clip.mp3": ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"],
};

let folder: Promise<string> | undefined;
const media = () => folder ??= makeFolder();

async function makeFolder(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-vod-es-" });
  for (const [name, out] of Object.entries(FIXTURES)) {
    const audio = out.includes("-c:a");
    const run = spawn(
      "ffmpeg",
      [
        ...["-loglevel", "error", "-y", "-f", "lavfi", "-i"],
        audio
          ? "sine=frequency=440:sample_rate=44100"
          : "testsrc2=size=320x240:rate=25",
        ...["-t", "6", "-pix_fmt", "yuv420p", ...out, `${dir}/${name}`],
      ].filter((a) => !(audio && a === "-pix_fmt" || audio && a === "yuv420p")),
      {
        timeoutMs: 60_000,
      },
    );
    const status = await run.status;
    if (status.code !== 0) {
      throw new Error(`ffmpeg could not make ${name}: ${run.stderr()}`);
    }
  }
  return dir;
}

function assertVideo(r: PlayResult, codec: string, min: number): void {
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    [r.video?.codec, r.video?.width, r.video?.height],
    [codec, 320, 240],
    r.stderr,
  );
  const frames = r.video!.frames;
  assert.ok(frames >= min && frames <= PICTURES + 1, `${frames} frames`);
}

function assertAudio(r: PlayResult, codec: string, frames: number): void {
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.video, undefined);
  assert.equal(r.audio?.codec, codec, r.stderr);
  const n = r.audio!.frames;
  assert.ok(n >= frames - 4 && n <= frames + 2, `${n} ${codec} frames`);
}

/**
 * The presentation times of every picture ffmpeg decodes from `url`,
 * passed through as they come (no frame rate conversion), seconds.
 */
async function decodedTimes(
  url: string,
  inputArgs: string[],
): Promise<number[]> {
  const out = await new Deno.Command("ffmpeg", {
    args: [
      ...["-hide_banner", ...inputArgs, "-i", url, "-map", "0:v:0"],
      ...["-fps_mode", "passthrough", "-f", "framecrc", "-"],
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const tb = /#tb 0: (\d+)\/(\d+)/.exec(text);
  assert.ok(tb !== null, new TextDecoder().decode(out.stderr));
  return text.split("\n").filter((l) => /^0,/.test(l)).map((l) =>
    Number(l.split(",")[2]!.trim()) * Number(tb[1]) / Number(tb[2])
  );
}

for (
  const [name, codec] of [["clip.h264", "h264"], ["clip.265", "hevc"]] as const
) {
  Deno.test(
    `VOD RTSP: ffmpeg plays ${name} whole, pictures in presentation order`,
    opts,
    async () => {
      await using s = startTestSluice({ vodPath: await media() });
      const url = s.rtspUrl(`vod/${name}`);
      const r = await playAndCount(url, { timeoutMs: 30_000, inputArgs: TCP });
      // ffmpeg's RTSP client may leave out the last frames at BYE
      assertVideo(r, codec, PICTURES - 6);
      // B-frames: a picture decoded before the ones shown first must be
      // stamped after them, so times come out evenly spaced, never back
      // (ffmpeg's RTSP client stamps its first few pictures 0)
      const times = await decodedTimes(url, TCP);
      assert.ok(times.length >= PICTURES - 6, `${times.length} pictures`);
      const from = times.findIndex((t) => t > 0);
      assert.ok(from >= 1 && from <= 8, `first time at picture ${from}`);
      for (let i = from + 1; i < times.length; i++) {
        const step = times[i]! - times[i - 1]!;
        assert.ok(
          Math.abs(step - 0.04) < 0.002,
          `picture ${i}: ${times[i - 1]} → ${times[i]}`,
        );
      }
    },
  );
}

Deno.test(
  "VOD RTMP and HTTP-FLV: ffmpeg plays clip.h264 whole",
  opts,
  async () => {
    await using s = startTestSluice({ vodPath: await media() });
    const [rtmp, flv] = await Promise.all([
      playAndCount(s.rtmpUrl("vod/clip.h264"), { timeoutMs: 30_000 }),
      playAndCount(s.flvUrl("vod/clip.h264"), { timeoutMs: 30_000 }),
    ]);
    assertVideo(rtmp, "h264", PICTURES - 4);
    assertVideo(flv, "h264", PICTURES - 4);
    assert.equal(rtmp.timedOut, false, "Play.Complete ends the play");
  },
);

Deno.test(
  "VOD RTSP, RTMP and HTTP-FLV: ffmpeg plays clip.aac whole",
  opts,
  async () => {
    await using s = startTestSluice({ vodPath: await media() });
    const [rtsp, rtmp, flv] = await Promise.all([
      playAndCount(s.rtspUrl("vod/clip.aac"), {
        timeoutMs: 30_000,
        inputArgs: TCP,
      }),
      playAndCount(s.rtmpUrl("vod/clip.aac"), { timeoutMs: 30_000 }),
      playAndCount(s.flvUrl("vod/clip.aac"), { timeoutMs: 30_000 }),
    ]);
    for (const r of [rtsp, rtmp, flv]) assertAudio(r, "aac", AAC_FRAMES);
  },
);

Deno.test(
  "VOD RTMP and HTTP-FLV: ffmpeg plays clip.mp3 whole; RTSP refuses it",
  opts,
  async () => {
    await using s = startTestSluice({ vodPath: await media() });
    const [rtsp, rtmp, flv] = await Promise.all([
      playAndCount(s.rtspUrl("vod/clip.mp3"), {
        timeoutMs: 15_000,
        inputArgs: TCP,
      }),
      playAndCount(s.rtmpUrl("vod/clip.mp3"), { timeoutMs: 30_000 }),
      playAndCount(s.flvUrl("vod/clip.mp3"), { timeoutMs: 30_000 }),
    ]);
    for (const r of [rtmp, flv]) assertAudio(r, "mp3", MP3_FRAMES);
    // Sluice's RTP payloads have no MP3 (RFC 2250): DESCRIBE says so
    assert.notEqual(rtsp.code, 0);
    assert.match(rtsp.stderr, /415 Unsupported Media Type/);
  },
);

for (
  const [name, proto, at] of [
    ["clip.h264", "rtsp", 3],
    ["clip.265", "rtsp", 4],
    ["clip.h264", "rtmp", 4],
  ] as const
) {
  Deno.test(
    `VOD ${proto.toUpperCase()}: ffmpeg -ss ${at} on ${name} starts within one GOP`,
    opts,
    async () => {
      await using s = startTestSluice({ vodPath: await media() });
      const url = proto === "rtsp"
        ? s.rtspUrl(`vod/${name}`)
        : s.rtmpUrl(`vod/${name}`);
      const first = await firstVideoSeconds(
        url,
        at,
        proto === "rtsp" ? TCP : [],
      );
      assert.ok(
        first >= at - 1.05 && first <= at + 0.1,
        `first picture at ${first} s`,
      );
    },
  );
}

Deno.test(
  "VOD: a text file named .h264 is refused as not media",
  opts,
  async () => {
    const dir = await media();
    await Deno.writeTextFile(`${dir}/notes.h264`, "not a stream\n".repeat(500));
    await using s = startTestSluice({ vodPath: dir });
    const r = await fetch(
      `http://127.0.0.1:${s.sluice.httpPort}/vod/notes.h264.flv`,
    );
    const body = await r.text();
    assert.equal(r.status, 415);
    assert.match(body, /no H\.264 keyframe/);
  },
);

for (const name of ["clip.aac", "clip.mp3"]) {
  Deno.test(
    `VOD RTMP: ffmpeg -ss 3 on ${name} starts at 3 s`,
    opts,
    async () => {
      await using s = startTestSluice({ vodPath: await media() });
      const first = await firstAudioSeconds(s.rtmpUrl(`vod/${name}`), 3, []);
      assert.ok(Math.abs(first - 3) < 0.1, `first audio frame at ${first} s`);
    },
  );
}

for (
  const [name, codec, variant] of [
    ["clip.h264", "h264", "ts"],
    ["clip.265", "hevc", "fmp4"],
  ] as const
) {
  Deno.test(
    `VOD HLS ${variant}: ffmpeg plays ${name} whole`,
    opts,
    async () => {
      await using s = startTestSluice({ vodPath: await media() });
      const query = variant === "ts" ? "?variant=ts" : "";
      const base = `http://127.0.0.1:${s.sluice.httpPort}/vod/${name}`;
      const list = await (await fetch(`${base}/stream.m3u8${query}`)).text();
      // one segment per keyframe a second
      const segments = list.split("\n").filter((l) =>
        /^[0-9a-f]{8}_\d+\./.test(l)
      );
      assert.equal(segments.length, 6, list);
      const r = await playAndCount(`${base}/index.m3u8${query}`, {
        timeoutMs: 30_000,
      });
      assertVideo(r, codec, PICTURES - 2);
    },
  );
}
