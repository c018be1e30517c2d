/**
 * Sluice's MP4 writer against real readers: media from ffmpeg encodes goes
 * through Sluice's demuxers (FLV tags, RTP, Enhanced RTMP) into an fMP4
 * (init + CMAF fragments) and a progressive MP4; ffprobe must count every
 * frame with the right codec, tag, size and duration, ffmpeg must decode the
 * whole file without one error, and gst-discoverer-1.0 must read it.
 */
import assert from "node:assert/strict";
import type { Media } from "../mp4/_media.ts";
import {
  flvMedia,
  h265OpusMedia,
  ivfMedia,
  writeFragmented,
  writeProgressive,
} from "../mp4/_media.ts";
import { spawn } from "../_util/process.ts";
import { find, findAll, parseBoxes, viewOf } from "../mp4/_boxes.ts";
import { requireTool } from "../_util/tools.ts";
import type { Tool } from "../_util/tools.ts";

interface Expect {
  codec: string;
  tag: string;
  width?: number;
  height?: number;
  /** What gst-discoverer-1.0 prints for the stream. */
  gst: RegExp;
}

interface Case {
  name: string;
  media: (dir: string) => Media | Promise<Media>;
  /** Per track, in track order. */
  expect: Expect[];
  /** The video has B-frames (pts ≠ dts), whose order must survive. */
  bFrames?: boolean;
}

const CASES: Case[] = [
  {
    name: "H.264 High with B-frames + AAC (FLV)",
    media: () => flvMedia("h264_aac.flv"),
    bFrames: true,
    expect: [
      {
        codec: "h264",
        tag: "avc1",
        width: 320,
        height: 240,
        gst: /H\.264 \(High Profile\)/,
      },
      { codec: "aac", tag: "mp4a", gst: /MPEG-4 AAC/ },
    ],
  },
  {
    name: "H.264 + MP3 22.05 kHz (FLV)",
    media: () => flvMedia("h264_mp3.flv"),
    expect: [
      { codec: "h264", tag: "avc1", width: 176, height: 144, gst: /H\.264/ },
      { codec: "mp3", tag: "mp4a", gst: /MPEG-1 Layer 3|MPEG-2 Layer 3|MP3/ },
    ],
  },
  {
    name: "G.711 A-law (FLV)",
    media: () => flvMedia("pcma.flv"),
    expect: [{ codec: "pcm_alaw", tag: "alaw", gst: /A-Law/ }],
  },
  {
    name: "G.711 mu-law (FLV)",
    media: () => flvMedia("pcmu.flv"),
    expect: [{ codec: "pcm_mulaw", tag: "ulaw", gst: /Mu-Law/ }],
  },
  {
    name: "H.265 with B-frames + Opus (RTP)",
    media: () => h265OpusMedia(),
    bFrames: true,
    expect: [
      { codec: "hevc", tag: "hvc1", width: 320, height: 240, gst: /H\.265/ },
      { codec: "opus", tag: "Opus", gst: /Opus/ },
    ],
  },
  {
    name: "AV1 from libaom (Enhanced RTMP)",
    media: (dir) => ivfMedia("AV1", dir),
    expect: [{
      codec: "av1",
      tag: "av01",
      width: 320,
      height: 240,
      gst: /AV1/,
    }],
  },
  {
    name: "VP9 from libvpx (Enhanced RTMP)",
    media: (dir) => ivfMedia("VP9", dir),
    expect: [{
      codec: "vp9",
      tag: "vp09",
      width: 320,
      height: 240,
      gst: /VP9/,
    }],
  },
];

const TOOLS: Tool[] = ["ffmpeg", "ffprobe", "gst-discoverer-1.0"];

/** Runs a tool to the end: exit code, stdout, stderr. */
async function run(tool: Tool, args: string[]) {
  const lines: string[] = [];
  const p = spawn(tool, args, {
    timeoutMs: 60_000,
    onStdoutLine: (l) => void lines.push(l),
  });
  const status = await p.status;
  return {
    code: status.code,
    stdout: lines.join("\n"),
    stderr: p.stderr().trim(),
  };
}

interface ProbedStream {
  codec_name: string;
  codec_tag_string: string;
  width?: number;
  height?: number;
  nb_read_frames: string;
  duration: string;
}

/** Seconds a track's frames cover: first dts to the last dts plus one typical step. */
function trackSeconds(
  m: Media,
  index: number,
): { seconds: number; step: number; count: number } {
  const t = m.tracks[index]!;
  const dts = m.frames.filter((f) => f.trackId === t.id).map((f) => f.dts);
  const step = (dts.at(-1)! - dts[0]!) / Math.max(1, dts.length - 1);
  return {
    seconds: (dts.at(-1)! - dts[0]! + step) / t.clockRate,
    step: step / t.clockRate,
    count: dts.length,
  };
}

