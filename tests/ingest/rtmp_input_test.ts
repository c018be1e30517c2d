import assert from "node:assert/strict";
import { concat } from "@std/bytes";
import { encodeAmf3 } from "../../lib/amf/amf3.ts";
import { buildAvcc } from "../../lib/codec/h264/avcc.ts";
import { buildHvcc } from "../../lib/codec/h265/hvcc.ts";
import { H265_NAL_TYPE, h265NalType } from "../../lib/codec/h265/nal.ts";
import { splitAnnexB } from "../../lib/codec/nal_units.ts";
import { FlvOutput } from "../../lib/egress/flv_output.ts";
import { ReaderQueue } from "../../lib/egress/reader_queue.ts";
import type { FlvTag } from "../../lib/flv/tag.ts";
import { RtmpInput } from "../../lib/ingest/rtmp_input.ts";
import type { Track } from "../../lib/media/track.ts";
import { ChunkDemuxer } from "../../lib/rtmp/chunk_demuxer.ts";
import { ChunkMuxer, encodeMessage } from "../../lib/rtmp/chunk_muxer.ts";
import { encodeData } from "../../lib/rtmp/command.ts";
import { setChunkSize } from "../../lib/rtmp/control.ts";
import {
  DEFAULT_CHUNK_SIZE,
  MESSAGE_TYPE,
  type RtmpMessage,
} from "../../lib/rtmp/message.ts";
import { ascii, collect, hex } from "../_util/bytes.ts";
import {
  eventsOf,
  framesOf,
  ingestStage,
  type PublisherEvent,
  RecordingPublisher,
} from "../_util/ingest.ts";
import { checkStageContract } from "../_util/stage_contract.ts";
import { tagsOf, testdata } from "../flv/_util.ts";

// ---- the publisher's side: FLV tags as RTMP messages ----

/** The message stream id the publisher got from createStream. */
const STREAM_ID = 1;
/** Chunk stream ids as ffmpeg's RTMP client sends on them. */
const CSID = { DATA: 4, AUDIO: 4, VIDEO: 6 } as const;

function message(
  typeId: number,
  timestamp: number,
  payload: Uint8Array,
  streamId = STREAM_ID,
): RtmpMessage {
  const chunkStreamId = typeId === MESSAGE_TYPE.VIDEO
    ? CSID.VIDEO
    : typeId === MESSAGE_TYPE.AUDIO
    ? CSID.AUDIO
    : CSID.DATA;
  return {
    chunkStreamId,
    typeId,
    timestamp: timestamp >>> 0,
    streamId,
    payload,
  };
}

const videoMessage = (ms: number, body: Uint8Array) =>
  message(MESSAGE_TYPE.VIDEO, ms, body);
const audioMessage = (ms: number, body: Uint8Array) =>
  message(MESSAGE_TYPE.AUDIO, ms, body);

/** `@setDataFrame onMetaData {…}`, as OBS and ffmpeg publish metadata. */
function setDataFrame(meta: Record<string, unknown>): RtmpMessage {
  return message(
    MESSAGE_TYPE.DATA_AMF0,
    0,
    encodeData("@setDataFrame", "onMetaData", meta),
  );
}

/**
 * The messages a publisher sends for an FLV file's tags: audio and video
 * as they are; the script tag (`onMetaData {…}`) behind `@setDataFrame`.
 */
function publishedTags(tags: FlvTag[]): RtmpMessage[] {
  return tags.map((t) =>
    t.type === 18
      ? message(
        MESSAGE_TYPE.DATA_AMF0,
        t.timestamp,
        concat([encodeData("@setDataFrame"), t.data]),
      )
      : message(t.type, t.timestamp, t.data)
  );
}

/**
 * The chunk stream of `messages`: Set Chunk Size first when `chunkSize` is
 * not the default, then each message as {@link encodeMessage} writes it
 * (type-0 header, type-3 continuations) or, with `compress`, with the type
 * 1/2/3 headers ffmpeg and OBS use.
 */
