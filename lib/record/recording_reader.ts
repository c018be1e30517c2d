/**
 * Frames back out of a recorded segment, in the media model, for playback:
 * an fMP4 segment's sample entries become tracks (avcC/hvcC/av1C/vpcC as
 * the track's record, esds/dOps/ulaw/alaw as audio), its samples frames;
 * an FLV segment goes through the FLV demuxers. Times are relative to the
 * segment's start, in each track's clock. The file is read in windows of
 * a few MiB, never whole.
 *
 * @module
 */

import type { Frame } from "../media/frame.ts";
import type { AudioTrack, Track, VideoTrack } from "../media/track.ts";
import { FlvDemuxer } from "../flv/file.ts";
import { FlvTagDemuxer } from "../flv/tag_demuxer.ts";
import type { FlvEvent } from "../flv/tag.ts";
import { type Fmp4Sample, readFmp4 } from "./fmp4_read.ts";

/** A segment opened for reading. */
export interface RecordedSegment {
  tracks: Track[];
  /** The segment's frames in file order. */
  frames(): AsyncGenerator<Frame>;
}

const WINDOW = 4 * 1024 * 1024;

/** Opens a segment file of `format`. */
export async function openRecording(
  file: string,
  format: "fmp4" | "flv",
): Promise<RecordedSegment> {
  return format === "flv" ? await openFlv(file) : await openFmp4(file);
}

async function openFmp4(file: string): Promise<RecordedSegment> {
  let tracks: Track[];
  let samples: Fmp4Sample[];
  {
    using f = await Deno.open(file, { read: true });
    const r = await readFmp4(f);
    tracks = sampleEntryTracks(r.init);
    samples = r.samples;
  }
  const byId = new Map(tracks.map((t) => [t.id, t]));
  return {
    tracks,
    async *frames() {
      using f = await Deno.open(file, { read: true });
      const window = new Window(f);
      for (const s of samples) {
        const track = byId.get(s.trackId);
        if (track === undefined) continue;
        const data = await window.read(s.offset, s.size);
        if (data === undefined) return;
        yield {
          trackId: s.trackId,
          dts: s.dts,
          pts: s.dts + s.cto,
          keyframe: track.kind === "audio" || s.keyframe,
          units: splitUnits(track, data),
        };
      }
    },
  };
}

async function openFlv(file: string): Promise<RecordedSegment> {
  // Tracks come from the sequence headers before the first frame.
  const tracks = new Map<number, Track>();
  for await (const e of flvEvents(file)) {
    if (e.kind === "track") tracks.set(e.track.id, e.track);
    if (e.kind === "frame") break;
  }
  return {
    tracks: [...tracks.values()],
    async *frames() {
      for await (const e of flvEvents(file)) {
        if (e.kind === "frame") yield e.frame;
      }
    },
  };
}

async function* flvEvents(file: string): AsyncGenerator<FlvEvent> {
  using f = await Deno.open(file, { read: true });
  const demuxer = new FlvDemuxer();
  const tags = new FlvTagDemuxer();
  const events: FlvEvent[] = [];
  const sink = { enqueue: (e: FlvEvent) => void events.push(e) };
  const buf = new Uint8Array(256 * 1024);
  for (;;) {
    const n = await f.read(buf);
    if (n === null) break;
    try {
      demuxer.push(buf.slice(0, n), {
        enqueue: (tag) => tags.push(tag, sink),
      });
    } catch {
      break; // a damaged tag ends the segment
    }
    yield* events.splice(0);
  }
  yield* events.splice(0);
}

/** H.264/H.265 samples are 4-byte length-prefixed NAL units; the model wants the units. */
function splitUnits(track: Track, data: Uint8Array): Uint8Array[] {
  if (track.codec !== "H264" && track.codec !== "H265") return [data];
  const units: Uint8Array[] = [];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  while (pos + 4 <= data.length) {
    const size = view.getUint32(pos);
    if (size === 0 || pos + 4 + size > data.length) break;
    units.push(data.subarray(pos + 4, pos + 4 + size));
    pos += 4 + size;
  }
  return units;
}

/** Reads byte ranges through one window of the file. */
class Window {
  readonly #f: Deno.FsFile;
  #start = 0;
  #bytes = new Uint8Array(0);
  constructor(f: Deno.FsFile) {
    this.#f = f;
  }
  async read(offset: number, size: number): Promise<Uint8Array | undefined> {
    if (
      offset < this.#start || offset + size > this.#start + this.#bytes.length
    ) {
      const want = Math.max(size, WINDOW);
      const buf = new Uint8Array(want);
      await this.#f.seek(offset, Deno.SeekMode.Start);
      let got = 0;
      while (got < want) {
        const n = await this.#f.read(buf.subarray(got));
        if (n === null) break;
        got += n;
      }
      this.#start = offset;
      this.#bytes = buf.subarray(0, got);
      if (got < size) return undefined;
    }
    const at = offset - this.#start;
    return this.#bytes.slice(at, at + size);
  }
}