/** The video packets' pts (in the stream's time base) from ffprobe, in decode order. */
async function videoPts(path: string): Promise<number[]> {
  const r = await run("ffprobe", [
    "-v",
    "error",
    "-select_streams",
    "v:0",
    "-show_entries",
    "packet=pts",
    "-of",
    "csv=p=0",
    path,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split("\n").filter((l) => l.trim() !== "").map(Number);
}

async function check(
  c: Case,
  m: Media,
  path: string,
  kind: string,
): Promise<void> {
  const label = `${c.name}, ${kind}`;
  const probe = await run("ffprobe", [
    ...["-v", "error", "-count_frames", "-show_entries"],
    ...[
      "stream=codec_name,codec_tag_string,width,height,nb_read_frames,duration",
      "-of",
      "json",
      path,
    ],
  ]);
  assert.equal(probe.code, 0, `${label}: ffprobe failed: ${probe.stderr}`);
  assert.equal(probe.stderr, "", `${label}: ffprobe complained`);
  const streams =
    (JSON.parse(probe.stdout) as { streams: ProbedStream[] }).streams;
  assert.equal(streams.length, c.expect.length, `${label}: streams`);
  for (const [i, e] of c.expect.entries()) {
    const s = streams[i]!;
    const { seconds, step, count } = trackSeconds(m, i);
    assert.equal(s.codec_name, e.codec, `${label}: codec of stream ${i}`);
    assert.equal(
      s.codec_tag_string,
      e.tag,
      `${label}: sample entry of stream ${i}`,
    );
    if (e.width !== undefined) {
      assert.deepEqual(
        [s.width, s.height],
        [e.width, e.height],
        `${label}: size`,
      );
    }
    assert.equal(
      Number(s.nb_read_frames),
      count,
      `${label}: frames of stream ${i}`,
    );
    // ffmpeg reports a fragmented track's duration up to its end from 0, a progressive one from its start
    const first = m.frames.find((f) => f.trackId === m.tracks[i]!.id)!.dts /
      m.tracks[i]!.clockRate;
    const want = kind === "fMP4" ? first + seconds : seconds;
    assert.ok(
      Math.abs(Number(s.duration) - want) <= step + 0.001,
      `${label}: stream ${i} lasts ${s.duration} s, frames cover ${want} s`,
    );
  }
  if (c.expect[0]!.width !== undefined) {
    // the size in the file's own headers (tkhd, 16.16), not only the decoder's
    const boxes = parseBoxes(await Deno.readFile(path)).filter((b) =>
      b.type === "moov"
    );
    const tkhd = viewOf(find(findAll(boxes, "moov/trak")[0]!.children, "tkhd"));
    assert.deepEqual(
      [tkhd.getUint32(76) / 65536, tkhd.getUint32(80) / 65536],
      [c.expect[0]!.width, c.expect[0]!.height],
      `${label}: tkhd size`,
    );
  }
  const decode = await run("ffmpeg", [
    "-v",
    "error",
    "-i",
    path,
    "-map",
    "0",
    "-f",
    "null",
    "-",
  ]);
  assert.equal(decode.code, 0, `${label}: ffmpeg failed: ${decode.stderr}`);
  assert.equal(decode.stderr, "", `${label}: ffmpeg decoding errors`);
  const gst = await run("gst-discoverer-1.0", [path]);
  assert.equal(
    gst.code,
    0,
    `${label}: gst-discoverer-1.0 failed: ${gst.stdout}`,
  );
  for (const e of c.expect) {
    assert.match(
      gst.stdout,
      e.gst,
      `${label}: gst-discoverer-1.0 sees ${e.gst}`,
    );
  }
  // the longest track, as the mehd (fMP4) or the movie header (progressive) says
  const longest = Math.max(
    ...c.expect.map((_, i) => trackSeconds(m, i).seconds),
  );
  const d = /Duration: (\d+):(\d+):([\d.]+)/.exec(gst.stdout);
  assert.ok(d, `${label}: gst-discoverer-1.0 prints a duration`);
  const gstSeconds = Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]);
  assert.ok(
    Math.abs(gstSeconds - longest) <= 0.1,
    `${label}: gst-discoverer-1.0 says ${gstSeconds} s, the tracks last ${longest} s`,
  );
  if (c.expect[0]!.width !== undefined) {
    assert.match(
      gst.stdout,
      new RegExp(`Width: ${c.expect[0]!.width}\\b`),
      `${label}: gst width`,
    );
    // Presentation order survives: each picture's pts as ffprobe reads it, against the source's
    const pts = await videoPts(path);
    const video = m.frames.filter((f) => f.trackId === m.tracks[0]!.id);
    if (c.bFrames) {
      assert.ok(video.some((f) => f.pts !== f.dts), `${label}: B-frames`);
    }
    const got = pts.map((p) => p - pts[0]!);
    const want = video.map((f) => f.pts - video[0]!.pts);
    assert.deepEqual(got, want, `${label}: presentation times`);
  }
}

for (const c of CASES) {
  Deno.test({
    name:
      `MP4 writer: ${c.name} reads in ffprobe, ffmpeg and GStreamer as fMP4 and as progressive MP4`,
    ignore: TOOLS.some(requireTool),
    sanitizeResources: false,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "sluice_mp4_" });
      try {
        const m = await c.media(dir);
        assert.equal(
          m.tracks.length,
          c.expect.length,
          "tracks from the demuxer",
        );
        const fmp4 = `${dir}/fragmented.mp4`;
        const mp4 = `${dir}/progressive.mp4`;
        await Deno.writeFile(fmp4, writeFragmented(m));
        await Deno.writeFile(mp4, writeProgressive(m));
        await check(c, m, fmp4, "fMP4");
        await check(c, m, mp4, "progressive");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