function wire(
  messages: RtmpMessage[],
  { chunkSize = DEFAULT_CHUNK_SIZE, compress = false } = {},
): Uint8Array {
  const parts: Uint8Array[] = [];
  if (chunkSize !== DEFAULT_CHUNK_SIZE) {
    parts.push(encodeMessage(setChunkSize(chunkSize), DEFAULT_CHUNK_SIZE));
  }
  if (compress) {
    const muxer = new ChunkMuxer({ chunkSize });
    const out = collect<Uint8Array>();
    for (const m of messages) muxer.push(m, out);
    parts.push(...out.items);
  } else {
    for (const m of messages) parts.push(encodeMessage(m, chunkSize));
  }
  return concat(parts);
}

/**
 * RTMP 1.0 §7.1.6: an aggregate payload, each sub-message an FLV tag
 * (type | size (3) | timestamp (3) | timestamp bits 31..24 | stream id (3) |
 * data) and its back pointer (4).
 */
function aggregate(tags: FlvTag[]): Uint8Array {
  return concat(tags.flatMap((t) => {
    const head = new Uint8Array(11);
    const size = t.data.length;
    const ts = t.timestamp >>> 0;
    head.set([t.type, size >> 16, (size >> 8) & 0xff, size & 0xff]);
    head.set([(ts >> 16) & 0xff, (ts >> 8) & 0xff, ts & 0xff, ts >>> 24], 4);
    const back = new Uint8Array(4);
    new DataView(back.buffer).setUint32(0, 11 + size);
    return [head, t.data, back];
  }));
}

// ---- Sluice's side: ChunkDemuxer → RtmpInput → publisher, and back ----

/** Socket bytes of a publishing connection (after the handshake) → what the hub gets. */
function rtmpIngest() {
  return ingestStage(
    new ChunkDemuxer(),
    (publisher) => new RtmpInput(publisher),
    (input: RtmpInput, m: RtmpMessage) => input.push(m),
  );
}

/** Every event of a publish, `end()` included. */
function ingest(bytes: Uint8Array): PublisherEvent[] {
  const core = rtmpIngest();
  const out = collect<PublisherEvent>();
  core.push(bytes, out);
  core.end?.(out);
  return out.items;
}

/** As ingest(), with the RtmpInput for its counters. */
function ingestMessages(messages: RtmpMessage[]) {
  const publisher = new RecordingPublisher();
  const input = new RtmpInput(publisher);
  for (const m of messages) input.push(m);
  return { events: publisher.pending, input };
}

/**
 * The egress side: what the hub got, played back through an RTMP player's
 * FlvOutput, as the bytes that player reads (after its Set Chunk Size).
 */
function play(events: PublisherEvent[]): Uint8Array {
  const chunkSize = 4096;
  const output = new FlvOutput(() => [], { chunkSize, streamId: STREAM_ID });
  const queue = new ReaderQueue({ maxBytes: Infinity });
  output.addReader({ queue, onEnd() {} });
  const tracks = new Map<number, Track>();
  const setTracks = () =>
    output.tracks([...tracks.values()].sort((a, b) => a.id - b.id));
  for (const e of events) {
    if (e.kind === "track") {
      tracks.set(e.track.id, e.track);
      setTracks();
    } else if (e.kind === "tracks") {
      tracks.clear();
      for (const t of e.tracks) tracks.set(t.id, t);
      setTracks();
    } else if (e.kind === "metadata") output.metadata(e.metadata);
    else output.frame(e.frame);
  }
  return concat([
    encodeMessage(setChunkSize(chunkSize), DEFAULT_CHUNK_SIZE),
    ...queue.take(),
  ]);
}

/**
 * Tracks and frames as what a player and the publisher agree on, for
 * comparing a round trip:
 *
 * - frame times as 32-bit milliseconds: a timeline is unwrapped from its
 *   first message, and a player's first message is a sequence header
 *   stamped with whatever time the stream had when the track was set, so
 *   the lap (multiple of 2^32 ms) a timeline lands in is the receiver's guess;
 * - an avcC or hvcC record saying 4-byte NAL unit lengths, which are what
 *   FlvOutput writes whatever the publisher used.
 */