/** The tracks an init segment's `trak`s describe (track ids as in the file). */
export function sampleEntryTracks(init: Uint8Array): Track[] {
  const view = new DataView(init.buffer, init.byteOffset, init.byteLength);
  const out: Track[] = [];
  const kids = (start: number, end: number) => {
    const list: [string, number, number][] = [];
    for (let p = start; p + 8 <= end;) {
      const size = view.getUint32(p);
      if (size < 8 || p + size > end) break;
      list.push([type(init, p + 4), p + 8, p + size]);
      p += size;
    }
    return list;
  };
  const find = (list: [string, number, number][], t: string) =>
    list.find((k) => k[0] === t);
  const moov = find(kids(0, init.length), "moov");
  if (moov === undefined) return out;
  for (const [t, s, e] of kids(moov[1], moov[2])) {
    if (t !== "trak") continue;
    try {
      const track = trakTrack(init, view, kids, s, e);
      if (track !== undefined) out.push(track);
    } catch {
      // a field past the end of its box: not a track we can read
    }
  }
  return out;
}

type Kids = (start: number, end: number) => [string, number, number][];

function trakTrack(
  init: Uint8Array,
  view: DataView,
  kids: Kids,
  s: number,
  e: number,
): Track | undefined {
  const find = (list: [string, number, number][], t: string) =>
    list.find((k) => k[0] === t);
  {
    const trak = kids(s, e);
    const tkhd = find(trak, "tkhd");
    const mdia = find(trak, "mdia");
    if (tkhd === undefined || mdia === undefined) return;
    const id = view.getUint32(tkhd[1] + (init[tkhd[1]] === 1 ? 20 : 12));
    const mdiaKids = kids(mdia[1], mdia[2]);
    const mdhd = find(mdiaKids, "mdhd");
    const minf = find(mdiaKids, "minf");
    if (mdhd === undefined || minf === undefined) return;
    const clockRate = view.getUint32(mdhd[1] + (init[mdhd[1]] === 1 ? 20 : 12));
    const stbl = find(kids(minf[1], minf[2]), "stbl");
    const stsd = stbl && find(kids(stbl[1], stbl[2]), "stsd");
    if (stsd === undefined) return;
    const entry = kids(stsd[1] + 8, stsd[2])[0];
    if (entry === undefined) return;
    const [format, es, ee] = entry;
    const video = VIDEO_FORMATS[format];
    if (video !== undefined && ee - es >= 78) {
      const config = kids(es + 78, ee).find((k) => CONFIG_BOXES.has(k[0]));
      const track: VideoTrack = {
        kind: "video",
        id,
        codec: video,
        clockRate,
        width: view.getUint16(es + 24),
        height: view.getUint16(es + 26),
      };
      if (config !== undefined) {
        track.record = init.slice(
          config[0] === "vpcC" ? config[1] + 4 : config[1],
          config[2],
        );
      }
      return track;
    }
    if (ee - es < 28) return;
    const channels = view.getUint16(es + 16);
    const sampleRate = view.getUint32(es + 24) >>> 16;
    const audio: AudioTrack = {
      kind: "audio",
      id,
      codec: "AAC",
      clockRate,
      sampleRate: sampleRate || clockRate,
      channels,
    };
    if (format === "ulaw" || format === "alaw") {
      audio.codec = format === "ulaw" ? "PCMU" : "PCMA";
    } else if (format === "Opus") {
      audio.codec = "OPUS";
      audio.sampleRate = 48000;
    } else if (format === "mp4a") {
      const esds = kids(es + 28, ee).find((k) => k[0] === "esds");
      const d = esds && decoderConfig(init.subarray(esds[1] + 4, esds[2]));
      if (d === undefined) return;
      if (d.objectType === 0x6b) audio.codec = "MP3";
      else if (d.objectType === 0x40 && d.config !== undefined) {
        audio.config = d.config.slice();
      } else return;
    } else return;
    return audio;
  }
}

const VIDEO_FORMATS: Record<string, VideoTrack["codec"]> = {
  avc1: "H264",
  avc3: "H264",
  hvc1: "H265",
  hev1: "H265",
  av01: "AV1",
  vp09: "VP9",
};
const CONFIG_BOXES = new Set(["avcC", "hvcC", "av1C", "vpcC"]);

/** objectTypeIndication and DecoderSpecificInfo of an ES_Descriptor (ISO/IEC 14496-1 §7.2.6.5). */
function decoderConfig(
  b: Uint8Array,
): { objectType: number; config?: Uint8Array } | undefined {
  let objectType: number | undefined;
  let config: Uint8Array | undefined;
  const walk = (start: number, end: number, depth: number) => {
    let p = start;
    while (p + 2 <= end && depth < 4) {
      const tag = b[p++]!;
      let len = 0;
      for (let i = 0; i < 4 && p < end; i++) {
        const c = b[p++]!;
        len = (len << 7) | (c & 0x7f);
        if ((c & 0x80) === 0) break;
      }
      const body = p;
      if (body + len > end) return;
      if (tag === 0x03) walk(body + 3, body + len, depth + 1); // ES_ID, flags
      else if (tag === 0x04) {
        objectType = b[body];
        walk(body + 13, body + len, depth + 1);
      } else if (tag === 0x05) config = b.subarray(body, body + len);
      p = body + len;
    }
  };
  walk(0, b.length, 0);
  return objectType === undefined ? undefined : { objectType, config };
}

function type(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}
