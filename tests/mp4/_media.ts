/**
 * Real media for the MP4 interop tests, through Sluice's own demuxers: FLV
 * files through FlvTagDemuxer, RTP captures through RtpInput, and AV1/VP9
 * IVF files (made here by ffmpeg) as Enhanced RTMP tags through
 * FlvTagDemuxer. Also the two ways of writing them.
 */
import { concat } from "@std/bytes";
import { FlvTagDemuxer } from "../../lib/flv/tag_demuxer.ts";
import type { FlvTag } from "../../lib/flv/tag.ts";
import { tracksFromSdp } from "../../lib/format/tracks.ts";
import { RtpInput } from "../../lib/ingest/rtp_input.ts";
import type { Frame, Track } from "../../lib/media/mod.ts";
import {
  Mp4FileWriter,
  type Mp4Fragment,
  Mp4Fragmenter,
} from "../../lib/mp4/mod.ts";
import { parseSdp } from "../../lib/sdp/parse.ts";
import { RecordingPublisher } from "../_util/ingest.ts";
import { spawn } from "../_util/process.ts";
import { eventsOf, split, tagsOf, testdata } from "../flv/_util.ts";
import { readCapture } from "../rtp/_capture.ts";
import { boxPayload } from "./_tracks.ts";

/** Tracks (the last description of each id) and frames. */
export interface Media {
  tracks: Track[];
  frames: Frame[];
}

function media(tracks: Track[], frames: Frame[]): Media {
  const byId = new Map(tracks.map((t) => [t.id, t]));
  return { tracks: [...byId.values()].sort((a, b) => a.id - b.id), frames };
}

/** An FLV file of tests/testdata/flv/ through FlvTagDemuxer. */
export function flvMedia(file: string): Media {
  const { tracks, frames } = split(
    eventsOf(tagsOf(testdata(`flv/${file}`))).events,
  );
  return media(tracks, frames);
}

/**
 * The ffmpeg RTP captures h265_bf2.rtp (2 s, B-frames) and opus_48k_stereo.rtp
 * (0.3 s, played 6 times) through RtpInput as one H.265 + Opus stream, each
 * track's times starting at 0 (the captures' RTP clocks start anywhere).
 */
export function h265OpusMedia(): Media {
  const session = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
  const opusSdp = Deno.readTextFileSync(
    new URL("../testdata/rtp_audio/opus_48k_stereo.sdp", import.meta.url),
  );
  const sdp = session + "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H265/90000\r\n" +
    opusSdp.slice(opusSdp.indexOf("m=")).replaceAll(/\r?\n/g, "\r\n");
  const tracks = tracksFromSdp(parseSdp(sdp).media).map((t) => t!);
  const publisher = new RecordingPublisher();
  const input = new RtpInput(
    publisher,
    new Map(tracks.map((t, i) => [i, { sdp: t, udp: false }])),
    () => 0,
  );
  for (const p of readCapture("h265_bf2.rtp")) input.rtp(0, p.slice());
  const audio = Deno.readFileSync(
    new URL("../testdata/rtp_audio/opus_48k_stereo.rtp", import.meta.url),
  );
  for (let at = 0; at < audio.length;) {
    const length = (audio[at + 1]! << 8) | audio[at + 2]!;
    if (audio[at] === 0) input.rtp(1, audio.slice(at + 3, at + 3 + length));
    at += 3 + length;
  }
  const all: Track[] = [];
  const frames: Frame[] = [];
  for (const e of publisher.pending) {
    if (e.kind === "tracks") all.push(...e.tracks);
    else if (e.kind === "track") all.push(e.track);
    else if (e.kind === "frame") frames.push(e.frame);
  }
  const first = new Map<number, number>();
  const shifted = frames.map((f) => {
    if (!first.has(f.trackId)) first.set(f.trackId, f.dts);
    const d = first.get(f.trackId)!;
    return { ...f, dts: f.dts - d, pts: f.pts - d };
  });
  // The Opus capture is 0.3 s: played 6 times it lasts as long as the video
  // (GStreamer's qtdemux skips a track shorter than a fifth of the movie).
  const opus = shifted.filter((f) => f.trackId === 1);
  const span = opus.at(-1)!.dts + 960;
  for (let k = 1; k < 6; k++) {
    for (const f of opus) {
      shifted.push({ ...f, dts: f.dts + k * span, pts: f.pts + k * span });
    }
  }
  // one timeline in decode order, as the hub hands frames on
  shifted.sort((a, b) =>
    a.dts / (a.trackId === 0 ? 90 : 48) - b.dts / (b.trackId === 0 ? 90 : 48)
  );
  return media(all, shifted);
}

/**
 * `frames` pictures of AV1 (libaom) or VP9 (libvpx), 320x240 at 25 fps, made
 * by ffmpeg as IVF (the frames), remuxed by ffmpeg to MP4 for the av1C/vpcC,
 * then sent as Enhanced RTMP tags (SequenceStart, CodedFrames) through
 * FlvTagDemuxer.
 */
export async function ivfMedia(
  codec: "AV1" | "VP9",
  dir: string,
  frames = 25,
): Promise<Media> {
  const tags = await ivfTags(codec, dir, { frames });
  const demuxer = new FlvTagDemuxer();
  const events: ReturnType<typeof eventsOf>["events"] = [];
  for (const t of tags) demuxer.push(t, { enqueue: (e) => events.push(e) });
  const { tracks, frames: out } = split(events);
  return media(tracks, out);
}