function onTheWire(events: PublisherEvent[]): unknown[] {
  const clocks = new Map<number, number>();
  return events.flatMap((e): unknown[] => {
    if (e.kind === "metadata") return [];
    if (e.kind === "track") {
      clocks.set(e.track.id, e.track.clockRate);
      return [{ ...e, track: fourByteLengths(e.track) }];
    }
    if (e.kind !== "frame") return [e];
    const { trackId, dts, pts, keyframe, units } = e.frame;
    const ms = Math.round((dts * 1000) / clocks.get(trackId)!);
    return [{ trackId, ms: ms >>> 0, cts: pts - dts, keyframe, units }];
  });
}

/** The track with its record's lengthSizeMinusOne set to 3 (ISO/IEC 14496-15 §5.3.3.1, §8.3.3.1). */
function fourByteLengths(track: Track): Track {
  if (track.kind !== "video" || track.record === undefined) return track;
  const at = track.codec === "H264" ? 4 : track.codec === "H265" ? 21 : -1;
  if (at < 0 || at >= track.record.length) return track;
  const record = track.record.slice();
  record[at] = record[at]! | 0x03;
  return { ...track, record };
}

/** Metadata as a plain record (AMF tags an ECMA array with a symbol). */
function plainMetadata(e: PublisherEvent): Record<string, unknown> {
  assert.ok(e.kind === "metadata" && e.metadata !== undefined);
  return Object.fromEntries(Object.entries(e.metadata));
}

// ---- bodies (FLV v10.1 §E.4, Enhanced RTMP v1) ----

function cat(...parts: (Uint8Array | string)[]): Uint8Array<ArrayBuffer> {
  return concat(parts.map((p) => typeof p === "string" ? hex(p) : p));
}

// H.264 Baseline 176x144 (tests/codec/h264_test.ts) and a PPS
const SPS = hex("67 42 00 0b ed 05 89 c8");
const PPS = hex("68 ce 38 80");
// FrameType 1 | CodecID 7 | AVCPacketType 0 | CompositionTime 0 | avcC
const AVC_HEADER = cat("17 00 000000", buildAvcc([SPS], [PPS]));
const IDR = hex("65 88 84 00 33 ff");
const SLICE = hex("41 9a 02 0c");
/** An AVC NALU tag: FrameType | 7, AVCPacketType 1, CompositionTime (SI24 ms), one 4-byte-length NAL unit. */
function avc(key: boolean, ctsMs: number, nal: Uint8Array): Uint8Array {
  const cts = ctsMs & 0xffffff;
  return cat(
    key ? "17 01" : "27 01",
    hex(cts.toString(16).padStart(6, "0")),
    hex(nal.length.toString(16).padStart(8, "0")),
    nal,
  );
}

// ISO/IEC 14496-3 §1.6.2.1: AAC LC, 44.1 kHz, stereo
const ASC = hex("12 10");
const AAC_HEADER = cat("af 00", ASC);
const aacFrame = (fill: number) => cat("af 01", new Uint8Array(6).fill(fill));

const HEVC_SETS = (() => {
  const units = splitAnnexB(testdata("codec/h265_352x288.h265"));
  const of = (t: number) => units.filter((u) => h265NalType(u) === t);
  return {
    vps: of(H265_NAL_TYPE.VPS),
    sps: of(H265_NAL_TYPE.SPS),
    pps: of(H265_NAL_TYPE.PPS),
  };
})();
const HVCC = buildHvcc(HEVC_SETS);
// libaom, 320x240 (tests/flv/tag_demuxer_test.ts)
const AV1C = hex("81 00 0c 00 | 0a 0b 00 00 00 04 3c ff bc da f9 00 40");

// ---- the stage contract ----

const H264_AAC = tagsOf(testdata("flv/h264_aac.flv"));

/** H.264 with negative composition times, AAC, an aggregate and metadata: under 4 KiB, split at every byte. */
const MIXED = [
  setDataFrame({ width: 176, height: 144, encoder: "Ecamm Live" }),
  videoMessage(0, AVC_HEADER),
  audioMessage(0, AAC_HEADER),
  videoMessage(0, avc(true, 0, IDR)),
  audioMessage(10, aacFrame(1)),
  videoMessage(40, avc(false, -40, SLICE)),
  message(
    MESSAGE_TYPE.AGGREGATE,
    80,
    aggregate([
      { type: 9, timestamp: 1000, data: avc(false, 40, SLICE) },
      { type: 8, timestamp: 1013, data: aacFrame(2) },
      { type: 9, timestamp: 1040, data: avc(false, 0, SLICE) },
    ]),
  ),
];

const ENHANCED = [
  videoMessage(0, cat("90", ascii("hvc1"), HVCC)), // SequenceStart
  videoMessage(0, cat("91", ascii("hvc1"), "000028 | 00000003 26 01 af")), // CodedFrames, 40 ms
  videoMessage(40, cat("a3", ascii("hvc1"), "00000003 02 01 d0")), // CodedFramesX
  audioMessage(0, AAC_HEADER),
  audioMessage(23, aacFrame(3)),
];

const AV1 = [
  videoMessage(0, cat("90", ascii("av01"), AV1C)),
  videoMessage(0, cat("91", ascii("av01"), "12 00 32 05 10 aa bb cc dd")),
  videoMessage(33, cat("a1", ascii("av01"), "12 00 32 03 30 ee ff")),
];

/** Video and audio on their own 32-bit timelines, both crossing 2^32 ms. */
const WRAP = [
  videoMessage(0xffffff9c, AVC_HEADER),
  audioMessage(0xffffffa0, AAC_HEADER),
  ...[0xffffff9c, 0xffffffc4, 0xffffffec, 0x14, 0x3c].map((ms, i) =>
    videoMessage(ms, avc(i === 0, 0, i === 0 ? IDR : SLICE))
  ),
  ...[0xffffffa0, 0xffffffb7, 0xffffffce, 0xffffffe5, 0xfffffffc, 0x13].map((
    ms,
    i,
  ) => audioMessage(ms, aacFrame(i))),
];

Deno.test("ChunkDemuxer → RtmpInput keeps the stage contract, an RTMP player's FlvOutput returning what the hub got", () => {
  checkStageContract(rtmpIngest, {
    fixtures: [
      {
        name:
          "ffmpeg's h264_aac.flv published at chunk size 4096, compressed headers",
        bytes: wire(publishedTags(H264_AAC), {
          chunkSize: 4096,
          compress: true,
        }),
      },
      {
        name: "ffmpeg's h264_mp3.flv at the default chunk size",
        bytes: wire(publishedTags(tagsOf(testdata("flv/h264_mp3.flv")))),
      },
      {
        name: "ffmpeg's pcma.flv",
        bytes: wire(publishedTags(tagsOf(testdata("flv/pcma.flv")))),
      },
      {
        name: "H.264 with negative composition times, AAC, an aggregate",
        bytes: wire(MIXED),
      },
      { name: "Enhanced RTMP 'hvc1' with AAC", bytes: wire(ENHANCED) },
      { name: "Enhanced RTMP 'av01'", bytes: wire(AV1) },
      { name: "timestamps across 2^32 ms", bytes: wire(WRAP) },
    ],
    // What the player reads differs byte-wise from what the publisher sent:
    // its own chunk size (4096) and chunk stream ids (5 data, 6 audio, 7
    // video), type-0 headers only, sequence headers sent again with every
    // track change and stamped with the latest time, AAC flags as 44 kHz
    // stereo, 4-byte NAL unit lengths, and Sluice's own onMetaData (from the
    // tracks, plain values only, `server: "Sluice"`, stamped 0). Tracks and
    // frames come back as onTheWire() says; metadata is checked in the
    // named cases.
    encode: play,
    roundTrip: "items",
    normalizeRoundTrip: onTheWire,
  });
});

// ---- named cases ----