/** Options of {@link ivfTags}. */
export interface IvfTagsOptions {
  /** Pictures encoded. @default {25} */
  frames?: number;
  /** Pictures from one keyframe to the next. @default {10} */
  gop?: number;
}

/**
 * `frames` pictures of AV1 (libaom) or VP9 (libvpx), 320x240 at 25 fps, made
 * by ffmpeg as IVF (the frames), remuxed by ffmpeg to MP4 for the av1C/vpcC,
 * as the Enhanced RTMP video tags an encoder sends: one SequenceStart, then
 * one CodedFrames tag per picture.
 */
export async function ivfTags(
  codec: "AV1" | "VP9",
  dir: string,
  options: IvfTagsOptions = {},
): Promise<FlvTag[]> {
  const { frames = 25, gop = 10 } = options;
  const ivf = `${dir}/${codec}.ivf`;
  const mp4 = `${dir}/${codec}.mp4`;
  const encoder = codec === "AV1"
    ? ["-c:v", "libaom-av1", "-cpu-used", "8", "-row-mt", "1", "-b:v", "200k"]
    : ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-b:v", "200k"];
  const run = spawn("ffmpeg", [
    ...["-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"],
    ...[
      "-frames:v",
      String(frames),
      "-g",
      String(gop),
      ...encoder,
      "-pix_fmt",
      "yuv420p",
    ],
    ...["-f", "ivf", ivf],
  ], { timeoutMs: 60_000 });
  if (!(await run.status).success) {
    throw new Error(`ffmpeg could not encode ${codec}: ${run.stderr()}`);
  }
  // ffmpeg's MP4 muxer builds the av1C/vpcC from the stream (libaom's own is empty without a global header)
  const remux = spawn("ffmpeg", ["-v", "error", "-i", ivf, "-c", "copy", mp4], {
    timeoutMs: 30_000,
  });
  if (!(await remux.status).success) {
    throw new Error(`ffmpeg could not remux ${codec}: ${remux.stderr()}`);
  }
  const fourCc = codec === "AV1" ? "av01" : "vp09";
  const record = boxPayload(
    Deno.readFileSync(mp4),
    codec === "AV1" ? "av1C" : "vpcC",
  );
  const header = (frameType: number, packetType: number) =>
    new Uint8Array([
      0x80 | (frameType << 4) | packetType,
      ...new TextEncoder().encode(fourCc),
    ]);
  const tags: FlvTag[] = [{
    type: 9,
    timestamp: 0,
    data: concat([header(1, 0), record]),
  }];
  const bytes = Deno.readFileSync(ivf);
  const view = new DataView(bytes.buffer);
  const den = view.getUint32(16, true), num = view.getUint32(20, true);
  for (let at = view.getUint16(6, true); at + 12 <= bytes.length;) {
    const size = view.getUint32(at, true);
    const pts = view.getUint32(at + 4, true);
    const data = bytes.subarray(at + 12, at + 12 + size);
    const key = codec === "VP9" ? (data[0]! & 0x04) === 0 : isAv1Key(data);
    tags.push({
      type: 9,
      timestamp: Math.round((pts * num * 1000) / den),
      data: concat([header(key ? 1 : 2, 1), data]),
    });
    at += 12 + size;
  }
  return tags;
}

/** An AV1 temporal unit holding a sequence header OBU: libaom repeats it on keyframes only. */
function isAv1Key(tu: Uint8Array): boolean {
  let at = 0;
  while (at < tu.length) {
    const type = (tu[at]! >> 3) & 0x0f;
    const ext = (tu[at]! & 0x04) ? 1 : 0;
    let size = 0, shift = 0, p = at + 1 + ext;
    for (;;) {
      const b = tu[p++]!;
      size += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) break;
    }
    if (type === 1) return true;
    at = p + size;
  }
  return false;
}

/**
 * Init segment and fragments of `fragmentSeconds` (cut at video keyframes
 * when there is video), then the init segment rewritten in place with the
 * duration in its `mehd`, as a recorder closes a file.
 */
export function writeFragmented(m: Media, fragmentSeconds = 0.5): Uint8Array {
  const fragmenter = new Mp4Fragmenter(m.tracks, { reserveDuration: true });
  const out: Uint8Array[] = [new Uint8Array(0)]; // the init, once a frame could size it
  const lead = m.tracks[0]!;
  const totals = new Map<number, number>();
  const add = (f: Mp4Fragment | undefined) => {
    if (f === undefined) return;
    out.push(f.bytes);
    for (const t of f.tracks) {
      totals.set(t.trackId, (totals.get(t.trackId) ?? 0) + t.duration);
    }
  };
  for (const f of m.frames) {
    const cut = f.trackId === lead.id && (lead.kind === "audio" || f.keyframe);
    fragmenter.push(f);
    if (out[0]!.length === 0) out[0] = fragmenter.init;
    if (cut && fragmenter.readySeconds(lead.id) >= fragmentSeconds) {
      add(fragmenter.flush());
    }
  }
  add(fragmenter.end());
  let ms = 0;
  for (const t of m.tracks) {
    ms = Math.max(ms, ((totals.get(t.id) ?? 0) * 1000) / t.clockRate);
  }
  const init = fragmenter.initSegment(ms);
  if (init.length !== out[0]!.length) {
    throw new Error("init segment changed size");
  }
  out[0] = init;
  return concat(out);
}

/** A progressive MP4 in two passes over the frames. */
export function writeProgressive(m: Media): Uint8Array {
  const w = new Mp4FileWriter(m.tracks);
  for (const f of m.frames) w.add(f);
  const { header } = w.finish();
  return concat([header, ...m.frames.map((f) => w.sample(f))]);
}