Deno.test("RtmpInput: an AAC sequence header makes the track, then raw frames on the sample clock", () => {
  const { events, input } = ingestMessages([
    audioMessage(0, aacFrame(9)), // before the header: no track to put it on
    audioMessage(0, AAC_HEADER),
    audioMessage(0, aacFrame(1)),
    audioMessage(23, aacFrame(2)),
    audioMessage(46, aacFrame(3)),
  ]);
  assert.deepEqual(eventsOf(events, "track").map((e) => e.track), [{
    kind: "audio",
    id: 1,
    codec: "AAC",
    clockRate: 44100,
    sampleRate: 44100,
    channels: 2,
    config: ASC,
  }]);
  assert.deepEqual(
    framesOf(events).map((f) => [f.trackId, f.dts, f.pts, f.keyframe]),
    [[1, 0, 0, true], [1, 1014, 1014, true], [1, 2029, 2029, true]], // round(ms × 44.1)
  );
  assert.deepEqual(framesOf(events)[1]!.units, [new Uint8Array(6).fill(2)]);
  assert.equal(input.dropped, 1);
});

Deno.test("RtmpInput tells onTrack of each new track, as the hub gets it", () => {
  const heard: Track[] = [];
  const publisher = new RecordingPublisher();
  const input = new RtmpInput(publisher, (t) => heard.push(t));
  for (
    const m of [
      videoMessage(0, AVC_HEADER),
      audioMessage(0, AAC_HEADER),
      videoMessage(0, AVC_HEADER), // the same header again: no new track
    ]
  ) input.push(m);
  assert.deepEqual(
    heard,
    eventsOf(publisher.pending, "track").map((e) => e.track),
  );
  assert.deepEqual(heard.map((t) => t.codec), ["H264", "AAC"]);
});

Deno.test("RtmpInput: H.264 composition times give pts after dts, for B-frames", () => {
  const { events } = ingestMessages([
    videoMessage(0, AVC_HEADER),
    videoMessage(0, avc(true, 80, IDR)),
    videoMessage(40, avc(false, 120, SLICE)),
    videoMessage(80, avc(false, 0, SLICE)),
  ]);
  const [track] = eventsOf(events, "track");
  assert.deepEqual(
    [track!.track.codec, track!.track.kind === "video" && track!.track.width],
    ["H264", 176],
  );
  assert.deepEqual(
    framesOf(events).map((f) => [f.dts, f.pts, f.keyframe]),
    [[0, 7200, true], [3600, 14400, false], [7200, 7200, false]],
  );
  assert.deepEqual(framesOf(events)[0]!.units, [IDR]);
});

Deno.test("Ecamm Live: negative composition times give pts before dts", () => {
  // SI24 0xffffd8 = -40 ms: Ecamm Live stamps the decode time late by one frame.
  const { events } = ingestMessages([
    videoMessage(0, AVC_HEADER),
    videoMessage(40, avc(true, -40, IDR)),
    videoMessage(80, avc(false, -40, SLICE)),
  ]);
  assert.deepEqual(
    framesOf(events).map((f) => [f.dts, f.pts]),
    [[3600, 0], [7200, 3600]],
  );
});

Deno.test("RtmpInput reads Enhanced RTMP 'hvc1' and 'av01' FourCC headers", () => {
  const hevc = ingestMessages(ENHANCED).events;
  const [video] = eventsOf(hevc, "track").map((e) => e.track);
  assert.ok(video?.kind === "video");
  assert.deepEqual(
    [video.codec, video.width, video.height, video.record],
    ["H265", 352, 288, HVCC],
  );
  assert.deepEqual(video.parameterSets, HEVC_SETS);
  assert.deepEqual(
    framesOf(hevc).filter((f) => f.trackId === 0).map((
      f,
    ) => [f.dts, f.pts, f.keyframe, f.units]),
    [
      [0, 3600, true, [hex("26 01 af")]],
      [3600, 3600, false, [hex("02 01 d0")]],
    ],
  );
  const av1 = ingestMessages(AV1).events;
  const [track] = eventsOf(av1, "track").map((e) => e.track);
  assert.ok(track?.kind === "video");
  assert.deepEqual([track.codec, track.width, track.height, track.record], [
    "AV1",
    320,
    240,
    AV1C,
  ]);
  assert.deepEqual(framesOf(av1).map((f) => [f.dts, f.keyframe, f.units]), [
    [0, true, [hex("12 00 32 05 10 aa bb cc dd")]],
    [2970, false, [hex("12 00 32 03 30 ee ff")]],
  ]);
});

Deno.test("RtmpInput takes an aggregate message's tags at the aggregate's time plus their offsets", () => {
  const { events } = ingestMessages([
    videoMessage(0, AVC_HEADER),
    audioMessage(0, AAC_HEADER),
    message(
      MESSAGE_TYPE.AGGREGATE,
      5000,
      aggregate([
        { type: 9, timestamp: 1000, data: avc(true, 0, IDR) },
        { type: 18, timestamp: 1005, data: encodeData("onCuePoint") }, // skipped
        { type: 8, timestamp: 1023, data: aacFrame(1) },
        { type: 9, timestamp: 1040, data: avc(false, 0, SLICE) },
      ]),
    ),
  ]);
  assert.deepEqual(
    framesOf(events).map((f) => [f.trackId, f.dts]),
    [[0, 5000 * 90], [1, Math.round(5023 * 44.1)], [0, 5040 * 90]],
  );
});

Deno.test("RtmpInput takes @setDataFrame onMetaData and plain onMetaData, in AMF0 and AMF3 data messages", () => {
  const meta = {
    width: 1280,
    height: 720,
    framerate: 30,
    encoder: "obs-output module",
  };
  const { events } = ingestMessages([
    setDataFrame(meta),
    message(
      MESSAGE_TYPE.DATA_AMF0,
      0,
      encodeData("onMetaData", { ...meta, width: 640 }),
    ),
    // Type 15: the AMF3 form byte 0x00, then AMF0 values (RTMP 1.0 §7.1.2)
    message(
      MESSAGE_TYPE.DATA_AMF3,
      0,
      cat("00", encodeData("onMetaData", { ...meta, width: 320 })),
    ),
    message(
      MESSAGE_TYPE.DATA_AMF0,
      0,
      encodeData("onCuePoint", { name: "ad" }),
    ), // not metadata
    message(
      MESSAGE_TYPE.DATA_AMF0,
      0,
      encodeData("onMetaData", "not an object"),
    ),
    message(
      MESSAGE_TYPE.DATA_AMF0,
      0,
      encodeData("@setDataFrame", "onTextData", { text: "hi" }),
    ),
  ]);
  assert.deepEqual(events.map((e) => e.kind), [
    "metadata",
    "metadata",
    "metadata",
  ]);
  assert.deepEqual(events.map(plainMetadata), [
    meta,
    { ...meta, width: 640 },
    { ...meta, width: 320 },
  ]);
});

Deno.test("RtmpInput reads an AMF3-encoded onMetaData object in a type-15 message", () => {
  // Some Flash-era publishers switch to AMF3 with the avmplus marker (0x11).
  const payload = cat(
    "00",
    encodeData("onMetaData"),
    "11",
    encodeAmf3({ width: 480 }),
  );
  const { events } = ingestMessages([
    message(MESSAGE_TYPE.DATA_AMF3, 0, payload),
  ]);
  assert.deepEqual(events.map(plainMetadata), [{ width: 480 }]);
});

Deno.test("RtmpInput: an audio codec named only in onMetaData makes no audio track", () => {
  // OBS with its audio track muted still announces AAC in onMetaData; no audio tag ever comes.
  const meta = {
    audiocodecid: 10,
    audiosamplerate: 48000,
    audiochannels: 2,
    videocodecid: 7,
  };
  const { events } = ingestMessages([
    setDataFrame(meta),
    videoMessage(0, AVC_HEADER),
    videoMessage(0, avc(true, 0, IDR)),
  ]);
  assert.deepEqual(
    eventsOf(events, "track").map((e) => [e.track.kind, e.track.codec]),
    [["video", "H264"]],
  );
  assert.deepEqual(plainMetadata(events[0]!), meta); // passed on as the publisher said it
  assert.ok(framesOf(events).every((f) => f.trackId === 0));
});

Deno.test("RtmpInput: an audio track whose codec has no sequence header comes with its first frame", () => {
  // G.711 A-law (SoundFormat 7): the flags are all there is to know.
  const { events } = ingestMessages([
    setDataFrame({ audiocodecid: 7, audiosamplerate: 8000 }),
    audioMessage(0, cat("72", new Uint8Array(160).fill(0xd5))),
    audioMessage(20, cat("72", new Uint8Array(160).fill(0xd5))),
  ]);
  assert.deepEqual(eventsOf(events, "track").map((e) => e.track), [{
    kind: "audio",
    id: 1,
    codec: "PCMA",
    clockRate: 8000,
    sampleRate: 8000,
    channels: 1,
  }]);
  assert.deepEqual(framesOf(events).map((f) => f.dts), [0, 160]);
});

Deno.test("RtmpInput takes media on any message stream id: the RTMP session keeps other streams out", () => {
  // RtmpInput has no notion of the stream it serves: lib/server/rtmp/server.ts
  // pushes only messages on the publishing stream id into it.
  const other = (m: RtmpMessage) => ({ ...m, streamId: 7 });
  const { events } = ingestMessages([
    videoMessage(0, AVC_HEADER),
    other(videoMessage(0, avc(true, 0, IDR))),
  ]);
  assert.equal(framesOf(events).length, 1);
});

Deno.test("RtmpInput ignores messages that are not media or data", () => {
  const { events } = ingestMessages([
    setChunkSize(4096),
    message(
      MESSAGE_TYPE.COMMAND_AMF0,
      0,
      encodeData("FCPublish", 2, null, "live"),
    ),
    message(MESSAGE_TYPE.SHARED_OBJECT_AMF0, 0, hex("00")),
  ]);
  assert.deepEqual(events, []);
});

Deno.test("RtmpInput unwraps audio and video timestamps across 2^32 ms, each on its own timeline", () => {
  const events = ingest(wire(WRAP));
  const video = framesOf(events).filter((f) => f.trackId === 0);
  const audio = framesOf(events).filter((f) => f.trackId === 1);
  const start = 0xffffff9c;
  assert.deepEqual(
    video.map((f) => f.dts / 90 - start),
    [0, 40, 80, 120, 160],
  );
  assert.deepEqual(
    audio.map((f) => f.dts - Math.round(0xffffffa0 * 44.1)),
    [0, 23, 46, 69, 92, 115].map((ms) => Math.round(ms * 44.1)),
  );
});

Deno.test("RtmpInput unwraps an aggregate whose sub-messages cross 2^32 ms", () => {
  const { events } = ingestMessages([
    videoMessage(0xffffffd8, AVC_HEADER),
    message(
      MESSAGE_TYPE.AGGREGATE,
      0xffffffd8,
      aggregate([
        { type: 9, timestamp: 0, data: avc(true, 0, IDR) },
        { type: 9, timestamp: 40, data: avc(false, 0, SLICE) },
        { type: 9, timestamp: 80, data: avc(false, 0, SLICE) },
      ]),
    ),
  ]);
  assert.deepEqual(
    framesOf(events).map((f) => f.dts / 90 - 0xffffffd8),
    [0, 40, 80],
  );
});

Deno.test("RtmpInput lets a broken tag through as a ProtocolError for the session to answer", () => {
  const { input } = ingestMessages([]);
  assert.throws(
    () => input.push(videoMessage(0, hex("17 05"))),
    { name: "ProtocolError", protocol: "flv", code: "truncated" },
  );
  assert.throws(
    () => input.push(audioMessage(0, hex("b0 00"))), // SoundFormat 11, Speex
    { name: "ProtocolError", protocol: "flv", code: "unsupported" },
  );
});
